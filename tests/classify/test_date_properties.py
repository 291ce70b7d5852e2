"""A date read from a reply is never before the reply: whatever times a "not now" names (months,
days, quarters, spans, years, in several languages, in any order and mixed with noise), the
cadence resumes on the reply's day or later, never in the past."""

from __future__ import annotations

from datetime import date

from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.classify import classify_message
from engine.classify.dates import contact_again_date, resume_date

MONTH_WORDS = [
    "January", "Feb", "march", "April", "May", "june", "Jul", "August", "Sept", "October",
    "nov", "December", "Januar", "März", "Mai", "Oktober", "Dezember", "janvier", "mars",
    "juillet", "août", "décembre", "enero", "abril", "mayo", "septiembre", "diciembre",
]  # fmt: skip
CONTACT = [
    "reach out", "follow up", "circle back", "check back", "ping me", "try again",
    "get back to me", "contact me", "melden Sie sich", "recontactez-moi", "contácteme",
    "再联系我", "再找我",
]  # fmt: skip
GLUE = ["in", "by", "after", "until", "around", "early", "late", "mid", "end of", "im", "en", ""]
NUMBER_WORDS = ["a", "one", "two", "three", "six", "twelve", "couple of", "few", "zwei", "deux"]
UNITS = ["months", "month", "weeks", "week", "years", "year", "Monate", "Wochen", "mois", "meses"]
FIXED = [
    "next quarter", "next month", "next week", "next year", "after the holidays", "new year",
    "end of the year", "end of this month", "half a year", "in a year", "this time next year",
    "in the fall", "autumn", "rentrée", "Chinese New Year", "春节后", "下个月", "明年", "下半年",
    "年底", "nächstes Jahr", "l'année prochaine", "el próximo año", "last year", "yesterday",
]  # fmt: skip
WEEKDAYS = ["Monday", "next Friday", "on Tuesday", "Montag", "lundi", "el jueves"]

years = st.integers(2000, 2100)
phrase = st.one_of(
    st.sampled_from(FIXED + WEEKDAYS + CONTACT),
    st.builds(lambda g, m: f"{g} {m}", st.sampled_from(GLUE), st.sampled_from(MONTH_WORDS)),
    st.builds(lambda m, d: f"{m} {d}", st.sampled_from(MONTH_WORDS), st.integers(0, 40)),
    st.builds(lambda d, m: f"{d}. {m}", st.integers(0, 40), st.sampled_from(MONTH_WORDS)),
    st.builds(lambda m, y: f"{m} {y}", st.sampled_from(MONTH_WORDS), years),
    st.builds(lambda g, y: f"{g} {y}", st.sampled_from(GLUE), years),
    st.builds(lambda n: f"Q{n}", st.integers(0, 5)),
    st.builds(lambda n: f"第{n}季度", st.sampled_from("一二三四1234")),
    st.builds(
        lambda n, u: f"in {n} {u}",
        st.sampled_from(NUMBER_WORDS) | st.integers(0, 99).map(str),
        st.sampled_from(UNITS),
    ),
    st.builds(
        lambda n, u: f"{n}{u}后",
        st.sampled_from(["1", "3", "十二", "半", "两"]),
        st.sampled_from(["个月", "周", "年"]),
    ),
    st.builds(lambda n, d: f"{n}月{d}日", st.integers(0, 13), st.integers(0, 32)),
    st.builds(
        lambda y, m, d: f"{y}-{m:02d}-{d:02d}", years, st.integers(1, 12), st.integers(1, 28)
    ),
    st.builds(lambda d, m: f"{d}/{m}", st.integers(1, 31), st.integers(1, 12)),
    st.text(max_size=8),
)
texts = st.lists(
    st.tuples(phrase, st.sampled_from([" ", ", ", ". ", " and ", " so ", "\n\n"])), max_size=8
).map(lambda parts: "".join(p + sep for p, sep in parts))
bases = st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 12, 1))


@settings(max_examples=2000, deadline=None)
@given(text=texts, base=bases)
@example(text="Reach out in January 0, thanks.", base=date(2025, 3, 3))  # a day no month has
def test_a_resume_date_is_never_before_the_reply(text: str, base: date) -> None:
    resume = resume_date(text, base)
    assert resume is None or resume >= base, (text, base, resume)
    again = contact_again_date(text, base)
    assert again is None or again > base, (text, base, again)


def _reply(body: str, day: date) -> bytes:
    return (
        "From: Ann Lee <ann.lee@prospect.example>\r\nTo: Sam Rep <sam@outreach.example>\r\n"
        f"Subject: Re: A question\r\nDate: {day:%a, %d %b %Y} 10:00:00 +0000\r\n"
        "Message-ID: <p1@prospect.example>\r\nIn-Reply-To: <s1@outreach.example>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n\r\nNot right now. {body}\r\n"
    ).encode()


@settings(max_examples=300, deadline=None)
@given(text=texts, base=bases)
def test_the_classifier_never_resumes_before_the_reply(text: str, base: date) -> None:
    """The whole path: the reply's Date header is the day a resume date is counted from."""
    resume = classify_message(_reply(text, base)).resume_after
    assert resume is None or resume >= base, (text, base, resume)
