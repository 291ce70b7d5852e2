"""Replies in the eleven languages Spear reads, one test per kind of mistake a reader makes.

Every message here is written for these tests. The quoted original under each reply asks
whether the prospect is interested, who owns purchasing, and says how to unsubscribe, so a
reply read from its quote instead of its own words comes out wrong.
"""

from __future__ import annotations

import pytest

from engine.classify import ReplyLabel, classify_message
from engine.classify.language import chinese_script, identify, supported
from engine.classify.quotes import split_reply

ORIGINAL = (
    "Hi Dana,\n\nAre you interested in a short demo? Who owns purchasing at your company?\n"
    "If this is not for you, reply unsubscribe.\n\nSam Rep\n"
)
# Each mailer's and locale's way of introducing the quoted original.
QUOTES = {
    "gmail-wrapped": (
        "On Tue, 3 Mar 2026 at 08:12, Sam Rep\n<sam@outreach.example> wrote:\n\n"
        + "".join(f"> {line}\n" for line in ORIGINAL.split("\n"))
    ),
    "outlook-en": "From: Sam Rep <sam@outreach.example>\nSent: Tuesday, March 3, 2026 8:12 AM\n"
    "To: Dana <dana@prospect.example>\nSubject: Purchasing\n\n" + ORIGINAL,
    "outlook-de": "Von: Sam Rep <sam@outreach.example>\nGesendet: Dienstag, 3. März 2026 08:12\n"
    "An: Dana <dana@prospect.example>\nBetreff: Einkauf\n\n" + ORIGINAL,
    "outlook-fr": "De : Sam Rep <sam@outreach.example>\nEnvoyé : mardi 3 mars 2026 08:12\n"
    "À : Dana <dana@prospect.example>\nObjet : Achats\n\n" + ORIGINAL,
    "outlook-es": "De: Sam Rep <sam@outreach.example>\nEnviado: martes, 3 de marzo de 2026 8:12\n"
    "Para: Dana <dana@prospect.example>\nAsunto: Compras\n\n" + ORIGINAL,
    "outlook-pt": "De: Sam Rep <sam@outreach.example>\nEnviado: terça-feira, 3 de março de 2026\n"
    "Para: Dana <dana@prospect.example>\nAssunto: Compras\n\n" + ORIGINAL,
    "outlook-it": "Da: Sam Rep <sam@outreach.example>\nInviato: martedì 3 marzo 2026 08:12\n"
    "A: Dana <dana@prospect.example>\nOggetto: Acquisti\n\n" + ORIGINAL,
    "outlook-nl": "Van: Sam Rep <sam@outreach.example>\nVerzonden: dinsdag 3 maart 2026 08:12\n"
    "Aan: Dana <dana@prospect.example>\nOnderwerp: Inkoop\n\n" + ORIGINAL,
    "outlook-ja": "差出人: Sam Rep <sam@outreach.example>\n送信日時: 2026年3月3日 8:12\n"
    "宛先: Dana <dana@prospect.example>\n件名: 購買について\n\n" + ORIGINAL,
    "outlook-ko": "보낸 사람: Sam Rep <sam@outreach.example>\n보낸 날짜: 2026년 3월 3일 화요일 "
    "오전 8:12\n받는 사람: Dana <dana@prospect.example>\n제목: 구매 문의\n\n" + ORIGINAL,
    "outlook-zh": "发件人: Sam Rep <sam@outreach.example>\n发送时间: 2026年3月3日 8:12\n"
    "收件人: Dana <dana@prospect.example>\n主题: 采购\n\n" + ORIGINAL,
    "outlook-zh-hant": "寄件者: Sam Rep <sam@outreach.example>\n寄件日期: 2026年3月3日 8:12\n"
    "收件者: Dana <dana@prospect.example>\n主旨: 採購\n\n" + ORIGINAL,
    "qq": '------------------ 原始邮件 ------------------\n发件人: "Sam Rep"<sam@outreach'
    '.example>;\n发送时间: 2026年3月3日(星期二) 上午8:12\n收件人: "Dana"<dana@prospect.example>;'
    "\n主题: 采购\n\n" + ORIGINAL,
    "daum": "----- 원본 메일 -----\n보낸사람: Sam Rep <sam@outreach.example>\n받는사람: Dana "
    "<dana@prospect.example>\n날짜: 2026년 3월 3일 화요일, 8시 12분\n제목: 구매 문의\n\n"
    + ORIGINAL,
    "iphone-pt": "Em 3 de mar. de 2026, à(s) 08:12, Sam Rep <sam@outreach.example> escreveu:\n\n"
    + "".join(f"> {line}\n" for line in ORIGINAL.split("\n")),
    "gmail-it": "Il giorno mar 3 mar 2026 alle ore 08:12 Sam Rep\n<sam@outreach.example> ha "
    "scritto:\n\n" + "".join(f"> {line}\n" for line in ORIGINAL.split("\n")),
    "gmail-nl": "Op di 3 mrt 2026 om 08:12 schreef Sam Rep\n<sam@outreach.example>:\n\n"
    + "".join(f"> {line}\n" for line in ORIGINAL.split("\n")),
    "gmail-ja": "2026年3月3日(火) 8:12 Sam Rep <sam@outreach.example>:\n\n"
    + "".join(f"> {line}\n" for line in ORIGINAL.split("\n")),
    "gmail-ko": "2026년 3월 3일 (화) 오전 8:12, Sam Rep <sam@outreach.example>님이 작성:\n\n"
    + "".join(f"> {line}\n" for line in ORIGINAL.split("\n")),
    "gmail-fr": "Le mar. 3 mars 2026 à 08:12, Sam Rep <sam@outreach.example> a\nécrit :\n\n"
    + "".join(f"> {line}\n" for line in ORIGINAL.split("\n")),
    "none": "",
}


