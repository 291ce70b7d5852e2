"""Every word list and pattern the classifier reads, one module per language.

A language is added in one place: write `engine/classify/lexicon/<code>.py` with a `LEXICON` and
list it in `LANGUAGES`. The rest of the classifier only combines these tables; it holds no words of
any language itself. Patterns are regular expressions matched case-insensitively against the
reply's own words (quotes, signature and disclaimers removed), except the quote and signature
markers, which are matched per line against the whole body.
"""

from __future__ import annotations

import re
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
    # An out-of-office note's return day: words before it ("back on"), after it ("起", "より
    # 出社"), before the last day away ("until"), and the word for tomorrow.
    return_before: Patterns = ()
    return_after: Patterns = ()
    until: Patterns = ()
    tomorrow: Patterns = ()

    @property
    def auto_reply_phrases(self) -> Patterns:
        return tuple(pattern for _, pattern in self.auto_reply)


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


def searcher(attribute: str) -> re.Pattern[str]:
    """A case-insensitive pattern finding any language's phrase of a list, fast."""
    spaced, unspaced = combined(attribute, spaced=True), combined(attribute, spaced=False)
    alternatives = [f"{WORD_START}(?:{spaced})" if spaced else "", unspaced]
    return re.compile("|".join(a for a in alternatives if a), re.IGNORECASE)


def weighted(attribute: str) -> tuple[tuple[float, str], ...]:
    """A (weight, pattern) list across every language."""
    return tuple(item for lexicon in LEXICONS.values() for item in getattr(lexicon, attribute))
