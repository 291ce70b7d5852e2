"""Dates in replies: when an out-of-office person is back, and when a "not now" means to return.

Every date is computed relative to the reply's own Date header, never the time of classification.
General date parsers know simple relative phrases but not the ones prospects actually write ("next
quarter", "after the holidays", "三个月后", "明年" meaning early next year), so the rules that
matter are spelled out here, in the order people use them; explicit calendar dates are parsed
with small patterns per language.
"""

from __future__ import annotations

import calendar
import functools
import re
from datetime import date, timedelta

import holidays

from engine.classify.lexicon import LEXICONS, combined


def _names(attribute: str) -> dict[str, int]:
    """Month or weekday names of every lexicon, lower-case, mapped to their index."""
    names: dict[str, int] = {}
    for lexicon in LEXICONS.values():
        for index, listed in enumerate(getattr(lexicon, attribute)):
            for name in listed.split():
                names[name] = index
    return names


# Month names (to month numbers, 1-12) and weekday names (Monday 0) in the languages we read.
MONTHS: dict[str, int] = {name: index + 1 for name, index in _names("months").items()}
_MONTH_NAME = "|".join(sorted(MONTHS, key=len, reverse=True))
WEEKDAYS: dict[str, int] = _names("weekdays")
_WEEKDAY_NAME = "|".join(sorted(WEEKDAYS, key=len, reverse=True))

CHINESE_NUMBERS = {
    "一": 1,
    "两": 2,
    "兩": 2,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
    "十一": 11,
    "十二": 12,
    "半": 0,
}
WORD_NUMBERS: dict[str, int] = {
    word: int(number)
    for lexicon in LEXICONS.values()
    for word, number in (item.split("=") for item in lexicon.number_words)
}


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_occurrence(base: date, month: int, day: int = 1) -> date:
    """The first (month, day) strictly after base; a day the month lacks ("June 31", a slip
    like "January 0") is its nearest day in that month."""
    for year in (base.year, base.year + 1):
        candidate = date(year, month, min(max(day, 1), calendar.monthrange(year, month)[1]))
        if candidate > base:
            return candidate
    return date(base.year + 1, month, day)


def after_spring_festival(base: date) -> date:
    """The first day after the Spring Festival break still to come on `base`.

    The lunar new year moves between late January and late February, so no fixed date will do;
    the break people mean lasts a week from it (mainland China's official holiday, eve to the
    seventh day), so the day to write again is a week after new year's day.
    """
    for year in (base.year, base.year + 1):
        new_year = _lunar_new_year(year)
        if new_year is not None and new_year + SPRING_FESTIVAL_BREAK > base:
            return new_year + SPRING_FESTIVAL_BREAK
    return next_occurrence(base, 2, 20)  # a year the calendar does not cover: late February


SPRING_FESTIVAL_BREAK = timedelta(days=7)


def after_holiday_break(when: str, base: date) -> date:
    """The first day after a holiday break still to come on `base` (`Lexicon.holiday_breaks`).

    "JP:Constitution Day" is that holiday and every holiday on the days right after it (Golden
    Week: 3 to 5 May, and a substitute day when one falls on a Sunday); "08-17" a fixed day.
    """
    country, _, name = when.rpartition(":")
    if not country:
        month, day = (int(part) for part in name.split("-"))
        return next_occurrence(base, month, day)
    for year in (base.year, base.year + 1):
        days = holidays.country_holidays(country, years=[year, year + 1], language="en_US")
        named = sorted(day for day, title in days.items() if day.year == year and name in title)
        if not named:
            continue
        last = named[0]
        while last + timedelta(days=1) in days:
            last += timedelta(days=1)
        if last >= base:
            return last + timedelta(days=1)
    return next_occurrence(base, 1, 2)  # a calendar the package lacks: the new year, roughly


def _next_fiscal_year(base: date, start_month: int) -> date:
    """The first day of the fiscal year after the one `base` is in."""
    this_year_start = date(
        base.year if base.month >= start_month else base.year - 1, start_month, 1
    )
    return add_months(this_year_start, 12)