def message(
    body: str,
    *,
    quote: str = "gmail-wrapped",
    subject: str = "Re: Purchasing",
    headers: str = "",
    cc: str | None = None,
) -> bytes:
    head = (
        "From: Dana Voss <dana@prospect.example>\r\nTo: Sam Rep <sam@outreach.example>\r\n"
        f"Subject: {subject}\r\nDate: Wed, 04 Mar 2026 09:30:00 +0100\r\n"
        "Message-ID: <d1@prospect.example>\r\nIn-Reply-To: <s1@outreach.example>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
    )
    if cc:
        head += f"Cc: {cc}\r\n"
    text = body + ("\n\n" + QUOTES[quote] if QUOTES[quote] else "")
    return (head + headers + "\r\n" + text.replace("\n", "\r\n")).encode("utf-8")


def assert_label(raw: bytes, label: ReplyLabel) -> None:
    result = classify_message(raw)
    assert result.label == label, (result.label, result.best_guess, result.confidence)
    assert result.confidence >= 0.6


# -- issue 15: requests to stop that never depend on the classifier's mood ---------------------


@pytest.mark.parametrize(
    ("subject", "body", "headers"),
    [
        ("unsubscribe", "This message was automatically generated by Gmail.", ""),
        ("Unsubscribe", "", "Auto-Submitted: auto-generated\r\n"),  # Yahoo/AOL style: empty
        ("unsubscribe", "Sent from Outlook.com on behalf of a user.", ""),
        ("Unsubscribe", "\n", "X-Mailer: iCloud MailServer\r\n"),
        ("unsubscribe", "This unsubscribe request was sent by Fastmail for its user.", ""),
        ("Abmelden", "", "Auto-Submitted: auto-generated\r\n"),
        ("désabonner", "", ""),
        ("darme de baja", "", ""),
        ("descadastrar", "", ""),
        ("cancellami", "", "Precedence: bulk\r\n"),
        ("uitschrijven", "", ""),
        ("退订", "", "Auto-Submitted: auto-replied\r\n"),
        ("配信停止", "", ""),
        ("수신거부", "", ""),
    ],
)
def test_provider_and_subject_requests_are_unsubscribe(
    subject: str, body: str, headers: str
) -> None:
    assert_label(
        message(body, quote="none", subject=subject, headers=headers), ReplyLabel.UNSUBSCRIBE
    )


@pytest.mark.parametrize(
    "word",
    [
        "remove",
        "Stop",
        "UNSUBSCRIBE",
        "Take me off",
        "please remove me",
        "配信停止",
        "退订",
        "수신거부",
        "abmelden",
        "Désabonner SVP",
        "descadastrar",
        "cancellami",
        "uitschrijven graag",
    ],
)
@pytest.mark.parametrize("quote", ["gmail-wrapped", "outlook-en", "gmail-fr", "qq"])
def test_short_imperative_above_any_quote_is_unsubscribe(word: str, quote: str) -> None:
    assert_label(message(word, quote=quote), ReplyLabel.UNSUBSCRIBE)


# -- 1: quoted text must not leak into the reading ---------------------------------------------


