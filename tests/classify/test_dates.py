"""Date rules on hand-written phrasings: which time a "not now" means, and when someone is back.

Every reply is dated Monday 3 March 2025 (see `reply`), unless a test says otherwise.
"""

from __future__ import annotations

from datetime import date

import pytest

from engine.classify import ReplyLabel, classify_message
from engine.classify.autoreplies import return_date
from engine.classify.dates import (
    contact_again_date,
    mask_past_times,
    resume_date,
    weekday_days,
)
from tests.classify.support import reply

MONDAY_3_MARCH = date(2025, 3, 3)


def resume_after(body: str) -> date | None:
    result = classify_message(reply(body))
    assert result.label == ReplyLabel.NOT_NOW, (result.best_guess, result.confidence)
    return result.resume_after


# -- the time next to a contact verb wins over a time given as context --------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "Our licence with the current vendor lasts until November, so reach out in October.",
            date(2025, 10, 1),
        ),
        ("We renew in December. Follow up with me in October please.", date(2025, 10, 1)),
        ("Budget gets set in November; ping me in September.", date(2025, 9, 1)),
        ("The rollout finishes in June, try again in May.", date(2025, 5, 1)),
        # the next such month after the reply's date, even when that is next year
        ("Our busy season runs through April, so circle back in February.", date(2026, 2, 1)),
        (
            "Wir sind bis November gebunden, melden Sie sich bitte im Oktober wieder.",
            date(2025, 10, 1),
        ),
        # German may put the time before the verb
        ("Der Vertrag endet im November. Bitte im Oktober erneut anfragen.", date(2025, 10, 1)),
        ("Notre contrat se termine en novembre, recontactez-moi en octobre.", date(2025, 10, 1)),
        ("Nuestro contrato termina en noviembre; contácteme en octubre.", date(2025, 10, 1)),
        # Chinese puts the time before the verb
        ("合同11月到期，10月再找我吧。", date(2025, 10, 1)),
        ("合約11月到期，請10月再跟我聯絡。", date(2025, 10, 1)),
        ("请6月再联系我。", date(2025, 6, 1)),
        ("明年3月再联系。", date(2026, 3, 1)),
    ],
)
def test_time_next_to_a_contact_verb_wins(body: str, expected: date) -> None:
    assert resume_after(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # no contact verb: the first month named, as before
        ("Not now, we're locked in until November.", date(2025, 11, 1)),
        (
            "Timing is bad; the contract runs through November and renewal talks start in October.",
            date(2025, 11, 1),
        ),
        # a contact verb with no time of its own: the time elsewhere in the reply
        ("Our contract runs through November, feel free to follow up then.", date(2025, 11, 1)),
        ("Our contract ends in October, so reach out then.", date(2025, 10, 1)),
    ],
)
def test_without_a_time_at_the_contact_verb_the_first_time_stands(
    body: str, expected: date
) -> None:
    assert resume_after(body) == expected


# -- past times are context, never the time to come back ---------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Last March we looked at tools like yours; try again in April.", date(2025, 4, 1)),
        ("I just joined in February, so give me a couple of months.", date(2025, 5, 3)),
    ],
)
def test_past_months_are_not_resume_dates(body: str, expected: date) -> None:
    assert resume_after(body) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I left Fabrikam in March to start my own firm.",
        "Ich habe Contoso im Januar verlassen.",
        "J'ai quitté la société au mois d'octobre.",
        "Dejé la empresa a finales de octubre.",
        "我1月就离职了。",
        "Please stop, that makes three messages in ten days.",
    ],
)
def test_past_time_phrases_are_masked(text: str) -> None:
    masked = mask_past_times(text)
    assert len(masked) == len(text)
    assert resume_date(masked, MONDAY_3_MARCH) is None


def test_future_time_after_a_leave_is_kept() -> None:
    # "partie en congé" is an absence, not leaving the company: its month still counts
    text = "Je suis partie en congé jusqu'en juin, recontactez-moi à ce moment-là."
    assert resume_date(text, MONDAY_3_MARCH) == date(2025, 6, 1)