@functools.cache
def _lunar_new_year(year: int) -> date | None:
    """The lunar new year's day of `year` (from the `holidays` package's Chinese calendar)."""
    days = [
        day
        for day, name in holidays.country_holidays("CN", years=year).items()
        if "Spring Festival" in name
    ]
    return min(days) if days else None


def _first_of_next_quarter(base: date) -> date:
    quarter_start_month = 3 * ((base.month - 1) // 3) + 1
    return add_months(date(base.year, quarter_start_month, 1), 3)


def _number(token: str) -> int | None:
    token = token.strip().lower()
    if token.isdigit():
        return int(token)
    if token in CHINESE_NUMBERS:
        return CHINESE_NUMBERS[token]
    return WORD_NUMBERS.get(token)


# -- resume dates for "not now" -----------------------------------------------------------------

_NUMBER_WORD = r"\d{1,2}|" + "|".join(sorted(WORD_NUMBERS, key=len, reverse=True))
_CN_NUMBER = r"\d{1,2}|十一|十二|[一两兩二三四五六七八九十半]"

_NEXT_QUARTER = re.compile(combined("next_quarter"), re.IGNORECASE)


def _quarters() -> list[re.Pattern[str]]:
    """One pattern per quarter (first quarter first), across every lexicon."""
    named = [lexicon.quarters for lexicon in LEXICONS.values() if lexicon.quarters]
    return [
        re.compile("|".join(f"(?:{names[index]})" for names in named), re.IGNORECASE)
        for index in range(4)
    ]


_QUARTERS = _quarters()
# (pattern, the month its fiscal year starts in): "来期" is April in Japan.
_NEXT_FISCAL_YEAR = [
    (re.compile("|".join(lexicon.next_fiscal_year), re.IGNORECASE), lexicon.fiscal_year_start)
    for lexicon in LEXICONS.values()
    if lexicon.next_fiscal_year
]
# (pattern, when the break ends): see `Lexicon.holiday_breaks`.
_HOLIDAY_BREAKS = [
    (re.compile(pattern, re.IGNORECASE), when)
    for lexicon in LEXICONS.values()
    for pattern, _, when in (entry.rpartition("=") for entry in lexicon.holiday_breaks)
]
_AFTER_HOLIDAYS = re.compile(
    r"after the (holidays|holiday season|new year)|new year|nach den feiertagen|"
    r"nach neujahr|im neuen jahr|après les fêtes|apres les fetes|après les vacances de noël|"
    r"después de las fiestas|despues de las fiestas|después de navidad|节后|節後|元旦后|元旦後",
    re.IGNORECASE,
)
_SPRING_FESTIVAL = re.compile(
    r"春节|春節|过完年|過完年|(?<![半一两兩])年后|(?<![半一两兩])年後|"
    r"chinese new year|lunar new year",
    re.IGNORECASE,
)
_WEEK_UNIT = re.compile(combined("week_units"), re.IGNORECASE)
_YEAR_UNIT = re.compile(combined("year_units"), re.IGNORECASE)
_UNITS = "|".join(u for u in (combined(f"{k}_units") for k in ("month", "week", "year")) if u)
_IN_MONTHS = re.compile(
    rf"(?:{combined('span_before')})\s+"
    rf"(?:(?:the|a|about|another|ungefähr|etwa|uns|alguns|umas)\s+)?({_NUMBER_WORD})\s*"
    rf"(?:more\s+)?({_UNITS})\b|"
    # Japanese and Korean put the word for "later" after the unit: "2週間後", "3개월 후"
    rf"(\d{{1,2}})\s*({_UNITS})(?:{combined('span_after')})",
    re.IGNORECASE,
)
_HALF_YEAR = re.compile(
    r"half a year|six months|in einem halben jahr|dans six mois|"
    r"en seis meses|半年",
    re.IGNORECASE,
)
_CN_IN_MONTHS = re.compile(
    rf"({_CN_NUMBER})\s*个?個?(月|周|週|星期|礼拜|禮拜|年)(?:之?后|之?後|以后|以後|再)"
)
_IN_A_YEAR = re.compile(
    r"\b(in|after) a year\b|this time next year|in einem jahr|dans un an|"
    r"en un año|一年后|一年後|明年这个时候|明年這個時候",
    re.IGNORECASE,
)
_NEXT_YEAR = re.compile(combined("next_year"), re.IGNORECASE)
_NEXT_MONTH = re.compile(combined("next_month"), re.IGNORECASE)
_END_OF_MONTH = re.compile(
    r"end of (the|this) month|month[- ]end|ende (des|dieses) monats|"
    r"monatsende|fin (du|de ce) mois|fin de(l| este) mes|月底|月末",
    re.IGNORECASE,
)
_END_OF_YEAR = re.compile(
    r"end of (the|this) year|year[- ]end|jahresende|ende des jahres|"
    r"fin (de l'année|d'année)|fin de año|年底|年末",
    re.IGNORECASE,
)
_NEXT_WEEK = re.compile(combined("next_week"), re.IGNORECASE)
_MID_MONTH = re.compile(
    rf"\b(mid|middle of|mitte|mi-|mediados de)[- ]?({_MONTH_NAME})\b", re.IGNORECASE
)
_NAMED_MONTH = re.compile(
    rf"\b({_MONTH_NAME})\b\.?(?:\s+(\d{{1,2}})(?:st|nd|rd|th)?\b)?", re.IGNORECASE
)
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th|\.|er)?\s+(?:de\s+)?({_MONTH_NAME})\b", re.IGNORECASE
)
_CN_MONTH = re.compile(rf"(明年|下半年)?\s*({_CN_NUMBER})\s*月份?(?:(\d{{1,2}})\s*[日号號])?")
_CN_SECOND_HALF = re.compile(r"下半年")
# Autumn, or the end of summer, taken to start on 1 September: we assume the northern
# hemisphere, where nearly all of the prospects we write to are. "Fall" alone is an ordinary verb
# ("sales fall"), so the lexicon needs a time word before it; la rentrée is France's return from
# the summer break.
_AUTUMN = re.compile(combined("autumn"), re.IGNORECASE)
AUTUMN_START_MONTH = 9
# A year on its own ("get in touch again in 2026"): its first day, if it is still to come.
_NAMED_YEAR = re.compile(
    r"\b(?:in|during|im jahr|im|en|dans|en el año)\s+(20\d\d)\b", re.IGNORECASE
)
# Month words that are also ordinary words: only trusted with a date-ish preposition.
_AMBIGUOUS_MONTHS = frozenset(
    {"may", "mar", "jan", "jun", "jul", "sun", "sat", "dec", "ago", "un", "mai", "dez"}
)
_MONTH_CONTEXT = re.compile(
    r"(in|until|till|after|before|by|from|around|early|late|end of|start of|beginning of|"
    r"im|ab|bis|nach|anfang|ende|en|à partir de|après|hasta|después de|desde|a partir de|"
    r"circle back|reconnect|touch base|reach out|follow up|revisit|try)\s+(?:\w+\s+)?$",
    re.IGNORECASE,
)