@pytest.mark.parametrize(
    ("body", "quote"),
    [
        ("Thanks, but this isn't something we need.", "outlook-en"),
        ("Danke, aber dafür haben wir keinen Bedarf.", "outlook-de"),
        ("Merci, mais ce n'est pas pour nous.", "outlook-fr"),
        ("Gracias, pero ya tenemos un proveedor.", "outlook-es"),
        ("Obrigada, mas já temos uma ferramenta para isso.", "outlook-pt"),
        ("Grazie, ma abbiamo già un fornitore.", "outlook-it"),
        ("Bedankt, maar we hebben geen behoefte.", "outlook-nl"),
        ("ご提案ありがとうございます。今回は必要ございません。", "outlook-ja"),
        ("제안 감사합니다만 필요 없습니다.", "outlook-ko"),
        ("谢谢，我们暂不需要。", "outlook-zh"),
        ("謝謝，我們已經有類似的工具了。", "outlook-zh-hant"),
        ("不考虑，谢谢。", "qq"),
        ("도입 계획이 없습니다.", "daum"),
        ("Não temos interesse, obrigado.", "iphone-pt"),
        ("No grazie, non ci interessa.", "gmail-it"),
        ("Nee, dank je. Niet relevant voor ons.", "gmail-nl"),
        ("結構です。", "gmail-ja"),
        ("괜찮습니다.", "gmail-ko"),
        ("Non merci.", "gmail-fr"),
    ],
)
def test_one_line_refusal_is_read_from_its_own_words(body: str, quote: str) -> None:
    assert_label(message(body, quote=quote), ReplyLabel.NOT_INTERESTED)


def test_bottom_posted_and_inline_answers_are_read() -> None:
    quoted = "".join(f"> {line}\n" for line in ORIGINAL.split("\n"))
    bottom = "On Tue, 3 Mar 2026 at 08:12, Sam Rep <sam@outreach.example> wrote:\n" + quoted
    assert_label(message(bottom + "\nNo need, we run this ourselves.\n", quote="none"),
                 ReplyLabel.NOT_INTERESTED)  # fmt: skip
    inline = (
        "On Tue, 3 Mar 2026 at 08:12, Sam Rep <sam@outreach.example> wrote:\n"
        "> Are you interested in a short demo?\n\nYes, happy to see one next week.\n\n"
        "> Who owns purchasing at your company?\n\nI do.\n"
    )
    assert_label(message(inline, quote="none"), ReplyLabel.INTEREST)


def test_split_reply_stops_at_every_localised_header() -> None:
    for name, quote in QUOTES.items():
        if not quote:
            continue
        parts = split_reply("Short answer here.\n\n" + quote)
        assert parts.unquoted == "Short answer here.", name
        assert parts.quote_found, name


# -- 2: interest with a colleague copied in ----------------------------------------------------


@pytest.mark.parametrize(
    ("body", "cc"),
    [
        (
            "Sounds useful. I'm copying our controller, Nora Diaz, who would run the evaluation "
            "with me. Could we do Thursday at 10am?",
            "Nora Diaz <nora.diaz@prospect.example>",
        ),
        (
            "Klingt interessant. Ich nehme Jonas Weber in Kopie, er wäre beim Termin dabei. "
            "Passt Ihnen Dienstag um 15 Uhr?",
            "Jonas Weber <jonas.weber@prospect.example>",
        ),
        (
            "C'est intéressant. Je mets en copie Claire Dubois qui participera à l'appel. "
            "Êtes-vous disponible jeudi ?",
            "Claire Dubois <claire.dubois@prospect.example>",
        ),
        (
            "挺感兴趣的，我把同事王磊也抄送进来了，我们一起聊聊，周三下午方便吗？",
            "王磊 <wang.lei@prospect.example>",
        ),
    ],
)
def test_interest_with_a_colleague_copied_is_interest(body: str, cc: str) -> None:
    assert_label(message(body, cc=cc), ReplyLabel.INTEREST)


# -- 3: left or retired, nobody named ----------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "I retired at the end of last month, so I can't help with this.",
        "I no longer work here.",
        "Ich bin seit Kurzem im Ruhestand.",
        "Je suis à la retraite depuis janvier.",
        "Me jubilé el año pasado.",
        "Já não trabalho nessa empresa.",
        "Sono in pensione da gennaio.",
        "Ik ben inmiddels met pensioen.",
        "先月末で退職いたしました。",
        "저는 지난달 퇴사했습니다.",
        "我已经退休了。",
    ],
)
def test_left_or_retired_without_a_name_is_wrong_person(body: str) -> None:
    assert_label(message(body), ReplyLabel.WRONG_PERSON)


