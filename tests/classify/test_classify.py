"""Reply classification on hand-written messages: every label, language and extraction rule."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.classify import BounceKind, ReplyLabel, classify_message
from engine.classify.parse import parse_message, referenced_message_ids, sender_address
from engine.cli.classify import command
from tests.classify.support import reply

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("body", "label"),
    [
        (
            "Not me - talk to Ben Ortiz (ben.ortiz@prospect.example), he runs sales ops.",
            ReplyLabel.REFERRAL,
        ),
        ("Sounds interesting. Can we set up a quick call on Thursday at 2pm?", ReplyLabel.INTEREST),
        ("Not right now, budget is frozen. Circle back next quarter.", ReplyLabel.NOT_NOW),
        ("Thanks, but we're not interested. We built this in-house.", ReplyLabel.NOT_INTERESTED),
        ("Please remove me from your list and stop emailing me.", ReplyLabel.UNSUBSCRIBE),
        ("I'm not the right person for this and not sure who is.", ReplyLabel.WRONG_PERSON),
        ("请联系我们市场部的刘洋 liu.yang@prospect.example，他负责这块。", ReplyLabel.REFERRAL),
        ("我们对这个很感兴趣，能发一下报价和案例吗？", ReplyLabel.INTEREST),
        ("目前预算冻结，下个季度再联系吧。", ReplyLabel.NOT_NOW),
        ("不需要，谢谢。", ReplyLabel.NOT_INTERESTED),
        ("退订", ReplyLabel.UNSUBSCRIBE),
        ("我已经离职了，不清楚现在谁负责。", ReplyLabel.WRONG_PERSON),
        ("我們對這個很感興趣，可以安排演示嗎？", ReplyLabel.INTEREST),
        ("請勿再寄信給我。", ReplyLabel.UNSUBSCRIBE),
        (
            "Ich bin nicht zuständig, wenden Sie sich an Eva Braun (eva.braun@prospect.example).",
            ReplyLabel.REFERRAL,
        ),
        ("Derzeit nicht, melden Sie sich nach den Feiertagen wieder.", ReplyLabel.NOT_NOW),
        ("Merci, mais nous ne sommes pas intéressés.", ReplyLabel.NOT_INTERESTED),
        ("Envoyez-moi vos tarifs, je suis intéressé.", ReplyLabel.INTEREST),
        ("Ya no trabajo en la empresa.", ReplyLabel.WRONG_PERSON),
        ("Contácteme en tres meses, ahora no es buen momento.", ReplyLabel.NOT_NOW),
    ],
)
def test_human_reply_labels(body: str, label: ReplyLabel) -> None:
    result = classify_message(reply(body))
    assert result.label == label, (result.best_guess, result.confidence)
    assert 0.0 <= result.confidence <= 1.0


def test_referral_excludes_replier_sender_and_quoted_addresses() -> None:
    body = "Talk to Ben Ortiz (ben.ortiz@prospect.example).\n\nAnn Lee\nE: ann.lee@prospect.example"
    result = classify_message(reply(body))
    emails = {r.email for r in result.referrals}
    assert "ben.ortiz@prospect.example" in emails
    assert not emails & {"ann.lee@prospect.example", "sam@outreach.example", "zed@customer.example"}
    assert any(r.name == "Ben Ortiz" for r in result.referrals)


def test_referral_from_newly_copied_colleague() -> None:
    result = classify_message(
        reply("Cc'ing Ryan who owns this.", cc="Ryan Park <ryan.park@prospect.example>")
    )
    assert result.label == ReplyLabel.REFERRAL
    assert result.referrals[0].email == "ryan.park@prospect.example"


def test_referral_by_name_only_and_obfuscated_address() -> None:
    result = classify_message(reply("You should talk to Priya Nair, she runs RevOps."))
    assert result.label == ReplyLabel.REFERRAL
    assert any(r.name == "Priya Nair" for r in result.referrals)
    result = classify_message(reply("Contact brian.oc [at] prospect [dot] example instead."))
    assert any(r.email == "brian.oc@prospect.example" for r in result.referrals)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Not now. Circle back next quarter.", date(2025, 4, 1)),
        ("Busy now, reach out in 3 months.", date(2025, 6, 3)),
        ("Bad timing; follow up in two weeks.", date(2025, 3, 17)),
        ("Not now, try again after the holidays.", date(2026, 1, 2)),
        ("Not right now, reconnect in September.", date(2025, 9, 1)),
        ("Budget freeze until mid-June, circle back then.", date(2025, 6, 15)),
        ("Not now, maybe next year.", date(2026, 1, 1)),
        ("Swamped until the end of the month, ping me after.", date(2025, 4, 1)),
        ("明年再说吧，现在不考虑。", date(2026, 1, 1)),
        ("现在太忙了，三个月后再联系。", date(2025, 6, 3)),
        ("春节后再联系吧。", date(2026, 2, 24)),  # a week after the 2026 lunar new year
    ],
)
def test_resume_dates_relative_to_date_header(body: str, expected: date) -> None:
    result = classify_message(reply(body))
    assert result.label == ReplyLabel.NOT_NOW, (result.best_guess, result.confidence)
    assert result.resume_after == expected


def test_auto_reply_by_header_with_return_date_and_alternate() -> None:
    raw = reply(
        "I am out of the office and will be back on Monday, March 10. For urgent matters "
        "please contact Dee Wu at dee.wu@prospect.example.",
        subject="Automatic reply: Who runs sales operations?",
        headers="Auto-Submitted: auto-replied\r\n",
    )
    result = classify_message(raw)
    assert result.label == ReplyLabel.AUTO_REPLY
    assert result.return_date == date(2025, 3, 10)
    assert result.alternate_emails == ("dee.wu@prospect.example",)


@pytest.mark.parametrize(
    ("body", "returns"),
    [
        ("I'm on vacation through Mar 12 with no access to email.", date(2025, 3, 13)),
        (
            "Ich bin bis einschließlich 07.03.2025 nicht im Büro. Ab dem 10.03.2025 wieder da.",
            date(2025, 3, 10),
        ),
        ("Je suis absente du bureau et serai de retour le lundi 10 mars.", date(2025, 3, 10)),
        ("Estoy de vacaciones, sin acceso al correo. Vuelvo el 10 de marzo.", date(2025, 3, 10)),
        ("您好，我正在休假，3月10日返回，期间邮件回复可能会有延迟。", date(2025, 3, 10)),
        ("This mailbox is no longer monitored.", None),
    ],
)
def test_auto_reply_by_text_alone(body: str, returns: date | None) -> None:
    result = classify_message(reply(body))
    assert result.label == ReplyLabel.AUTO_REPLY
    assert result.return_date == returns


@pytest.mark.parametrize(
    "prefix",
    [
        "Abwesenheitsnotiz:",
        "Réponse automatique :",
        "自动回复:",
        "Respuesta automática:",
        "自動回覆:",
    ],
)
def test_localised_auto_reply_subject_prefixes(prefix: str) -> None:
    result = classify_message(reply("Danke.", subject=f"{prefix} Who runs sales operations?"))
    assert result.label == ReplyLabel.AUTO_REPLY


def test_bounce_hard_from_delivery_status() -> None:
    result = classify_message((FIXTURES / "dsn_user_unknown.eml").read_bytes())
    assert result.label == ReplyLabel.BOUNCE
    assert result.bounce is not None
    assert result.bounce.kind == BounceKind.HARD
    assert result.bounce.reason == "user unknown"
    assert [(r.address, r.status) for r in result.bounce.recipients] == [
        ("gone@prospect.example", "5.1.1")
    ]


def test_bounce_soft_mailbox_full_non_standard() -> None:
    result = classify_message((FIXTURES / "qmail_mailbox_full.eml").read_bytes())
    assert result.label == ReplyLabel.BOUNCE
    assert result.bounce is not None
    assert result.bounce.kind == BounceKind.SOFT
    assert result.bounce.reason == "mailbox full"
    assert result.bounce.recipients[0].address == "full@prospect.example"


def test_bounce_with_auto_reply_headers_is_still_a_bounce() -> None:
    raw = (FIXTURES / "dsn_user_unknown.eml").read_bytes()
    result = classify_message(b"Auto-Submitted: auto-replied\r\n" + raw)
    assert result.label == ReplyLabel.BOUNCE


def test_spam_block_is_soft() -> None:
    raw = (FIXTURES / "dsn_user_unknown.eml").read_bytes()
    raw = raw.replace(b"Status: 5.1.1", b"Status: 5.7.1").replace(
        b"550 5.1.1 <gone@prospect.example>: User unknown", b"554 5.7.1 blocked as spam"
    )
    result = classify_message(raw)
    assert result.bounce is not None
    assert result.bounce.kind == BounceKind.SOFT


def test_arf_complaint_is_unsubscribe() -> None:
    result = classify_message((FIXTURES / "arf_complaint.eml").read_bytes())
    assert result.label == ReplyLabel.UNSUBSCRIBE
    assert result.complaint
    assert result.bounce is None


def test_delivery_success_is_auto_reply() -> None:
    raw = (FIXTURES / "dsn_user_unknown.eml").read_bytes()
    raw = raw.replace(b"Action: failed", b"Action: delivered").replace(b"5.1.1", b"2.0.0")
    assert classify_message(raw).label == ReplyLabel.AUTO_REPLY


@pytest.mark.parametrize("charset", ["gb2312", "gbk", "gb18030", "big5"])
def test_chinese_charsets(charset: str) -> None:
    body = "不需要，謝謝。" if charset == "big5" else "不需要，谢谢。"
    assert classify_message(reply(body, charset=charset)).label == ReplyLabel.NOT_INTERESTED


def test_wrong_and_undeclared_charsets() -> None:
    raw = reply("不需要，谢谢。", charset="gb18030").replace(b"charset=gb18030", b"charset=gb2312")
    assert classify_message(raw).label == ReplyLabel.NOT_INTERESTED
    raw = reply("Not interested, merci – no need.").replace(b"; charset=utf-8", b"")
    assert classify_message(raw).label == ReplyLabel.NOT_INTERESTED
    raw = reply("Sch\u00f6n, but not interested.", charset="utf-8").replace(
        b"charset=utf-8", b"charset=iso-8859-1"
    )
    assert classify_message(raw).label == ReplyLabel.NOT_INTERESTED


def test_html_only_quoted_printable_and_encoded_words() -> None:
    result = classify_message((FIXTURES / "html_only.eml").read_bytes())
    assert result.label == ReplyLabel.INTEREST
    assert "pricing" in result.reply_text
    assert "original question" not in result.reply_text


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage",
        b"From: a@b.example\r\nSubject: Re: hi\r\n\r\n",
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n",
        b"From: =?utf-8?B?broken?= <\r\nDate: yesterday\r\nContent-Type: text/plain; "
        b"charset=x-unknown\r\n\r\nnot interested\r\n",
    ],
)
def test_hostile_input_never_raises(raw: bytes) -> None:
    result = classify_message(raw)
    assert result.label in set(ReplyLabel)


def test_ten_megabyte_message_is_not_pathological() -> None:
    import time

    filler = ("x" * 76 + "\r\n") * (10 * 1024 * 1024 // 78)
    raw = reply("Please unsubscribe me.\n\n" + filler)
    start = time.perf_counter()
    result = classify_message(raw)
    assert result.label == ReplyLabel.UNSUBSCRIBE
    assert time.perf_counter() - start < 10


def test_threshold_turns_weak_guesses_into_unclear() -> None:
    result = classify_message(reply("Hmm, maybe."), threshold=0.99)
    assert result.label == ReplyLabel.UNCLEAR
    strong = classify_message(reply("Please remove me from your list."), threshold=1.01)
    assert strong.label == ReplyLabel.UNCLEAR and strong.best_guess == ReplyLabel.UNSUBSCRIBE


def test_parse_helpers() -> None:
    msg = parse_message(
        b"From: Ann <ANN@Prospect.Example>\r\nIn-Reply-To: <a@x.example>\r\n"
        b"References: <b@x.example> <a@x.example>\r\n\r\nhi\r\n"
    )
    assert sender_address(msg) == "ann@prospect.example"
    assert referenced_message_ids(msg) == ["<a@x.example>", "<b@x.example>"]


def test_cli_json_lines_and_bad_file(tmp_path: Path) -> None:
    (tmp_path / "a.eml").write_bytes(reply("Please remove me from your list."))
    (tmp_path / "b.eml").write_bytes(b"")
    result = CliRunner().invoke(command, ["--json", str(tmp_path)])
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["label"] for r in records] == ["unsubscribe", "unclear"]
    assert "error" in records[1] and "error" not in records[0]
    assert set(records[0]) == {
        "file",
        "label",
        "confidence",
        "referrals",
        "resume_after",
        "return_date",
        "alternate_emails",
        "bounce",
    }
    text = CliRunner().invoke(command, [str(tmp_path / "a.eml")])
    assert "unsubscribe" in text.output


@pytest.mark.parametrize(
    ("body", "address", "name"),
    [
        # Japanese: family and given name with a space, right before the address
        (
            "請求書の件は経理課の森 由香が担当です。\n森 由香（mori.yuka@prospect.example）",
            "mori.yuka@prospect.example",
            "森 由香",
        ),
        # Chinese: the name after a job title, right before the address
        (
            "合同的事情请联系我们的采购经理蒋文博（wenbo.jiang@prospect.example）。",
            "wenbo.jiang@prospect.example",
            "蒋文博",
        ),
        # Korean: a name before a title and a particle, the address at the end of the sentence
        (
            "계약 관련해서는 구매팀 송하늘 과장에게 연락해 주세요 (haneul.song@prospect.example).",
            "haneul.song@prospect.example",
            "송하늘",
        ),
    ],
)
def test_a_referred_persons_name_in_languages_without_spaces(
    body: str, address: str, name: str
) -> None:
    result = classify_message(reply(body, charset="utf-8"))
    assert result.label == ReplyLabel.REFERRAL, (result.best_guess, result.confidence)
    assert (address, name) in {(r.email, r.name) for r in result.referrals}


def test_a_contact_card_label_is_not_a_name() -> None:
    body = "経費の件は総務部長が適任です。\n連絡先：somu@prospect.example"
    result = classify_message(reply(body))
    assert [r.name for r in result.referrals if r.email == "somu@prospect.example"] == [None]
