"""One hand-written case per rule added for generalisation (bounce reasons, intents, names)."""

from __future__ import annotations

from datetime import date

import pytest

from engine.classify import BounceKind, ReplyLabel, classify_message
from engine.classify.bounces import failed_command
from tests.classify.support import reply


def dsn(status: str, diagnostic: str, *, extra: str = "", headers: str = "") -> bytes:
    """A minimal RFC 3464 report for gone@far.example with the given status and diagnostic."""
    text = (
        "From: Mail Delivery System <MAILER-DAEMON@relay.example>\r\n"
        "To: sam@outreach.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Date: Mon, 03 Mar 2025 10:00:00 +0000\r\nMIME-Version: 1.0\r\n" + headers + ""
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        + extra
        + "\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; relay.example\r\n\r\n"
        "Final-Recipient: rfc822; gone@far.example\r\nAction: failed\r\n"
        f"Status: {status}\r\nDiagnostic-Code: smtp; {diagnostic}\r\n\r\n--B--\r\n"
    )
    return text.encode()


def kind_and_reason(raw: bytes) -> tuple[BounceKind, str]:
    result = classify_message(raw)
    assert result.bounce is not None, result.label
    return result.bounce.kind, result.bounce.reason


@pytest.mark.parametrize(
    ("status", "diagnostic", "extra", "kind", "reason"),
    [
        # "user unknown" words with a bad-mailbox code: the address is gone
        ("5.1.1", "550 5.1.1 No such mailbox here", "", BounceKind.HARD, "user unknown"),
        # the same words answering DATA: a filter refused the content
        (
            "5.0.0",
            "550 Recipient unknown",
            "far.example said: 550 Recipient unknown (in reply to end of DATA command)",
            BounceKind.SOFT,
            "content filter",
        ),
        # at RCPT TO the words are trusted even with a generic code
        (
            "5.0.0",
            "550 mailbox unknown",
            "far.example said: 550 mailbox unknown (in reply to RCPT TO command)",
            BounceKind.HARD,
            "user unknown",
        ),
        # a mailbox-status (x.2.x) or security (x.7.x) code contradicts the words
        ("5.2.1", "550 5.2.1 Unknown recipient", "", BounceKind.SOFT, "content filter"),
        ("5.7.1", "550 5.7.1 user unknown", "", BounceKind.SOFT, "content filter"),
        # full mailbox wins over a bad-mailbox code (Sisimai checks it first)
        (
            "5.1.1",
            "552 storage quota exceeded for this account",
            "",
            BounceKind.SOFT,
            "mailbox full",
        ),
        # a disabled account still exists
        ("5.0.0", "550 this account has been suspended", "", BounceKind.SOFT, "suspended"),
        # a failing local delivery program is not a bad address
        (
            "5.1.1",
            "x-unix; Command output: procmail: cannot write to spool",
            "",
            BounceKind.SOFT,
            "mailer error",
        ),
        # a DNS answer that failed for now is not a missing domain
        (
            "5.4.4",
            "Name service error for name=far.example type=MX: Host not found, try again",
            "",
            BounceKind.SOFT,
            "dns failure",
        ),
        # the refusal concerns our sender address
        ("5.1.8", "553 5.1.8 sender domain has no DNS records", "", BounceKind.SOFT, "rejected"),
        # Exchange Online directory-based edge blocking means "no such recipient"
        (
            "5.4.1",
            "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)",
            "",
            BounceKind.HARD,
            "user unknown",
        ),
        # Lotus Domino has its own wording for a missing person
        (
            "5.0.0",
            "User jo (gone@far.example) not listed in Domino Directory",
            "",
            BounceKind.HARD,
            "user unknown",
        ),
        # a null MX (RFC 7505) as Exim words it
        (
            "5.0.0",
            "an MX or SRV record indicated no SMTP service",
            "",
            BounceKind.HARD,
            "not accepting mail",
        ),
        # moved (x.1.6) is more precise than the words
        (
            "5.1.6",
            "551 User not local; please try another path, no such user",
            "",
            BounceKind.HARD,
            "moved",
        ),
        # a 4.x.x answer is temporary unless the code itself names a bad mailbox
        ("4.3.0", "451 4.3.0 local error writing queue file", "", BounceKind.SOFT, "system error"),
    ],
)
def test_bounce_reason_rules(
    status: str, diagnostic: str, extra: str, kind: BounceKind, reason: str
) -> None:
    assert kind_and_reason(dsn(status, diagnostic, extra=extra)) == (kind, reason)