# -- 4 and 5: machine-written notes without RFC 3834 headers -----------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "Thank you for contacting the service desk. Your request has been received and given "
        "ticket number 4417. We will respond within 48 hours.",
        "您好，这是系统自动回复：您的邮件已收到，我们将在2个工作日内处理。",
        "本メールは送信専用アドレスから自動送信されています。お問い合わせを受け付けました。",
        "Dies ist eine automatisch erstellte Nachricht. Wir melden uns so bald wie möglich.",
        "Mensagem automática: recebemos sua solicitação, protocolo 5521.",
        "자동응답 메일입니다. 문의가 접수되었습니다.",
    ],
)
def test_machine_acknowledgements_are_auto_replies(body: str) -> None:
    assert_label(message(body, quote="none"), ReplyLabel.AUTO_REPLY)


@pytest.mark.parametrize(
    ("body", "alternate"),
    [
        (
            "I'm out of the office until 14 May with no access to email. For anything urgent "
            "please contact Pat Ng at pat.ng@prospect.example.",
            "pat.ng@prospect.example",
        ),
        (
            "This mailbox is no longer monitored. My new address is dana.voss@newco.example.",
            "dana.voss@newco.example",
        ),
        (
            "Ich bin bis zum 3. Juni nicht im Büro. In dringenden Fällen wenden Sie sich bitte "
            "an eva.kraus@prospect.example.",
            "eva.kraus@prospect.example",
        ),
        (
            "Je suis absente du bureau jusqu'au 12 mai. En cas d'urgence, contactez "
            "luc.morel@prospect.example.",
            "luc.morel@prospect.example",
        ),
        (
            "我正在休假，5月6日返回办公室。紧急事务请联系 li.na@prospect.example。",
            "li.na@prospect.example",
        ),
        (
            "6月10日まで不在にしております。お急ぎの場合は suzuki@prospect.example まで"
            "ご連絡ください。",
            "suzuki@prospect.example",
        ),
    ],
)
def test_notes_naming_an_alternate_are_auto_replies(body: str, alternate: str) -> None:
    result = classify_message(message(body, quote="none"))
    assert result.label == ReplyLabel.AUTO_REPLY, (result.best_guess, result.confidence)
    assert alternate in result.alternate_emails


# -- 6: short refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "Pass.",
        "Nope, thanks.",
        "We have our own system for that.",
        "不用。",
        "不要",
        "Brauchen wir nicht.",
        "Obrigado, mas dispenso.",
        "No grazie.",
        "Nee, dank je.",
        "No, gracias.",
    ],
)
def test_short_refusals_are_not_interested(body: str) -> None:
    assert_label(message(body), ReplyLabel.NOT_INTERESTED)


# -- 7: plain interest -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "I'd like to learn more; could you send over a few times for a call next week?",
        "Gerne mehr dazu – schicken Sie mir ein paar Terminvorschläge?",
        "Ça m'intéresse, envoyez-moi quelques créneaux.",
        "Me interesa, ¿podemos agendar una llamada?",
        "Tenho interesse, podemos marcar uma reunião na terça?",
        "Mi interessa, fissiamo una call la prossima settimana?",
        "Klinkt interessant, kunnen we een afspraak plannen?",
        "ぜひ一度お打ち合わせをお願いしたいです。",
        "관심 있습니다. 다음 주에 미팅 가능할까요?",
        "有兴趣，可以约个时间聊聊吗？",
    ],
)
def test_plain_interest_is_interest(body: str) -> None:
    assert_label(message(body), ReplyLabel.INTEREST)


# -- 8: referrals by name only, or name and phone ----------------------------------------------


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ("Talk to Priya Raman, she runs procurement here.", "Priya Raman"),
        ("Try Marcus Bell on 555-0143, he owns vendor selection.", "Marcus Bell"),
        ("Bitte wenden Sie sich an Lena Vogt, Tel. 030 5550 1234.", "Lena Vogt"),
        ("Daarvoor moet je bij Sanne Visser zijn, tel. 020 555 0101.", "Sanne Visser"),
        ("Se ne occupa Paolo Ferri, lo trova al 02 555 0199.", "Paolo Ferri"),
        ("Fale com Beatriz Lima, ela cuida disso.", "Beatriz Lima"),
        ("Hable con Tomás Ruiz, él se encarga de las compras.", "Tomás Ruiz"),
        ("Voyez avec Hélène Roche, c'est elle qui gère les achats.", "Hélène Roche"),
    ],
)
def test_referrals_by_name_alone_are_referrals(body: str, name: str) -> None:
    result = classify_message(message(body))
    assert result.label == ReplyLabel.REFERRAL, (result.best_guess, result.confidence)
    assert name in [r.name for r in result.referrals]