# Asking to be written to again. The time next to one of these is the time to come back, ahead
# of any other time the reply gives as context ("the licence lasts until November; follow up
# in October"). English, French and Spanish put the time after the verb, Chinese before it,
# German either way ("melden Sie sich im Oktober wieder", "im Oktober bitte wieder melden").
_CONTACT_AGAIN = re.compile(
    r"\b(?:reach (?:back )?out|reach back|follow(?:ing)? up|"
    r"get back (?:to|in touch with) (?:me|us)|get in touch|ping (?:me|us)|try (?:me|us|again)|"
    r"circle back|check back|check in|"
    r"touch base|reconnect|revisit|contact (?:me|us)|e-?mail (?:me|us)|write (?:to )?(?:me|us)|"
    r"drop (?:me|us) a (?:line|note)|hit (?:me|us) up)\b|"
    r"\b(?:melden|kontaktieren|anschreiben|anfragen|nachfragen|ansprechen|zukommen|versuchen|"
    r"schreiben sie (?:mir|uns))\b|"
    r"\b(?:recontacte\w*|reprendre contact|reprenons contact|revenez vers|revenir vers|"
    r"relance[rz]?|contactez[- ](?:moi|nous)|écrivez[- ](?:moi|nous)|réessaye[rz])|"
    r"\b(?:contácte(?:me|nos)|contacta(?:me|nos)|vuelva a (?:contactar|escribir|intentar)\w*|"
    r"escríba(?:me|nos)|retom(?:emos|ar) (?:el )?contacto|póngase en contacto|búsque(?:me|nos))|"
    r"(?:再|重新)(?:与|與|跟|和)?(?:我们|我們|我)?(?:联系|聯繫|聯絡)|(?:与|與|跟|和)(?:我们|我們|我)"
    r"(?:联系|聯繫|聯絡)|再(?:找我|来找|來找|谈|談|说|說|聊|沟通|溝通|跟进|跟進)",
    re.IGNORECASE,
)
# A contact verb aimed at someone other than the replier ("reach out to Dana", "follow up with
# our CFO"): a referral's words, not a request to be written to again.
_TO_SOMEONE_ELSE = re.compile(r"\s+(?:to|with)\s+(?!(?:me|us)\b)", re.IGNORECASE)
# "Don't email me in the fall", "please never contact us again": a refusal, not a later time.
_NEGATED_VERB = re.compile(r"(?:\bnot|n['’]t|\bnever|\bno)\s+(?:\w+\s+)?$", re.IGNORECASE)
# Where the clause around a contact verb ends: punctuation, a paragraph, or a conjunction that
# starts another thought ("... until November, so follow up in October").
_CLAUSE_BREAK = re.compile(
    r"[.!?;:,。！？；，、]|\n\s*\n|\b(?:and|but|so|because|though|although|und|aber|denn|"
    r"weil|et|mais|car|pero|porque)\b",
    re.IGNORECASE,
)
# Leaving or joining, then within a few words the month it happened: "I left Acme in March",
# "j'ai quitté la société en mars", "dejé la empresa en marzo".
_LEFT_OR_JOINED = (
    r"left|quit|resigned|retired|departed|moved on|stepped down|joined|took over|"
    r"was (?:let go|laid off|made redundant)|changed (?:roles?|jobs?|teams?)|"
    r"quitté|partie? de|démissionné|rejoint|dejé|salí de|renuncié|me jubilé|me uní a"
)
# Having been in touch already: "I contacted them in March", "we spoke in January".
_IN_TOUCH_ALREADY = (
    r"contacted|e-?mailed|wrote|spoke|talked|met|called|reached out|heard from|"
    r"contacté|contactés|écrit|parlé|escribí|hablé|hablamos"
)
_PAST_MONTH_PREPOSITION = (
    r"in|on|at the (?:end|start) of|back in|last|en|au mois d[e']|fin|début|"
    r"a (?:finales|principios) de"
)
# Times that belong to something already done: context, never the time to come back.
_PAST_TIME = re.compile(
    rf"\b(?:{_LEFT_OR_JOINED})(?:\s+[\w'’.&-]+){{0,4}}?\s+(?:{_PAST_MONTH_PREPOSITION})\s*"
    rf"(?:(?:early|late|mid)[- ])?(?:{_MONTH_NAME})\b|"
    # "I contacted them in March", "we spoke with Kim in January": a few words within one
    # sentence, and not what was talked about ("we spoke about revisiting this in June")
    rf"\b(?:{_IN_TOUCH_ALREADY})(?:\s+(?!about\b|regarding\b)[\w'’&-]+){{0,3}}?\s+"
    rf"(?:{_PAST_MONTH_PREPOSITION})\s*(?:(?:early|late|mid)[- ])?(?:{_MONTH_NAME})\b|"
    # German puts the participle last: "habe die Firma im März verlassen"
    rf"\b(?:habe|hat|bin|ist)\b[^.,;!?\n]{{0,40}}?\b(?:verlassen|gewechselt|ausgeschieden|"
    rf"gekündigt|kontaktiert|angeschrieben|gesprochen)\b|"
    rf"(?:{_CN_NUMBER})\s*月份?(?:就|已经|已經|已)?(?:离职|離職|退休|调岗|調崗)|"
    # "last March", "since March", "in March last year"
    rf"\b(?:last|since|seit|depuis|desde)\s+(?:{_MONTH_NAME})\b|"
    rf"\b(?:in|im|en)\s+(?:{_MONTH_NAME})\s+(?:last year|letzten jahres|"
    rf"de l'année dernière|del año pasado)|"
    # a complaint about how often we wrote: "the third note in ten days", "5 times in a month"
    rf"\b(?:\d+(?:st|nd|rd|th)?|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|"
    rf"umpteenth|several|multiple|many|two|three|four|five|six)\s+(?:e-?mails?|messages?|"
    rf"follow-?ups?|times|notes|attempts)\s+(?:in|within|over)\s+(?:the\s+(?:last|past)\s+)?"
    rf"(?:{_NUMBER_WORD})\s+(?:days?|weeks?|months?)",
    re.IGNORECASE,
)