def test_relay_wrapped_code_uses_the_innermost_status() -> None:
    raw = dsn("5.0.0", "5.1.0 - Unknown address error 550-'5.2.2 quota exceeded, mailbox full'")
    assert kind_and_reason(raw) == (BounceKind.SOFT, "mailbox full")


def test_filtering_gateway_user_unknown_is_a_filter() -> None:
    raw = dsn("", "550 Unknown user gone@far.example", headers="X-Mailer: Barracuda gateway\r\n")
    assert kind_and_reason(raw)[0] == BounceKind.SOFT


def test_version_numbers_are_not_status_codes() -> None:
    raw = dsn("", "User gone not listed in public Name & Address Book (Lotus SMTP MTA v4.6.1)")
    assert kind_and_reason(raw) == (BounceKind.HARD, "user unknown")


def test_failed_command_from_transcripts() -> None:
    assert failed_command(">>> RCPT To:<a@b.example>\n<<< 550 5.1.1 User unknown") == "RCPT"
    assert failed_command(">>> DATA\n<<< 550 No such user here") == "DATA"
    assert (
        failed_command(
            "SMTP error from remote mail server after MAIL FROM:<x@y>: 553 sender refused"
        )
        == "MAIL"
    )
    assert failed_command("Remote host said: 550 Unknown user [RCPT_TO]") == "RCPT"


def test_per_recipient_reasons_in_free_text_report() -> None:
    raw = (
        b"From: MAILER-DAEMON@relay.example\r\nTo: sam@outreach.example\r\n"
        b"Subject: failure notice\r\nDate: Mon, 03 Mar 2025 10:00:00 +0000\r\n\r\n"
        b"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n\r\n"
        b"<full@far.example>:\r\nRemote host said: 552 5.2.2 mailbox full\r\n\r\n"
        b"<gone@far.example>:\r\nRemote host said: 550 5.1.1 no such user\r\n"
    )
    assert kind_and_reason(raw)[0] == BounceKind.HARD


def test_bounce_of_a_bounce_lists_both_recipients() -> None:
    inner = dsn("5.1.1", "550 5.1.1 no such user").replace(b"gone@far.example", b"old@near.example")
    outer = dsn("5.1.1", "550 5.1.1 no such user").replace(
        b"\r\n--B--\r\n",
        b"\r\n--B\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--B--\r\n",
    )
    result = classify_message(outer)
    assert result.bounce is not None
    assert {r.address for r in result.bounce.recipients} == {"gone@far.example", "old@near.example"}


def test_truncated_ses_complaint_json() -> None:
    raw = (
        b"From: no-reply@sns.example\r\nTo: sam@outreach.example\r\nSubject: Notification\r\n"
        b"Date: Mon, 03 Mar 2025 10:00:00 +0000\r\n\r\n"
        b'{"notificationType":"Complaint","complaint":{"complainedRecipients":[{"emailAd'
    )
    result = classify_message(raw)
    assert result.complaint and result.label == ReplyLabel.UNSUBSCRIBE