def test_a_name_with_no_word_pointing_to_it_is_no_referral() -> None:
    body = "We already run Harbor Freight Planner for this and are happy with it.\n\nDana"
    assert_label(message(body), ReplyLabel.NOT_INTERESTED)


# -- 9: languages Spear has no lexicon for go to a person --------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "Tack, men vi är inte intresserade av det här just nu. Hör av dig nästa år.",
        "Dziękuję, ale nie jesteśmy zainteresowani współpracą w tym momencie.",
        "Teşekkürler ama şu anda bununla ilgilenmiyoruz, belki seneye.",
    ],
)
def test_a_language_without_a_lexicon_goes_to_review(body: str) -> None:
    result = classify_message(message(body))
    assert result.label == ReplyLabel.UNCLEAR
    assert result.confidence < 0.6


def test_language_identification() -> None:
    assert identify("Wir haben dafür bereits eine eigene Lösung im Haus.") == "de"
    assert identify("先月末で退職いたしました。") == "ja"
    assert identify("저는 지난달 퇴사했습니다.") == "ko"
    assert identify("Pass.") is None  # too short to tell: every lexicon reads it
    assert not supported(identify("Dziękuję, ale nie jesteśmy zainteresowani współpracą."))
    assert chinese_script("我们已经有类似的工具了") == "zh-Hans"
    assert chinese_script("我們已經有類似的工具了") == "zh-Hant"


# -- confidence: what the evidence does not settle goes to a person ----------------------------


def test_conflicting_signals_go_to_review() -> None:
    result = classify_message(message("Sounds interesting, but we already have a tool for it."))
    assert result.label == ReplyLabel.UNCLEAR
    assert result.best_guess in (ReplyLabel.INTEREST, ReplyLabel.NOT_INTERESTED)


def test_one_phrase_in_a_long_reply_goes_to_review() -> None:
    body = (
        "Thanks for the note. Our finance team moved offices twice this year, the warehouse "
        "team merged with logistics, and most of the people who used to look at tooling have "
        "changed seats. The board is also reviewing how regional teams buy software, which "
        "touches every contract we hold. I honestly could not say where things will land or "
        "who will own what by the spring, and I will not guess. Pricing would help."
    )
    result = classify_message(message(body))
    assert result.label == ReplyLabel.UNCLEAR
    assert result.best_guess == ReplyLabel.INTEREST


# -- more phrasings, one or more per label and language ----------------------------------------