def mask_past_times(text: str) -> str:
    """The text with past-time phrases blanked out (same length, so positions still line up)."""
    return _PAST_TIME.sub(lambda match: " " * len(match.group()), text)


def resume_date(text: str, base: date) -> date | None:
    """When a "not now" reply asks us to come back, or None when it names no usable time."""
    text = mask_past_times(text[:4000])
    for window in _contact_windows(text):
        near_contact = _first_time(window, base)
        if near_contact is not None:
            return near_contact
    return _first_time(text, base)


def contact_again_date(text: str, base: date) -> date | None:
    """The time, after base, that a request to be written to again names; else None.

    "Email me in the fall", "bitte kontaktieren Sie mich in drei Monaten": the verb and its time
    are the whole "not now". A verb with no time ("contact me if you have questions"), a time
    already past ("I contacted them in March"), a refusal ("don't email me in the fall") or a
    verb that sends us to someone else ("reach out to Dana in May", a referral) names none.
    """
    text = mask_past_times(text[:4000])
    for verb in _CONTACT_AGAIN.finditer(text):
        refused = _NEGATED_VERB.search(text[max(0, verb.start() - 20) : verb.start()])
        if refused or _TO_SOMEONE_ELSE.match(text, verb.end()):
            continue
        for window in _verb_windows(text, verb):
            when = _first_time(window, base)
            if when is not None and when > base:
                return when
    return None