@pytest.mark.parametrize(
    ("body", "label"),
    [
        ("Do not contact.", ReplyLabel.UNSUBSCRIBE),
        ("Kindly drop our whole team from your database, thank you.", ReplyLabel.UNSUBSCRIBE),
        ("Bitte entfernen Sie mich aus Ihrem Verteiler.", ReplyLabel.UNSUBSCRIBE),
        ("Merci de retirer mon adresse de votre fichier.", ReplyLabel.UNSUBSCRIBE),
        ("Por favor, sáqueme de su lista.", ReplyLabel.UNSUBSCRIBE),
        ("请把我从邮件列表里删除。", ReplyLabel.UNSUBSCRIBE),
        ("Nope, and likely not ever. We're consolidating vendors.", ReplyLabel.NOT_INTERESTED),
        ("我们团队规模比较小，用不着这种系统。", ReplyLabel.NOT_INTERESTED),
        ("Honestly this isn't a fit for how we work.", ReplyLabel.NOT_INTERESTED),
        ("We're not really a good fit. No need to follow up.", ReplyLabel.NOT_INTERESTED),
        ("Please don't follow up on this one.", ReplyLabel.NOT_INTERESTED),
        (
            "Funny timing. Could you share the latest pricing deck? 20 min Friday?",
            ReplyLabel.INTEREST,
        ),
        ("Please send over the product brochure, we can talk after that.", ReplyLabel.INTEREST),
        ("You've got the wrong Sam - I run facilities, not in sales.", ReplyLabel.WRONG_PERSON),
        (
            "That isn't my area at all, sorry, and I can't say who handles it.",
            ReplyLabel.WRONG_PERSON,
        ),
        ("I moved over to the finance team, nothing to do with CRM now.", ReplyLabel.WRONG_PERSON),
        ("Je ne suis pas en charge de ce sujet.", ReplyLabel.WRONG_PERSON),
        ("我已经转岗了，这块不归我管。", ReplyLabel.WRONG_PERSON),
        ("Try me again in Q4, we're mid-migration.", ReplyLabel.NOT_NOW),
    ],
)
def test_added_intent_phrasings(body: str, label: ReplyLabel) -> None:
    result = classify_message(reply(body))
    assert result.label == label, (result.best_guess, result.confidence)


def test_wrapped_gmail_attribution_is_not_reply_text() -> None:
    raw = reply("Thanks, but we're all set.").replace(b" wrote:\r\n", b"\r\nwrote:\r\n")
    assert classify_message(raw).label == ReplyLabel.NOT_INTERESTED


def test_chinese_attribution_with_name_first_is_not_reply_text() -> None:
    raw = reply(
        "请不要再给我发邮件。\n\n王芳 <sam@outreach.example> 于 2025年2月28日 周五 上午9:00写道："
    )
    result = classify_message(raw)
    assert result.label == ReplyLabel.UNSUBSCRIBE
    assert "写道" not in result.reply_text


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ("Try Nora Quint (nora.quint@prospect.example), she owns routing.", "Nora Quint"),
        ("Cc'ing Tomas Reyes, he runs our SDR team.", "Tomas Reyes"),
        (
            "Bitte wenden Sie sich an Herrn Jonas Weber, jonas.weber@prospect.example.",
            "Jonas Weber",
        ),
    ],
)
def test_referral_names_lose_cue_words(body: str, name: str) -> None:
    result = classify_message(reply(body, cc="Tomas Reyes <tomas.reyes@prospect.example>"))
    assert result.label == ReplyLabel.REFERRAL
    assert name in {r.name for r in result.referrals}


def test_contractions_and_months_are_not_names() -> None:
    result = classify_message(reply("We're slammed. Mid-March would be better, try me then."))
    assert result.label == ReplyLabel.NOT_NOW
    assert result.resume_after == date(2025, 3, 15)
    assert result.referrals == ()


# -- someone else's absence next to a referral ------------------------------------------------


@pytest.mark.parametrize(
    ("body", "referred"),
    [
        (
            "Dana Whitfield owns that, but she's on parental leave until next month, so Omar "
            "Reyes (omar.reyes@prospect.example) is the one to ask.",
            "omar.reyes@prospect.example",
        ),
        (
            "Priya is out until March, so please talk to Jonah Blake "
            "(jonah.blake@prospect.example) instead.",
            "jonah.blake@prospect.example",
        ),
        (
            "My manager is travelling until next week; reach out to Carla Mendes at "
            "carla.mendes@prospect.example.",
            "carla.mendes@prospect.example",
        ),
        (
            "Elle est en congé jusqu'en avril, contactez Hugo Martin "
            "(hugo.martin@prospect.example).",
            "hugo.martin@prospect.example",
        ),
        # "likely the right contact": an adverb between the name and the cue
        (
            "Rafael Ibarra (rafael.ibarra@prospect.example) is likely the right contact for this.",
            "rafael.ibarra@prospect.example",
        ),
    ],
)
def test_someone_elses_absence_does_not_outweigh_a_referral(body: str, referred: str) -> None:
    result = classify_message(reply(body))
    assert result.label == ReplyLabel.REFERRAL, (result.best_guess, result.confidence)
    assert referred in {r.email for r in result.referrals}
    assert result.resume_after is None