PHRASINGS = [
    ("en", "not-now", "Circle back with me in September, we're heads-down on a launch."),
    ("en", "not-now", "Can you ping me again after our board meeting in June?"),
    ("en", "interest", "This is timely. What would it take to get a trial going?"),
    ("en", "interest", "Could you send me a one-pager and some pricing?"),
    ("en", "referral", "You'll want Ravi Menon for this, he leads revenue operations."),
    ("en", "wrong-person", "I'm in HR, this isn't really my area. Not sure who handles it."),
    ("en", "not-interested", "We're happy with our current vendor, thanks."),
    ("en", "unsubscribe", "Please stop emailing me and delete my details."),
    ("en", "not-interested", "Not a priority for us this year or next, sorry."),
    ("en", "wrong-person", "I left the company in the spring."),
    ("de", "not-now", "Bitte melden Sie sich im Herbst noch einmal, gerade passt es nicht."),
    ("de", "interest", "Das klingt spannend. Können wir nächste Woche telefonieren?"),
    (
        "de",
        "referral",
        "Dafür ist mein Kollege Tobias Berger zuständig, tobias.berger@prospect.example.",
    ),
    ("de", "wrong-person", "Ich arbeite nicht mehr bei der Firma."),
    (
        "de",
        "unsubscribe",
        "Bitte nehmen Sie mich aus Ihrem Verteiler und schreiben Sie mir nicht mehr.",
    ),
    ("de", "not-interested", "Danke, wir sind mit unserer jetzigen Lösung zufrieden."),
    ("fr", "not-now", "Recontactez-moi à la rentrée, ce n'est pas le bon moment."),
    ("fr", "interest", "Pourquoi pas, pouvez-vous m'envoyer une présentation ?"),
    (
        "fr",
        "referral",
        "Il faut voir avec Marc Lefèvre, notre directeur financier : marc.lefevre@prospect.example",
    ),
    ("fr", "wrong-person", "Je ne travaille plus dans cette société."),
    ("fr", "unsubscribe", "Merci de me retirer de votre liste de diffusion."),
    ("fr", "not-interested", "Nous avons déjà une solution en interne, merci."),
    ("es", "not-now", "Escríbeme de nuevo en enero, ahora estamos cerrando el año."),
    ("es", "interest", "Suena bien, ¿tienes disponibilidad el jueves para una videollamada?"),
    (
        "es",
        "referral",
        "Eso lo lleva Carmen Ortega, te paso su correo: carmen.ortega@prospect.example",
    ),
    ("es", "wrong-person", "No soy la persona adecuada, lo siento."),
    ("es", "unsubscribe", "Por favor, no me envíen más correos."),
    ("es", "not-interested", "Gracias, pero no nos interesa."),
    ("pt", "not-now", "Agora não dá, me procure no segundo semestre."),
    ("pt", "interest", "Gostei da proposta, podemos conversar na quinta?"),
    ("pt", "referral", "Quem cuida disso é o Ricardo Alves, ricardo.alves@prospect.example."),
    ("pt", "wrong-person", "Não sou eu quem decide isso e não sei quem é."),
    ("pt", "unsubscribe", "Por favor, remova meu e-mail da sua lista."),
    ("pt", "not-interested", "Não, obrigado. Não é prioridade para nós."),
    ("it", "not-now", "Ci risentiamo a settembre, ora siamo in chiusura di bilancio."),
    ("it", "interest", "Interessante, può mandarmi una presentazione?"),
    (
        "it",
        "referral",
        "Deve parlare con Luca Moretti, responsabile acquisti: luca.moretti@prospect.example",
    ),
    ("it", "wrong-person", "Non lavoro più in questa azienda da marzo."),
    ("it", "unsubscribe", "Non scrivetemi più, grazie."),
    ("it", "not-interested", "Grazie, ma non siamo interessati."),
    ("nl", "not-now", "Kun je na de zomer nog eens contact opnemen?"),
    ("nl", "interest", "Klinkt goed, stuur maar wat meer informatie."),
    (
        "nl",
        "referral",
        "Neem contact op met Bram Jansen, hij gaat over inkoop: bram.jansen@prospect.example",
    ),
    ("nl", "wrong-person", "Ik werk hier niet meer."),
    ("nl", "unsubscribe", "Haal mij alsjeblieft van jullie mailinglijst."),
    ("nl", "not-interested", "Nee bedankt, we zijn niet geïnteresseerd."),
    ("ja", "not-now", "今は時期が悪いので、来年の春以降にまたご連絡ください。"),
    ("ja", "interest", "興味があります。資料をお送りいただけますか。"),
    (
        "ja",
        "referral",
        "本件は経理部の田中が担当しております。tanaka@prospect.example までご連絡ください。",
    ),
    ("ja", "wrong-person", "私はこの件の担当ではございません。"),
    ("ja", "unsubscribe", "今後のご案内は不要です。リストから削除してください。"),
    ("ja", "not-interested", "せっかくですが、今回は見送らせていただきます。"),
    ("ko", "not-now", "지금은 바빠서 어렵고, 다음 달에 다시 연락 주세요."),
    ("ko", "interest", "관심 있습니다. 자료 좀 보내주시겠어요?"),
    (
        "ko",
        "referral",
        "해당 업무는 김민수 과장이 담당합니다. minsu.kim@prospect.example 로 연락해 보세요.",
    ),
    ("ko", "wrong-person", "저는 담당자가 아닙니다. 누가 담당하는지 잘 모르겠습니다."),
    ("ko", "unsubscribe", "더 이상 메일 보내지 마세요."),
    ("ko", "not-interested", "저희는 관심 없습니다."),
    ("zh", "not-now", "最近比较忙，下个月再联系吧。"),
    ("zh", "interest", "可以发一份产品介绍给我看看吗？"),
    ("zh", "referral", "这事归我们采购部的李强管，你联系他吧：li.qiang@prospect.example"),
    ("zh", "wrong-person", "我已经离职了。"),
    ("zh", "unsubscribe", "请不要再给我发邮件了。"),
    ("zh", "not-interested", "谢谢，我们不需要。"),
    ("zh-Hant", "interest", "很有興趣，可以安排一次線上會議嗎？"),
    ("zh-Hant", "not-now", "目前預算已用完，明年再說。"),
    (
        "en",
        "auto-reply",
        "Hello, I am currently on annual leave and will return on Monday 9 June. For urgent "
        "issues please email ops@prospect.example.",
    ),
    (
        "pt",
        "auto-reply",
        "Olá! Estou de férias até 20 de julho, com acesso limitado ao e-mail. Para assuntos "
        "urgentes, fale com financeiro@prospect.example.",
    ),
    (
        "it",
        "auto-reply",
        "Sono fuori ufficio fino al 2 settembre. Per urgenze scrivere a "
        "segreteria@prospect.example.",
    ),
    (
        "nl",
        "auto-reply",
        "Ik ben afwezig tot en met 15 augustus. Voor dringende zaken kunt u terecht bij "
        "info@prospect.example.",
    ),
    (
        "es",
        "auto-reply",
        "Estoy fuera de la oficina hasta el 5 de mayo. Para temas urgentes, escriba a "
        "soporte@prospect.example.",
    ),
    (
        "ko",
        "auto-reply",
        "현재 휴가 중입니다. 8월 20일에 복귀합니다. 급한 용무는 help@prospect.example 로 연락 "
        "주세요.",
    ),
    ("ja", "auto-reply", "誠に勝手ながら、8月13日から8月16日まで夏季休業とさせていただきます。"),
    (
        "fr",
        "auto-reply",
        "Ceci est une réponse automatique. Votre demande a bien été reçue et sera traitée sous "
        "48 heures.",
    ),
    (
        "en",
        "auto-reply",
        "Please note my email address has changed. Please update your records to "
        "m.ortiz@newco.example.",
    ),
    (
        "de",
        "auto-reply",
        "Diese E-Mail-Adresse ist nicht mehr aktiv. Bitte wenden Sie sich an "
        "info@prospect.example.",
    ),
    ("en", "not-interested", "Appreciate it, but we're going to pass."),
    (
        "en",
        "not-interested",
        "We evaluated a few tools like this last year and decided against it.",
    ),
    ("en", "interest", "Yes please — what does onboarding look like?"),
    ("en", "not-now", "We're mid-migration; let's talk in Q3."),
    ("en", "unsubscribe", "Take us off your list. Everyone here."),
    (
        "de",
        "not-now",
        "Aktuell haben wir andere Prioritäten. Fragen Sie im zweiten Quartal noch einmal nach.",
    ),
    ("fr", "not-interested", "Ça ne nous concerne pas, merci."),
    (
        "pt",
        "referral",
        "Encaminhei seu e-mail para a Juliana Prado, que é a responsável pela área.",
    ),
    (
        "it",
        "referral",
        "Le giro la mail al collega Andrea Conti, è lui il referente per gli acquisti.",
    ),
    (
        "nl",
        "referral",
        "Ik heb je mail doorgestuurd naar Kim de Wit, zij is verantwoordelijk voor inkoop.",
    ),
    (
        "ja",
        "referral",
        "担当は営業部の佐藤です。sato@prospect.example へご連絡いただけますでしょうか。",
    ),
    (
        "ko",
        "referral",
        "이 건은 구매팀 이지은 대리가 담당하고 있습니다. jieun.lee@prospect.example",
    ),
    ("zh", "referral", "这块是我们IT部的陈伟负责，chen.wei@prospect.example，你可以直接找他。"),
    ("ko", "not-now", "내년 예산이 확정되면 다시 연락드리겠습니다."),
    ("ja", "not-interested", "自社で開発したシステムを使っておりますので、必要ありません。"),
    ("es", "wrong-person", "Ya no llevo ese tema, cambié de área."),
    ("it", "not-interested", "Abbiamo già una soluzione e ne siamo contenti."),
    ("nl", "not-now", "Dit jaar niet meer, misschien volgend jaar."),
    ("pt", "not-interested", "Não temos orçamento nem interesse nisso."),
    ("zh-Hant", "wrong-person", "這不是我負責的範圍，我也不清楚誰在管。"),
    ("en", "interest", "Happy to hop on a call. How does Tuesday at 3 look?"),
    (
        "en",
        "referral",
        "Please reach out to our head of ops, Sofia Lind, at sofia.lind@prospect.example.",
    ),
    ("en", "not-now", "We just signed a two-year deal with another vendor, maybe revisit in 2027."),
    (
        "en",
        "wrong-person",
        "Wrong Dana, I'm afraid — I work in legal and have nothing to do with purchasing.",
    ),
    ("en", "unsubscribe", "Remove me from all future emails please."),
    ("en", "not-interested", "We don't have a need for this, thanks anyway."),
    ("de", "interest", "Gerne, schicken Sie mir bitte Unterlagen und Preise."),
    ("de", "not-interested", "Kein Interesse, danke."),
    ("de", "wrong-person", "Da sind Sie bei mir falsch, ich bin in der Buchhaltung."),
    ("fr", "not-now", "Pas pour l'instant, revenez vers moi dans six mois."),
    ("fr", "wrong-person", "Je ne suis pas la bonne personne pour ce sujet, désolée."),
    (
        "es",
        "referral",
        "El responsable de compras es Javier Molina, javier.molina@prospect.example.",
    ),
    ("es", "unsubscribe", "Dadme de baja, por favor."),
    ("pt", "interest", "Tenho interesse. Pode me mandar uma apresentação?"),
    ("pt", "not-now", "Estamos com o orçamento fechado este ano. Fale comigo em janeiro."),
    ("pt", "unsubscribe", "Não quero mais receber esses e-mails."),
    ("it", "not-interested", "Grazie ma non ne abbiamo bisogno."),
    ("it", "wrong-person", "Non sono io la persona giusta, mi spiace."),
    ("it", "interest", "Ci interessa, possiamo sentirci giovedì?"),
    ("nl", "wrong-person", "Ik ben niet de juiste persoon hiervoor."),
    ("nl", "not-interested", "Wij hebben hier geen interesse in."),
    ("nl", "interest", "Interessant! Kunnen we volgende week even bellen?"),
    ("ja", "unsubscribe", "メールの配信を停止してください。"),
    ("ja", "not-now", "来月以降にあらためてご連絡いただけますでしょうか。"),
    ("ja", "wrong-person", "申し訳ありませんが、私はその件の担当ではありません。"),
    ("ko", "not-interested", "저희는 이미 다른 솔루션을 사용하고 있어서 필요 없습니다."),
    ("ko", "interest", "자료를 보내주시면 검토해 보겠습니다."),
    ("ko", "unsubscribe", "수신 거부합니다."),
    ("zh", "not-now", "现在没时间，三个月后再联系。"),
    ("zh", "wrong-person", "这个不归我管，我也不知道找谁。"),
    ("zh-Hant", "unsubscribe", "請不要再寄信給我，謝謝。"),
    ("zh-Hant", "referral", "這部分請聯絡我們的採購經理林志明 lin.zm@prospect.example。"),
    ("en", "not-now", "Let's reconnect once our new CRO is on board, probably after the summer."),
    (
        "en",
        "referral",
        "Loop in Carla Owens (carla.owens@prospect.example) — procurement sits with her.",
    ),
    (
        "en",
        "interest",
        "What kind of results have you seen with companies our size? Open to a short call.",
    ),
    ("en", "not-interested", "Thanks but no thanks."),
    ("en", "wrong-person", "I think you've got the wrong contact, I'm just an intern."),
    (
        "de",
        "referral",
        "Bitte kontaktieren Sie Herrn Klaus Richter, k.richter@prospect.example, er leitet den "
        "Einkauf.",
    ),
    ("de", "unsubscribe", "Ich möchte keine weiteren E-Mails von Ihnen erhalten."),
    ("fr", "interest", "Oui, je suis preneur d'une démo la semaine prochaine."),
    ("fr", "not-now", "Nous en reparlerons l'année prochaine."),
    ("es", "not-interested", "No es algo que necesitemos ahora ni a futuro, gracias."),
    ("es", "wrong-person", "Ya no trabajo en esa empresa."),
    (
        "pt",
        "referral",
        "Por favor, fale com o Marcelo Dias, ele é o responsável pelo setor: "
        "marcelo.dias@prospect.example",
    ),
    ("pt", "wrong-person", "Não é comigo, sou do jurídico."),
    ("it", "not-now", "Al momento no, ricontattatemi fra sei mesi."),
    ("it", "unsubscribe", "Vi chiedo di non contattarmi più e di cancellare i miei dati."),
    ("nl", "not-now", "Nu even niet, probeer het over drie maanden nog eens."),
    ("nl", "not-interested", "Geen interesse, bedankt."),
    ("ja", "interest", "ご提案に興味がございます。一度オンラインでお話を伺えますか。"),
    ("ja", "not-interested", "弊社では既に同様のツールを導入済みのため、不要です。"),
    ("ko", "wrong-person", "저는 작년에 퇴사해서 도움을 드리기 어렵습니다."),
    ("ko", "not-now", "지금은 예산이 없어서 내년에 다시 연락 주세요."),
    ("zh", "interest", "我们对你们的方案挺感兴趣，下周二下午方便通个电话吗？"),
    ("zh", "not-interested", "我们已经有合作的供应商了，暂时不考虑。"),
    ("zh-Hant", "not-now", "現在不方便，下個月再聯絡。"),
]


@pytest.mark.parametrize(("language", "label", "body"), PHRASINGS)
def test_phrasings(language: str, label: str, body: str) -> None:
    quote = "none" if label == "auto-reply" else "gmail-wrapped"
    result = classify_message(message(body, quote=quote))
    assert str(result.label) == label, (language, result.best_guess, result.confidence)