def _contact_windows(text: str) -> list[str]:
    """For each contact verb, the rest of its clause after it, then the part before it."""
    windows: list[str] = []
    for verb in _CONTACT_AGAIN.finditer(text):
        windows.extend(_verb_windows(text, verb))
    return windows


def _verb_windows(text: str, verb: re.Match[str]) -> list[str]:
    """The rest of the verb's clause after it, then the part of its clause before it."""
    after = text[verb.end() : verb.end() + 60]
    stop = _CLAUSE_BREAK.search(after)
    before = text[max(0, verb.start() - 40) : verb.start()]
    starts = [match.end() for match in _CLAUSE_BREAK.finditer(before)]
    return [after[: stop.start()] if stop else after, before[starts[-1] :] if starts else before]


def _first_time(text: str, base: date) -> date | None:
    """The time named by the first of the rules, in the order people use them, that applies."""
    if _NEXT_QUARTER.search(text):
        return _first_of_next_quarter(base)
    for index, quarter in enumerate(_QUARTERS):
        if quarter.search(text):
            return next_occurrence(base - timedelta(days=1), 3 * index + 1)
    for pattern, start_month in _NEXT_FISCAL_YEAR:
        if pattern.search(text):
            return _next_fiscal_year(base, start_month)
    for pattern, when in _HOLIDAY_BREAKS:
        if pattern.search(text):
            return after_holiday_break(when, base)
    if _SPRING_FESTIVAL.search(text):  # before "节后", which it contains
        return after_spring_festival(base)
    if _AFTER_HOLIDAYS.search(text):
        return date(base.year + 1, 1, 2)
    if _HALF_YEAR.search(text):
        return add_months(base, 6)
    if _IN_A_YEAR.search(text):
        return add_months(base, 12)
    relative = _relative_span(text, base)
    if relative is not None:
        return relative
    chinese_month = _chinese_month(text, base)
    if chinese_month is not None:
        return chinese_month
    mid = _MID_MONTH.search(text)
    if mid:
        return next_occurrence(base, MONTHS[mid.group(2).lower()], 15)
    named = _named_month(text, base)
    if named is not None:
        return named
    if _AUTUMN.search(text):
        return next_occurrence(base, AUTUMN_START_MONTH)
    if _END_OF_MONTH.search(text):
        return add_months(base.replace(day=1), 1)
    if _END_OF_YEAR.search(text) or _NEXT_YEAR.search(text):
        return date(base.year + 1, 1, 1)
    if _NEXT_MONTH.search(text):
        return add_months(base.replace(day=1), 1)
    if _NEXT_WEEK.search(text):
        return base + timedelta(days=7)
    year = _NAMED_YEAR.search(text)
    if year and int(year.group(1)) > base.year:
        return date(int(year.group(1)), 1, 1)
    return None


