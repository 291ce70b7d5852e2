"""Dates in replies: when an out-of-office person is back, and when a "not now" means to return.

Every date is computed relative to the reply's own Date header, never the time of classification.
dateparser knows simple relative phrases but not the ones prospects actually write ("next
quarter", "after the holidays", "三个月后", "明年" meaning early next year), so the rules that
matter are spelled out here, in the order people use them; explicit calendar dates are parsed
with small patterns per language.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

# Month names in the languages we read, lower-case, mapped to month numbers.
MONTHS: dict[str, int] = {}
for _index, _names in enumerate(
    (
        "january jan januar janvier enero ene janeiro",
        "february feb februar février fevrier febrero",
        "march mar märz maerz mars marzo",
        "april apr avril abril",
        "may mai mayo",
        "june jun juni juin junio",
        "july jul juli juillet julio",
        "august aug août aout agosto ago",
        "september sep sept septembre septiembre setiembre",
        "october oct oktober octobre octubre okt",
        "november nov novembre noviembre",
        "december dec dezember décembre decembre diciembre dez dic déc",
    ),
    start=1,
):
    for _name in _names.split():
        MONTHS[_name] = _index
_MONTH_NAME = "|".join(sorted(MONTHS, key=len, reverse=True))

WEEKDAYS: dict[str, int] = {}
for _index, _names in enumerate(
    (
        "monday mon montag lundi lunes",
        "tuesday tue tues dienstag mardi martes",
        "wednesday wed mittwoch mercredi miércoles miercoles",
        "thursday thu thurs donnerstag jeudi jueves",
        "friday fri freitag vendredi viernes",
        "saturday sat samstag samedi sábado sabado",
        "sunday sun sonntag dimanche domingo",
    )
):
    for _name in _names.split():
        WEEKDAYS[_name] = _index
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
WORD_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "nine": 9,
    "twelve": 12,
    "couple of": 2,
    "few": 3,
    "einem": 1,
    "einen": 1,
    "zwei": 2,
    "drei": 3,
    "vier": 4,
    "sechs": 6,
    "un": 1,
    "une": 1,
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "six_fr": 6,
    "uno": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "seis": 6,
}


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_occurrence(base: date, month: int, day: int = 1) -> date:
    """The first (month, day) strictly after base."""
    for year in (base.year, base.year + 1):
        candidate = date(year, month, min(day, calendar.monthrange(year, month)[1]))
        if candidate > base:
            return candidate
    return date(base.year + 1, month, day)


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

_NUMBER_WORD = (
    r"\d{1,2}|a|an|one|two|three|four|five|six|nine|twelve|couple of|few|"
    r"einem|einen|zwei|drei|vier|sechs|un|une|deux|trois|quatre|uno|dos|tres|cuatro|seis"
)
_CN_NUMBER = r"\d{1,2}|十一|十二|[一两兩二三四五六七八九十半]"

_NEXT_QUARTER = re.compile(
    r"next quarter|following quarter|next fiscal quarter|nächste[nms]? quartal|"
    r"kommende[nms]? quartal|prochain trimestre|trimestre prochain|próximo trimestre|"
    r"proximo trimestre|siguiente trimestre|下[个個一]?季度|下季",
    re.IGNORECASE,
)
_NAMED_QUARTER = re.compile(
    r"\bq([1-4])\b|第([一二三四1-4])季度|([1-4])(?:st|nd|rd|th) quarter|"
    r"(first|second|third|fourth) quarter",
    re.IGNORECASE,
)
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
_IN_MONTHS = re.compile(
    rf"(?:in|after|another|for|about|around|wait|give it|dans|en|in etwa|in ca\.?)\s+"
    rf"(?:(?:the|a|about|another|ungefähr|etwa)\s+)?({_NUMBER_WORD})\s+"
    rf"(?:more\s+)?(months?|monate?n?|mois|meses|mes|weeks?|wochen?|semaines?|semanas?|"
    rf"years?|jahre?n?|ans?|años?|anos?)\b",
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
_NEXT_YEAR = re.compile(
    r"next year|nächste[sn]? jahr|kommende[sn]? jahr|l'année prochaine|"
    r"l’année prochaine|l'an prochain|el próximo año|el proximo año|"
    r"el año que viene|明年|来年|來年",
    re.IGNORECASE,
)
_NEXT_MONTH = re.compile(
    r"next month|nächste[nms]? monat|le mois prochain|el próximo mes|"
    r"el mes que viene|下[个個]?月",
    re.IGNORECASE,
)
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
_NEXT_WEEK = re.compile(
    r"next week|nächste woche|la semaine prochaine|la próxima semana|"
    r"下[个個]?(周|週|星期|礼拜|禮拜)",
    re.IGNORECASE,
)
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


def resume_date(text: str, base: date) -> date | None:
    """When a "not now" reply asks us to come back, or None when it names no usable time."""
    text = text[:4000]
    if _NEXT_QUARTER.search(text):
        return _first_of_next_quarter(base)
    quarter = _NAMED_QUARTER.search(text)
    if quarter:
        token = next(g for g in quarter.groups() if g)
        number = {
            "first": 1,
            "second": 2,
            "third": 3,
            "fourth": 4,
            "一": 1,
            "二": 2,
            "三": 3,
            "四": 4,
        }.get(token.lower()) or int(token)
        return next_occurrence(base - timedelta(days=1), 3 * (number - 1) + 1)
    if _SPRING_FESTIVAL.search(text):  # before "节后", which it contains
        return next_occurrence(base, 2, 20)
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
    if _END_OF_MONTH.search(text):
        return add_months(base.replace(day=1), 1)
    if _END_OF_YEAR.search(text) or _NEXT_YEAR.search(text):
        return date(base.year + 1, 1, 1)
    if _NEXT_MONTH.search(text):
        return add_months(base.replace(day=1), 1)
    if _NEXT_WEEK.search(text):
        return base + timedelta(days=7)
    return None


def _relative_span(text: str, base: date) -> date | None:
    for match in _IN_MONTHS.finditer(text):
        count = _number(match.group(1))
        if not count:
            continue
        unit = match.group(2).lower()
        if unit.startswith(("week", "woche", "semaine", "semana")):
            return base + timedelta(days=7 * count)
        if unit.startswith(("year", "jahr", "an", "año", "ano")):
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
_CN_DAY = re.compile(r"(?:(20\d\d)\s*年)?\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号號]")
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
    """(position, day) for weekday mentions ("next Monday"), the next such day after base."""
    found = []
    for match in _RELATIVE_WEEKDAY.finditer(text):
        name = match.group(2).lower()
        if len(name) <= 3 and not match.group(2)[0].isupper():
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