# -- next quarter in Chinese, as in English ----------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "今年的额度用完了，下一季再谈吧。",
        "現在不方便，下季再聊。",
        "目前不考虑，下个季度再说。",
        "目前不考慮，下個季度再說。",
        "预算冻结中，下一季度再联系。",
        "預算凍結中，下一個季度再聯繫。",
        "Not this quarter. Try me next quarter.",
    ],
)
def test_next_quarter_in_chinese_and_english(body: str) -> None:
    assert resume_after(body) == date(2025, 4, 1)


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        (date(2025, 5, 20), date(2025, 7, 1)),
        (date(2025, 11, 20), date(2026, 1, 1)),
        (date(2025, 1, 1), date(2025, 4, 1)),
    ],
)
def test_next_quarter_is_the_first_day_of_the_next_calendar_quarter(
    base: date, expected: date
) -> None:
    for text in ("下一季再联系。", "下個季度再說。", "Circle back next quarter."):
        assert resume_date(text, base) == expected


# -- out-of-office return dates: a weekday that names a full date ------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "I'm away from the office at an offsite; returning Thursday, April 17, 2025.",
            date(2025, 4, 17),
        ),
        ("Out of office, back on Tuesday 8 April.", date(2025, 4, 8)),
        (
            "Ich bin nicht im Büro und ab Montag, den 14. April wieder erreichbar.",
            date(2025, 4, 14),
        ),
        ("Je suis absent, de retour le mardi 8 avril.", date(2025, 4, 8)),
        ("Estoy fuera de la oficina; regreso el martes 8 de abril.", date(2025, 4, 8)),
        # a weekday alone is still the next such day
        ("Away from my desk, back next Monday.", date(2025, 3, 10)),
    ],
)
def test_weekday_followed_by_a_date_uses_the_date(body: str, expected: date) -> None:
    result = classify_message(reply(body))
    assert result.label == ReplyLabel.AUTO_REPLY
    assert result.return_date == expected


def test_weekday_naming_a_following_date_is_not_a_weekday_mention() -> None:
    text = "Back on Monday, April 14 - or Tuesday at the latest."
    assert [day for _, day in weekday_days(text, MONDAY_3_MARCH)] == [date(2025, 3, 4)]


# -- Chinese return dates with the weekday in brackets -----------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "本人休假中，预计4月14日（周一）返回办公室。",
        "我正在出差，將於4月14日(週一)回來。",
        "休年假中，4月14日（星期一）起正常上班。",
        "不在办公室，4月14日 (礼拜一) 回到公司。",
    ],
)
def test_chinese_return_date_with_bracketed_weekday(text: str) -> None:
    assert return_date(text, MONDAY_3_MARCH) == date(2025, 4, 14)


def test_chinese_return_date_in_a_marked_auto_reply() -> None:
    raw = reply("我正在出差，將於4月14日（週一）返回公司。", subject="自動回覆: 您好")
    result = classify_message(raw)
    assert result.label == ReplyLabel.AUTO_REPLY
    assert result.return_date == date(2025, 4, 14)


def test_chinese_date_with_weekday_but_no_return_word_is_not_a_return_date() -> None:
    text = "4月14日（周一）有个培训。"
    assert return_date(text, MONDAY_3_MARCH) is None


# -- a request to be written to again at a later time is a "not now" on its own -----------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # autumn starts on 1 September (northern hemisphere)
        ("Email me in the fall.", date(2025, 9, 1)),
        ("Write to us in autumn, we'll know more.", date(2025, 9, 1)),
        ("Contact me after 1 June.", date(2025, 6, 1)),
        ("Please get in touch again in 2026.", date(2026, 1, 1)),
        ("Bitte kontaktieren Sie mich in drei Monaten.", date(2025, 6, 3)),
        ("Schreiben Sie mir im Herbst.", date(2025, 9, 1)),
        ("Vuelva a escribirme en marzo.", date(2026, 3, 1)),
        ("请三个月后再联系我。", date(2025, 6, 3)),
        ("Drop us a line in September.", date(2025, 9, 1)),
    ],
)
def test_contact_verb_with_a_future_time_is_not_now(body: str, expected: date) -> None:
    assert resume_after(body) == expected