def _relative_span(text: str, base: date) -> date | None:
    for match in _IN_MONTHS.finditer(text):
        count = _number((match.group(1) or match.group(3)).lower())
        if not count:
            continue
        unit = match.group(2) or match.group(4)
        if _WEEK_UNIT.fullmatch(unit):
            return base + timedelta(days=7 * count)
        if _YEAR_UNIT.fullmatch(unit):
            return add_months(base, 12 * count)
        return add_months(base, count)
    for match in _CN_IN_MONTHS.finditer(text):
        count = _number(match.group(1))
        unit = match.group(2)
        if count == 0:
            return add_months(base, 6 if unit == "年" else 1)
        if not count:
            continue
        if unit == "月":
            return add_months(base, count)
        if unit == "年":
            return add_months(base, 12 * count)
        return base + timedelta(days=7 * count)
    return None


def _chinese_month(text: str, base: date) -> date | None:
    for match in _CN_MONTH.finditer(text):
        month = _number(match.group(2))
        if not month or month > 12:
            continue
        day = int(match.group(3)) if match.group(3) else 1
        start = date(base.year, 12, 31) if match.group(1) == "明年" else base
        return next_occurrence(start, month, day)
    if _CN_SECOND_HALF.search(text):
        return next_occurrence(base, 7, 1)
    return None


def _named_month(text: str, base: date) -> date | None:
    for match in _DAY_MONTH.finditer(text):
        return next_occurrence(base, MONTHS[match.group(2).lower()], int(match.group(1)))
    for match in _NAMED_MONTH.finditer(text):
        name = match.group(1).lower()
        ambiguous = name in _AMBIGUOUS_MONTHS or (match.group(1).islower() and len(name) <= 3)
        context = text[max(0, match.start() - 30) : match.start()]
        if ambiguous and not _MONTH_CONTEXT.search(context):
            continue
        day = int(match.group(2)) if match.group(2) and int(match.group(2)) <= 31 else 1
        return next_occurrence(base, MONTHS[name], day)
    return None


# -- explicit days, for out-of-office return dates -------------------------------------------

