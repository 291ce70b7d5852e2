"""Every word list and pattern the classifier reads, one module per language.

A language is added in one place: write `engine/classify/lexicon/<code>.py` with a `LEXICON` and
list it in `LANGUAGES`. The rest of the classifier only combines these tables; it holds no words of
any language itself. Patterns are regular expressions matched case-insensitively against the
reply's own words (quotes, signature and disclaimers removed), except the quote and signature
markers, which are matched per line against the whole body.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import import_module

Patterns = tuple[str, ...]


@dataclass(frozen=True)
class Lexicon:
    """What one language says, by use. Empty tuples are fine: a language may lack a marker."""

    code: str  # the language's ISO 639-1 code, as language identification reports it
    # Whether words stand apart (Latin scripts): phrases then only start at a word's start.
    spaced: bool = True
    # A human reply's intent, one pattern per way of saying it.
    unsubscribe: Patterns = ()
    not_interested: Patterns = ()
    not_now: Patterns = ()
    interest: Patterns = ()
    wrong_person: Patterns = ()
    referral: Patterns = ()  # pointing away: "talk to Kim", "Kim handles this"
    copying: Patterns = ()  # bringing someone in alongside: "I'm copying Kim", "looping in"
    # Around a referred person's name: words before it ("talk to"), after it ("handles"),
    # a colleague's title between ("my colleague"), and helpers who only schedule ("assistant").
    person_before: Patterns = ()
    person_after: Patterns = ()
    colleague: Patterns = ()
    scheduling_only: Patterns = ()
    # For languages written without spaces: job titles and honorifics written against a name
    # ("总监周凯文", "山本部長", "한지민 책임님"), and the characters a family name starts with.
    titles: Patterns = ()
    surnames: Patterns = ()
    # Someone else being away, to the end of the clause ("Kim is travelling until May"): when the
    # reply names who to talk to instead, its times are not when to write again.
    someone_away: Patterns = ()
    # Words that, before a positive phrase, turn it around ("not interested").
    negation: Patterns = ()
    # A whole reply or a whole Subject that asks to stop: "unsubscribe", "remove me", "退订",
    # and the courtesy words that may stand around it ("please", "bitte", "谢谢").
    unsubscribe_words: Patterns = ()
    courtesy: Patterns = ()
    # Machine-written notes: (weight, pattern), and localised automatic-reply Subject prefixes.
    auto_reply: tuple[tuple[float, str], ...] = ()
    auto_subject: Patterns = ()
    # Quoting: the start and the verb of an attribution line ("On ... wrote:"), separator
    # banners ("-----Original Message-----"), Outlook header block field names.
    attribution_start: Patterns = ()
    attribution_verb: Patterns = ()
    quote_banner: Patterns = ()
    header_from: Patterns = ()
    header_other: Patterns = ()
    # Lines that end the reply's own words: "Sent from my iPhone", and legal footers' words.
    signature: Patterns = ()
    disclaimer: Patterns = ()
    forward_subject: Patterns = ()
    # Dates: month and weekday names (each a space-separated list of names, January or Monday
    # first), number words ("two=2"), the words around a span ("in" N "months"), and phrases
    # naming a time to come back: next quarter, month, week and year, and the end of summer
    # (the start of September: "after the summer", "la rentrée", "in the fall").
    months: Patterns = ()
    weekdays: Patterns = ()
    number_words: Patterns = ()
    span_before: Patterns = ()
    span_after: Patterns = ()  # "2週間後", "3개월 후" put a word after the unit
    month_units: Patterns = ()
    week_units: Patterns = ()
    year_units: Patterns = ()
    next_quarter: Patterns = ()
    next_month: Patterns = ()
    next_week: Patterns = ()
    next_year: Patterns = ()
    autumn: Patterns = ()
    # The four quarters by name (first quarter first: "third quarter", "terzo trimestre",
    # "3분기"), the next fiscal year ("来期") and the month that year starts in where the
    # language's country has one fiscal year for everybody (Japan's starts in April).
    quarters: Patterns = ()
    next_fiscal_year: Patterns = ()
    fiscal_year_start: int = 1
    # Holiday breaks to come back after, "pattern=WHEN": WHEN is "CC:Holiday" (that country's
    # holiday, as the `holidays` package names it in English, and the holidays right after it:
    # Golden Week, Chuseok) or "MM-DD" (a break that ends on a fixed day).
    holiday_breaks: Patterns = ()
    # An out-of-office note's return day: words before it ("back on"), after it ("起", "より
    # 出社"), before the last day away ("until"), and the word for tomorrow.
    return_before: Patterns = ()
    return_after: Patterns = ()
    until: Patterns = ()
    tomorrow: Patterns = ()


LANGUAGES = ("en", "zh", "ja", "ko", "pt", "it", "nl", "de", "fr", "es")


def _load() -> dict[str, Lexicon]:
    lexicons: dict[str, Lexicon] = {}
    for code in LANGUAGES:
        lexicon = import_module(f"engine.classify.lexicon.{code}").LEXICON
        assert isinstance(lexicon, Lexicon) and lexicon.code == code
        lexicons[code] = lexicon
    return lexicons


LEXICONS: dict[str, Lexicon] = _load()


def combined(attribute: str, *, spaced: bool | None = None) -> str:
    """One alternation of a pattern list across every language ("" when none has any), or
    across the languages whose words stand apart (spaced=True) or do not (spaced=False)."""
    patterns = [
        p
        for lexicon in LEXICONS.values()
        if spaced is None or lexicon.spaced == spaced
        for p in getattr(lexicon, attribute)
    ]
    return "|".join(f"(?:{p})" for p in patterns)


# Before a phrase of a spaced language: a word's start, or a line break. Checked first, it lets
# the regular expression engine skip the middle of words at once (several times faster).
WORD_START = r"(?:(?<!\w)|(?=\n))"


# Scripts written without spaces between words (Chinese, Japanese kana and kanji, Korean).
UNSPACED_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


@dataclass(frozen=True)
class Finder:
    """Any language's phrase of one list, found fast: phrases of spaced languages only from a
    word's start, those of the others only in text holding their scripts, and on lower-cased
    text with case-sensitive matching where no phrase needs case (twice as fast as ignoring
    case)."""

    spaced: re.Pattern[str] | None
    unspaced: re.Pattern[str] | None
    lowered: re.Pattern[str] | None  # `spaced` for lower-cased text, when no phrase needs case

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        if self.spaced is not None:
            lower = text.lower()
            if self.lowered is not None and len(lower) == len(text):
                yield from self.lowered.finditer(lower)
            else:
                yield from self.spaced.finditer(text)
        if self.unspaced is not None and UNSPACED_SCRIPT.search(text):
            yield from self.unspaced.finditer(text)

    def search(self, text: str) -> re.Match[str] | None:
        return next(self.finditer(text), None)


def finder(spaced: str, unspaced: str) -> Finder:
    """A `Finder` for two alternations ("" for none), case-insensitive."""
    anchored = f"{WORD_START}(?:{spaced})"
    return Finder(
        re.compile(anchored, re.IGNORECASE) if spaced else None,
        re.compile(unspaced, re.IGNORECASE) if unspaced else None,
        re.compile(anchored) if spaced and not _needs_case(spaced) else None,
    )


def _needs_case(pattern: str) -> bool:
    """Whether a pattern matches differently on lower-cased text: a case-sensitive part, or a
    capital letter outside an escape (\\W, \\S and \\D are escapes, not capitals)."""
    literal = re.sub(r"\\.", "", pattern)
    return "(?-i:" in pattern or any(char.isupper() for char in literal)


def searcher(attribute: str) -> Finder:
    """A `Finder` for one pattern list of every language."""
    return finder(combined(attribute, spaced=True), combined(attribute, spaced=False))