def test_autumn_said_in_autumn_is_next_year() -> None:
    assert resume_date("Email me in the fall.", date(2025, 10, 6)) == date(2026, 9, 1)


@pytest.mark.parametrize(
    "text",
    [
        "Contact me if you have questions.",  # no time
        "I contacted them in March.",  # a time already past
        "We spoke with your team in January.",
        "Reach out to Dana in May, she's the owner.",  # someone else to write to
        "Don't email me in the fall or ever again.",  # a refusal
        "Email me in 2025.",  # the reply's own year is no later time
        "Sales usually fall in summer; contact me about that.",  # "fall" the verb
    ],
)
def test_no_contact_again_date(text: str) -> None:
    assert contact_again_date(text, MONDAY_3_MARCH) is None


@pytest.mark.parametrize(
    ("body", "label"),
    [
        ("Contact me if you have questions.", ReplyLabel.UNCLEAR),
        ("I contacted them in March.", ReplyLabel.UNCLEAR),
        ("Reach out to Dana Whit in May, she's the owner.", ReplyLabel.REFERRAL),
        ("Email me the deck.", ReplyLabel.INTEREST),
        ("Don't email me in the fall or ever again.", ReplyLabel.UNSUBSCRIBE),
    ],
)
def test_contact_verb_near_misses_are_not_not_now(body: str, label: ReplyLabel) -> None:
    result = classify_message(reply(body))
    assert result.label == label, (result.best_guess, result.confidence)
    assert result.resume_after is None


def test_what_was_talked_about_keeps_its_time() -> None:
    # a past "we spoke" does not hide the future time it was about
    text = "We spoke about revisiting this in June, so reach out then."
    assert resume_date(text, MONDAY_3_MARCH) == date(2025, 6, 1)


# -- the Spring Festival moves with the lunar calendar; la rentrée is September ------------------


@pytest.mark.parametrize(
    ("replied", "expected"),
    [
        (date(2024, 12, 2), date(2025, 2, 5)),  # new year's day 29 January 2025
        (date(2025, 2, 3), date(2025, 2, 5)),  # during the break: when it ends
        (date(2025, 3, 3), date(2026, 2, 24)),  # past it: next year's (17 February 2026)
        (date(2027, 11, 15), date(2028, 2, 2)),  # an early one: 26 January 2028
    ],
)
def test_after_the_spring_festival_follows_the_lunar_new_year(
    replied: date, expected: date
) -> None:
    for body in ("春节后再联系我吧。", "過完年再說。", "Let's talk after Chinese New Year."):
        assert resume_date(body, replied) == expected, body


@pytest.mark.parametrize(
    "body",
    [
        "Pas le bon moment, écrivez-moi à la rentrée.",
        "Recontactez-moi après la rentrée, merci.",
        "On en reparle à la rentree.",
    ],
)
def test_la_rentree_is_the_first_of_september(body: str) -> None:
    assert resume_date(body, date(2025, 6, 12)) == date(2025, 9, 1)
    assert resume_date(body, date(2025, 10, 2)) == date(2026, 9, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Me procure daqui a dois meses, por favor.", date(2025, 5, 3)),
        ("Ne riparliamo tra tre mesi.", date(2025, 6, 3)),
        ("Kun je over zes weken terugkomen?", date(2025, 4, 14)),
        ("2週間後にもう一度ご連絡ください。", date(2025, 3, 17)),
        ("3개월 후에 다시 연락 주세요.", date(2025, 6, 3)),
        ("Risentiamoci dopo l'estate.", date(2025, 9, 1)),
        ("Neem na de zomer contact op.", date(2025, 9, 1)),
        ("Volte a falar comigo depois do verão.", date(2025, 9, 1)),
        ("Laten we het volgend kwartaal oppakken.", date(2025, 4, 1)),
        ("다음 분기에 다시 이야기하시죠.", date(2025, 4, 1)),
        ("Scrivimi a settembre.", date(2025, 9, 1)),
        ("Pode me chamar em outubro.", date(2025, 10, 1)),
    ],
)
def test_resume_dates_in_the_newer_languages(text: str, expected: date) -> None:
    assert resume_date(text, date(2025, 3, 3)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Estou em viagem e regresso ao escritório a 14 de abril.", date(2025, 4, 14)),
        ("Sono in ferie, rientrerò giovedì 20 marzo.", date(2025, 3, 20)),
        ("Ik ben met vakantie en vanaf dinsdag 18 maart weer op kantoor.", date(2025, 3, 18)),
        ("3月10日から3月14日まで出張しております。3月17日より出社いたします。", date(2025, 3, 17)),
        ("현재 출장 중이며 3월 17일(월)에 복귀합니다.", date(2025, 3, 17)),
        ("我目前休假中，将于 2025 年 3 月 17 日（星期一）返回办公室。", date(2025, 3, 17)),
        ("At a workshop today, back in the office tomorrow.", date(2025, 3, 4)),
    ],
)
def test_return_dates_in_the_newer_languages(text: str, expected: date) -> None:
    assert return_date(text, date(2025, 3, 3)) == expected