@pytest.mark.parametrize(
    ("body", "resume"),
    [
        # the absent person is the only one named: still a "not now"
        ("Dana is travelling until next month, check back then.", date(2025, 4, 1)),
        ("She's on leave until April; try again after that.", date(2025, 4, 1)),
    ],
)
def test_absence_without_another_person_to_talk_to_stays_not_now(body: str, resume: date) -> None:
    result = classify_message(reply(body))
    assert result.label == ReplyLabel.NOT_NOW, (result.best_guess, result.confidence)
    assert result.resume_after == resume


def test_own_timing_beside_someone_to_talk_to_meanwhile_is_a_referral() -> None:
    # "In the meantime talk to Omar": the replier points us to Omar now; their own busy
    # quarter is no absence of Omar's and does not hide him.
    body = (
        "I'm swamped until next quarter; in the meantime talk to Omar Reyes "
        "(omar.reyes@prospect.example)."
    )
    result = classify_message(reply(body))
    assert result.label == ReplyLabel.REFERRAL, (result.best_guess, result.confidence)
    assert "omar.reyes@prospect.example" in {r.email for r in result.referrals}


# -- having left the company, with the month it happened ----------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "I left Fabrikam in March to start my own firm.",
        "I left back in January; update your CRM.",
        "I moved on from Contoso at the end of January, sorry.",
        "I've left Northwind, so this isn't for me anymore.",
        "I'm no longer there, good luck with it.",
        "Ich habe Contoso im Januar verlassen.",
        "J'ai quitté Fabrikam en janvier, désolé.",
        "Dejé Northwind en enero, lo siento.",
        "我1月就离职了，这事帮不上。",
        "我一月份就離職了，幫不上忙。",
    ],
)
def test_having_left_in_a_month_is_wrong_person(body: str) -> None:
    result = classify_message(reply(body))
    assert result.label == ReplyLabel.WRONG_PERSON, (result.best_guess, result.confidence)
    assert result.resume_after is None


def test_leaving_a_message_is_not_leaving_the_company() -> None:
    result = classify_message(reply("I've left you a voicemail, let's talk tomorrow at 10am."))
    assert result.label == ReplyLabel.INTEREST, (result.best_guess, result.confidence)


# -- asking to be taken off the list, with a complaint about how often we wrote -----------------


@pytest.mark.parametrize(
    "body",
    [
        "Please take me off your list - that's your third message in ten days.",
        "Could you take me off the mailing list? 5 emails in 2 weeks is plenty.",
        "Remove my address from your list. Six emails within a month is too many.",
        "Stop emailing me; this is the fourth follow-up in three weeks.",
        "Kindly take us off your mailing list.",
    ],
)
def test_removal_requests_are_confident_unsubscribes(body: str) -> None:
    result = classify_message(reply(body))
    assert result.label == ReplyLabel.UNSUBSCRIBE, (result.best_guess, result.confidence)
    assert result.confidence >= 0.8


def test_a_time_to_write_again_is_still_not_now() -> None:
    result = classify_message(reply("Not now, send me a note in two weeks."))
    assert result.label == ReplyLabel.NOT_NOW
    assert result.resume_after == date(2025, 3, 17)


# -- a person's reply that names addresses is not a bounce ---------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        # between commas (what a loose flufl.bounce heuristic takes for a failed address)
        "Not my area - ask Rosa Vidal, rosa.vidal@prospect.example, she manages our warehouse.",
        "Try Piet Moll (piet.moll@prospect.example) for anything fleet related.",
        "Wrong desk - kofi.mensah@prospect.example handles vendor onboarding.",
        "Either Lena Berg, lena.berg@prospect.example, or Ravi Nair, ravi.nair@prospect.example, "
        "can help.",
        "Not me; the owner is Jo Park - jo.park@prospect.example, and the backup is "
        "ops@prospect.example, ext. 4.",
    ],
)
def test_referral_with_addresses_is_not_a_bounce(body: str) -> None:
    result = classify_message(reply(body))
    assert result.bounce is None
    assert result.label == ReplyLabel.REFERRAL, (result.best_guess, result.confidence)


