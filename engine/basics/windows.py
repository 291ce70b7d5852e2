"""Send windows: when, in the recipient's own time, a step may go out. Pure arithmetic.

Times go in and come out as aware UTC; windows, weekdays and holidays are read in the recipient's
IANA zone. Daylight-saving changes are handled by walking the UTC line, never by adding hours to a
wall clock:

- a wall time skipped by a spring-forward change does not exist, so nothing is sent in it;
- a wall time repeated by a fall-back change is used once, in its first occurrence; instants of
  the second occurrence (`fold=1`) are never inside a window.

On the instants that are not a second occurrence, wall time grows strictly with UTC, so a window
`[start, end)` on a local day is one UTC interval minus any repeated stretch inside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from engine.clock import utc
from engine.errors import SpearError


class WaitUnit(StrEnum):
    HOURS = "hours"
    DAYS = "days"
    BUSINESS_DAYS = "business days"


@dataclass(frozen=True)
class Wait:
    """How long after the previous step (or the enrolment) a step becomes due."""

    amount: int
    unit: WaitUnit = WaitUnit.DAYS


@dataclass(frozen=True)
class SendWindow:
    """A daily window in the recipient's local time, start inclusive, end exclusive.

    An end of 00:00 means midnight at the end of the day.
    """

    start: time
    end: time


# Weekdays are numbered as `date.weekday()`: Monday 0 ... Sunday 6.
PLAY_WEEKDAYS = frozenset({1, 2, 3, 6})  # Tue, Wed, Thu, Sun: avoid Monday and Friday
PLAY_WINDOWS = (SendWindow(time(7, 0), time(9, 0)), SendWindow(time(17, 0), time(19, 0)))
BUSINESS_WEEKDAYS = frozenset({0, 1, 2, 3, 4})

# How far ahead to look for an allowed day before deciding the rules allow none.
_SEARCH_DAYS = 800


@dataclass(frozen=True)
class SendRules:
    windows: tuple[SendWindow, ...] = PLAY_WINDOWS
    weekdays: frozenset[int] = field(default=PLAY_WEEKDAYS)
    holidays: str | None = None  # ISO country code for public holidays to skip, e.g. "US"


class ScheduleError(SpearError, ValueError):
    """Send rules that can never be met, or a holiday calendar that does not exist."""


def next_slot(not_before: datetime, tz: ZoneInfo, rules: SendRules) -> datetime:
    """The earliest instant >= `not_before` inside a window on an allowed, non-holiday local day."""
    not_before = utc(not_before)
    windows = _checked_windows(rules)
    day = not_before.astimezone(tz).date() - timedelta(days=1)  # a window may start the day before
    for _ in range(_SEARCH_DAYS):
        if is_send_day(day, rules):
            for window in windows:
                start = first_instant_at_or_after(day, window.start, tz)
                end = _window_end(day, window, tz)
                candidate = _skip_repeated(max(start, not_before), tz)
                if candidate < end:
                    return candidate
        day += timedelta(days=1)
    raise ScheduleError(f"no send window in {_SEARCH_DAYS} days with rules {rules}")


def window_end(instant: datetime, tz: ZoneInfo, rules: SendRules) -> datetime:
    """The first instant after `instant` that is outside every window: the slot's send-by time.

    Overlapping or touching windows count as one stretch; a repeated (fall-back) stretch inside a
    window ends it, since its second occurrences are never inside a window. A stretch longer than
    a week (rules that are open almost all the time) is cut there: a send-by time earlier than
    needed only costs a re-slot, a later one would let a message out of its window.
    """
    instant = utc(instant)
    if not in_window(instant, tz, rules):
        raise ScheduleError(f"{instant.isoformat()} is not inside a send window")
    windows = _checked_windows(rules)
    end, horizon = instant, instant + timedelta(days=7)
    while in_window(end, tz, rules) and end < horizon:
        day = end.astimezone(tz).date()
        reach = max(
            _window_end(day, w, tz)
            for w in windows
            if first_instant_at_or_after(day, w.start, tz) <= end < _window_end(day, w, tz)
        )
        end = _before_repeat(end, reach, tz)
    return min(end, horizon)


def due_after(previous: datetime, wait: Wait, tz: ZoneInfo, rules: SendRules) -> datetime:
    """When a step waiting `wait` after `previous` becomes due (not yet fitted to a window).

    Hours are elapsed time. Days and business days are counted on the recipient's local calendar
    and keep the local time of day (a skipped wall time moves to the first instant after it).
    Business days are Monday to Friday, skipping the rules' public holidays.
    """
    previous = utc(previous)
    if wait.amount < 0:
        raise ScheduleError(f"a wait cannot be negative: {wait}")
    if wait.unit is WaitUnit.HOURS:
        return previous + timedelta(hours=wait.amount)
    local = previous.astimezone(tz)
    if wait.unit is WaitUnit.DAYS:
        target = local.date() + timedelta(days=wait.amount)
    else:
        target = add_business_days(local.date(), wait.amount, rules.holidays)
    return first_instant_at_or_after(target, local.time().replace(tzinfo=None, fold=0), tz)


def add_business_days(start: date, amount: int, country: str | None) -> date:
    """`start` moved forward by `amount` business days (Mon-Fri, not a public holiday)."""
    day = start
    remaining = amount
    while remaining > 0:
        day += timedelta(days=1)
        if day.weekday() in BUSINESS_WEEKDAYS and not is_holiday(day, country):
            remaining -= 1
    return day


def is_send_day(day: date, rules: SendRules) -> bool:
    return day.weekday() in rules.weekdays and not is_holiday(day, rules.holidays)


def is_holiday(day: date, country: str | None) -> bool:
    return country is not None and day in holiday_dates(country, day.year)


@lru_cache(maxsize=256)
def holiday_dates(country: str, year: int) -> frozenset[date]:
    """Public holidays of `country` ("US", or "US-CA" for a subdivision) in `year`, cached."""
    code, _, subdivision = country.upper().partition("-")
    try:
        calendar = holidays.country_holidays(code, subdiv=subdivision or None, years=year)
    except NotImplementedError:
        raise ScheduleError(f"unknown holiday calendar {country!r}") from None
    return frozenset(calendar.keys())


def in_window(instant: datetime, tz: ZoneInfo, rules: SendRules) -> bool:
    """Whether `instant` is one `next_slot` could return: the inverse check, used by tests."""
    local = utc(instant).astimezone(tz)
    if local.fold == 1 or not is_send_day(local.date(), rules):
        return False
    wall = local.time().replace(tzinfo=None, fold=0)
    return any(
        w.start <= wall and (w.end == time(0) or wall < w.end) for w in _checked_windows(rules)
    )


def first_instant_at_or_after(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """The first UTC instant whose local wall clock reads `day wall` or later (first occurrence).

    An existing wall time maps to its first occurrence; a skipped one to the end of the gap.
    """
    naive = datetime.combine(day, wall)
    early = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if early.astimezone(tz).replace(tzinfo=None) == naive:
        return early
    # In a gap, PEP 495 reads fold=0 with the offset before the change (an instant after the gap)
    # and fold=1 with the offset after it (an instant before): the change lies between them.
    after = early
    before = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if before > after:
        before, after = after, before
    return _first_where(before, after, lambda u: u.astimezone(tz).replace(tzinfo=None) >= naive)


def _skip_repeated(instant: datetime, tz: ZoneInfo) -> datetime:
    """`instant`, or the first instant after it that is not a second occurrence of a wall time."""
    local = instant.astimezone(tz)
    if local.fold == 0:
        return instant
    repeat = local.replace(fold=0).utcoffset() - local.utcoffset()  # type: ignore[operator]
    return _first_where(instant, instant + repeat, lambda u: u.astimezone(tz).fold == 0)


def _before_repeat(start: datetime, end: datetime, tz: ZoneInfo) -> datetime:
    """`end`, or the first instant in (start, end] where a fall-back change repeats wall time."""
    offset = start.astimezone(tz).utcoffset()
    if end.astimezone(tz).utcoffset() == offset:
        return end  # no change of offset in between (windows are at most a day long)
    change = _first_where(start, end, lambda u: u.astimezone(tz).utcoffset() != offset)
    return change if change.astimezone(tz).fold == 1 else end


def _first_where(low: datetime, high: datetime, ok: Callable[[datetime], bool]) -> datetime:
    """Binary search, to the second, for the first instant in (low, high] where `ok` holds.

    `ok` must be false at `low`, true at `high`, and change only once in between. Zone changes
    fall on whole seconds, so a whole-second answer is exact.
    """
    base = low.replace(microsecond=0)
    lo, hi = 0, int((high - base).total_seconds()) + 1
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(base + timedelta(seconds=mid)):
            hi = mid
        else:
            lo = mid + 1
    return max(base + timedelta(seconds=lo), low)


def _window_end(day: date, window: SendWindow, tz: ZoneInfo) -> datetime:
    if window.end == time(0):
        return first_instant_at_or_after(day + timedelta(days=1), time(0), tz)
    return first_instant_at_or_after(day, window.end, tz)


@lru_cache(maxsize=64)
def _checked_windows(rules: SendRules) -> tuple[SendWindow, ...]:
    if not rules.windows:
        raise ScheduleError("send rules need at least one window")
    if not rules.weekdays or not rules.weekdays <= set(range(7)):
        raise ScheduleError(f"send weekdays must be a non-empty subset of 0-6: {rules.weekdays}")
    for window in rules.windows:
        if window.end != time(0) and window.end <= window.start:
            raise ScheduleError(f"a send window must end after it starts: {window}")
    return tuple(sorted(rules.windows, key=lambda w: w.start))