# -- quarters, fiscal years and holiday breaks, in each language's own words ----------------------


@pytest.mark.parametrize(
    ("text", "base", "expected"),
    [
        ("Let's pick this up in the third quarter.", date(2025, 3, 3), date(2025, 7, 1)),
        ("Try me again in Q4.", date(2025, 3, 3), date(2025, 10, 1)),
        ("Meldet euch bitte im dritten Quartal noch einmal.", date(2025, 3, 3), date(2025, 7, 1)),
        ("Recontactez-nous au quatrième trimestre.", date(2025, 3, 3), date(2025, 10, 1)),
        ("Escríbame en el tercer trimestre.", date(2025, 3, 3), date(2025, 7, 1)),
        ("Risentiamoci nel secondo trimestre.", date(2025, 1, 10), date(2025, 4, 1)),
        ("Fale comigo no terceiro trimestre.", date(2025, 3, 3), date(2025, 7, 1)),
        ("Neem in het vierde kwartaal weer contact op.", date(2025, 3, 3), date(2025, 10, 1)),
        ("第4四半期にもう一度ご連絡ください。", date(2025, 3, 3), date(2025, 10, 1)),
        ("3분기에 다시 연락 주세요.", date(2025, 3, 3), date(2025, 7, 1)),
        ("第三季度再联系吧。", date(2025, 3, 3), date(2025, 7, 1)),
        # a quarter already begun means the next one of that name
        ("Let's talk in Q1.", date(2025, 3, 3), date(2026, 1, 1)),
        # Japan's fiscal year starts in April: 来期 in November is next April, not January
        ("来期の予算で検討します。", date(2025, 11, 20), date(2026, 4, 1)),
        ("来年度にあらためてご相談させてください。", date(2026, 2, 2), date(2026, 4, 1)),
        # Golden Week 2025: 3 to 6 May (6 May replaces 4 May, a Sunday)
        ("ゴールデンウィーク明けにご連絡ください。", date(2025, 4, 14), date(2025, 5, 7)),
        # Chuseok 2025 is 5 to 7 October, 8 October replaces 5 October (a Sunday), and Hangul
        # Day on the 9th runs straight on from it
        ("추석 연휴 지나고 다시 연락 주세요.", date(2025, 9, 1), date(2025, 10, 10)),
        # Seollal 2026: 16 to 18 February
        ("설 연휴 끝나고 연락 주세요.", date(2026, 1, 20), date(2026, 2, 19)),
        # after this year's break has passed: next year's
        ("추석 지나고 연락 주세요.", date(2025, 11, 1), date(2026, 9, 27)),
        ("お盆明けにまたご連絡ください。", date(2025, 7, 1), date(2025, 8, 17)),
    ],
)
def test_quarters_fiscal_years_and_holiday_breaks(text: str, base: date, expected: date) -> None:
    assert resume_date(text, base) == expected