@pytest.mark.parametrize(
    ("body", "label"),
    [
        (
            "Happy to chat, Thursday at 3pm works.\n\n--\nAnn Lee, ann.lee@prospect.example, "
            "Head of Ops",
            ReplyLabel.INTEREST,
        ),
        (
            "Thanks, we're not interested.\n\n-----Original Message-----\n"
            "From: Sam Rep <sam@outreach.example>\nSent: Friday\n\n"
            "Ask around: Mia Holt, mia.holt@customer.example, says it paid off.",
            ReplyLabel.NOT_INTERESTED,
        ),
    ],
)
def test_addresses_in_signature_or_quoted_original_are_not_a_bounce(
    body: str, label: ReplyLabel
) -> None:
    result = classify_message(reply(body))
    assert result.bounce is None
    assert result.label == label, (result.best_guess, result.confidence)


def test_out_of_office_naming_a_colleague_is_not_a_bounce() -> None:
    # RFC 3834 responders send "Auto-Submitted: auto-replied" too: not a sign of a mail system
    raw = reply(
        "I am out of the office until 10 March with limited access to email. "
        "For urgent matters contact Rosa Vidal, rosa.vidal@prospect.example, in my absence.",
        subject="Automatic reply: Who runs sales operations?",
        headers="Auto-Submitted: auto-replied\r\n",
    )
    result = classify_message(raw)
    assert result.bounce is None
    assert result.label == ReplyLabel.AUTO_REPLY


def mta_text_bounce(subject: str, body: str, *, sender: str = "Mail Delivery System") -> bytes:
    """A plain-text report from an MTA: no DSN part, no X-Failed-Recipients."""
    return (
        f"From: {sender} <MAILER-DAEMON@mx.relay.example>\r\nTo: sam@outreach.example\r\n"
        f"Subject: {subject}\r\nDate: Mon, 03 Mar 2025 10:00:00 +0000\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\n" + body.replace("\n", "\r\n")
    ).encode()


@pytest.mark.parametrize(
    ("raw", "address", "kind"),
    [
        (
            mta_text_bounce(
                "Mail delivery failed: returning message to sender",
                "This message was created automatically by mail delivery software.\n\n"
                "A message that you sent could not be delivered to one or more of its\n"
                "recipients. This is a permanent error. The following address(es) failed:\n\n"
                "  gone@far.example\n    host mx.far.example [192.0.2.7]\n"
                "    SMTP error from remote mail server after RCPT TO:<gone@far.example>:\n"
                "    550 5.1.1 User unknown\n",
            ),
            "gone@far.example",
            BounceKind.HARD,
        ),
        (
            mta_text_bounce(
                "Returned mail: see transcript for details",
                "The original message was received from outreach.example.\n\n"
                "   ----- The following addresses had permanent fatal errors -----\n"
                "<gone@far.example>\n    (reason: 550 Requested action not taken: "
                "mailbox unavailable)\n",
            ),
            "gone@far.example",
            BounceKind.HARD,
        ),
        (
            # a person-like sender name, but the subject and the wording are a mailer's
            mta_text_bounce(
                "Undeliverable: Who runs sales operations?",
                "Delivery has failed to these recipients or groups:\n\n"
                "full@far.example\nThe recipient's mailbox is full and can't accept messages "
                "now. Please try resending later.\n",
                sender="Ops Mail",
            ),
            "full@far.example",
            BounceKind.SOFT,
        ),
    ],
)
def test_plain_text_mta_bounces_are_still_bounces(
    raw: bytes, address: str, kind: BounceKind
) -> None:
    result = classify_message(raw)
    assert result.bounce is not None, result.label
    assert result.bounce.kind == kind, result.bounce.reason
    assert [r.address for r in result.bounce.recipients] == [address]