_ISO_DAY = re.compile(r"\b(20\d\d)[-/.](\d{1,2})[-/.](\d{1,2})\b")
_DOTTED_DAY = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(20\d\d|\d\d)?\b")
_SLASH_DAY = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(20\d\d|\d\d))?\b")
_WORD_DAY = re.compile(
    rf"(?:\b({_MONTH_NAME})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s*(20\d\d))?)|"
    rf"(?:\b(\d{{1,2}})(?:st|nd|rd|th|er|\.)?\s+(?:de\s+)?({_MONTH_NAME})\b\.?"
    rf"(?:\s+(?:de\s+)?(20\d\d))?)",
    re.IGNORECASE,
)
# Chinese and Japanese "2026年8月17日", Korean "2026년 6월 8일".
_CN_DAY = re.compile(r"(?:(20\d\d)\s*[年년])?\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日号號일]")
# What stands between a weekday and the date it belongs to: "Monday, July 21", "lundi 3 mars".
_WEEKDAY_DATE_GAP = re.compile(r"[,.]?\s*(?:the\s+|den\s+|le\s+|el\s+)?", re.IGNORECASE)
_RELATIVE_WEEKDAY = re.compile(
    rf"\b(next|this|on|coming|nächsten|am|lundi|el)?\s*({_WEEKDAY_NAME})\b", re.IGNORECASE
)


def explicit_days(text: str, base: date, day_first: bool = False) -> list[tuple[int, date]]:
    """(position, day) for every calendar day written in the text, years inferred from base."""
    found: list[tuple[int, date]] = []
    for match in _ISO_DAY.finditer(text):
        _append(
            found,
            match.start(),
            int(match.group(1)),
            int(match.group(2)),
            int(match.group(3)),
            base,
        )
    for match in _CN_DAY.finditer(text):
        year = int(match.group(1)) if match.group(1) else None
        _append(found, match.start(), year, int(match.group(2)), int(match.group(3)), base)
    for match in _DOTTED_DAY.finditer(text):
        year = _year(match.group(3))
        _append(found, match.start(), year, int(match.group(2)), int(match.group(1)), base)
    for match in _SLASH_DAY.finditer(text):
        first, second = int(match.group(1)), int(match.group(2))
        month, day = (second, first) if (day_first or first > 12) else (first, second)
        _append(found, match.start(), _year(match.group(3)), month, day, base)
    for match in _WORD_DAY.finditer(text):
        if match.group(1):
            month_name, day_text, year_text = match.group(1), match.group(2), match.group(3)
        else:
            month_name, day_text, year_text = match.group(5), match.group(4), match.group(6)
        if month_name.lower() in _AMBIGUOUS_MONTHS and month_name.islower():
            continue
        _append(
            found, match.start(), _year(year_text), MONTHS[month_name.lower()], int(day_text), base
        )
    return sorted(found)


def weekday_days(text: str, base: date) -> list[tuple[int, date]]:
    """(position, day) for weekday mentions ("next Monday"), the next such day after base.

    A weekday that only names the day of a full date written right after it ("Monday, July 21",
    "Montag, den 21. Juli", "el lunes 21 de julio") is left to `explicit_days`.
    """
    dated = {position for position, _ in explicit_days(text, base)}
    found = []
    for match in _RELATIVE_WEEKDAY.finditer(text):
        name = match.group(2).lower()
        if len(name) <= 3 and not match.group(2)[0].isupper():
            continue
        gap = _WEEKDAY_DATE_GAP.match(text, match.end())
        if gap is not None and gap.end() in dated:
            continue
        ahead = (WEEKDAYS[name] - base.weekday()) % 7 or 7
        found.append((match.start(), base + timedelta(days=ahead)))
    return found


def _year(text: str | None) -> int | None:
    if not text:
        return None
    year = int(text)
    return year + 2000 if year < 100 else year


def _append(
    found: list[tuple[int, date]],
    position: int,
    year: int | None,
    month: int,
    day: int,
    base: date,
) -> None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return
    try:
        if year is None:
            candidate = date(base.year, month, day)
            if candidate < base - timedelta(days=60):  # "Jan 5" written in December
                candidate = date(base.year + 1, month, day)
        else:
            candidate = date(year, month, day)
    except ValueError:
        return
    if abs((candidate - base).days) <= 800:
        found.append((position, candidate))
