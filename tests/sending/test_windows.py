"""Send windows: property tests across zones and DST changes, and the date line."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.basics.windows import (
    PLAY_WEEKDAYS,
    ScheduleError,
    SendRules,
    SendWindow,
    Wait,
    WaitUnit,
    add_business_days,
    due_after,
    holiday_dates,
    next_slot,
    window_end,
)

from .strategies import instants, rules_strategy, zones


def allowed(instant: datetime, tz: ZoneInfo, rules: SendRules) -> bool:
    """An independent statement of the rules: the local wall clock, first occurrence only."""
    local = instant.astimezone(tz)
    if local.fold == 1:
        return False
    day = local.date()
    if day.weekday() not in rules.weekdays:
        return False
    if rules.holidays and day in holiday_dates(rules.holidays, day.year):
        return False
    wall = local.time().replace(tzinfo=None)
    return any(w.start <= wall and (w.end == time(0) or wall < w.end) for w in rules.windows)


@settings(max_examples=300, deadline=None)
@given(instants, zones, rules_strategy)
def test_next_slot_is_the_first_allowed_instant(
    start: datetime, tz: ZoneInfo, rules: SendRules
) -> None:
    slot = next_slot(start, tz, rules)
    assert slot.tzinfo is not None and slot.utcoffset() == timedelta(0)
    assert slot >= start
    assert allowed(slot, tz, rules), slot.astimezone(tz)
    if allowed(start, tz, rules):
        assert slot == start
    # Nothing allowed just before: the slot opens a window, ends a DST gap, or is `start`.
    just_before = slot - timedelta(seconds=1)
    assert just_before < start or not allowed(just_before, tz, rules)
    assert next_slot(slot, tz, rules) == slot


@settings(max_examples=300, deadline=None)
@given(instants, zones, rules_strategy, st.floats(0, 1))
def test_window_end_is_the_end_of_the_slots_window(
    start: datetime, tz: ZoneInfo, rules: SendRules, fraction: float
) -> None:
    slot = next_slot(start, tz, rules)
    end = window_end(slot, tz, rules)
    assert slot < end <= slot + timedelta(days=7)
    # Everything from the slot up to the end is allowed (spot-checked), the end itself is not,
    # unless the rules are open for a whole week and the end is the cut.
    assert allowed(end - timedelta(microseconds=1), tz, rules)
    inside = min(slot + (end - slot) * fraction, end - timedelta(microseconds=1))
    assert allowed(inside, tz, rules), inside.astimezone(tz)
    assert not allowed(end, tz, rules) or end == slot + timedelta(days=7)


@settings(max_examples=200, deadline=None)
@given(instants, st.integers(0, 10 * 24 * 3600), zones, rules_strategy)
def test_next_slot_is_monotonic(
    start: datetime, later_by: int, tz: ZoneInfo, rules: SendRules
) -> None:
    later = start + timedelta(seconds=later_by)
    assert next_slot(start, tz, rules) <= next_slot(later, tz, rules)


@settings(max_examples=200, deadline=None)
@given(instants, zones, st.integers(0, 30), st.sampled_from(list(WaitUnit)))
def test_due_after_counts_on_the_local_calendar(
    previous: datetime, tz: ZoneInfo, amount: int, unit: WaitUnit
) -> None:
    rules = SendRules(holidays="US")
    due = due_after(previous, Wait(amount, unit), tz, rules)
    local_before, local_due = previous.astimezone(tz), due.astimezone(tz)
    if unit is WaitUnit.HOURS:
        assert due - previous == timedelta(hours=amount)
    elif unit is WaitUnit.DAYS:
        # Same local date + n, unless that wall time fell in a gap (then the gap's end).
        expected = local_before.date() + timedelta(days=amount)
        assert local_due.date() in (expected, expected + timedelta(days=1))
    else:
        assert local_due.date() >= local_before.date() + timedelta(days=amount)
        if amount:
            assert local_due.weekday() < 5
    assert due >= previous


NEW_YORK = ZoneInfo("America/New_York")
EVERY_DAY = frozenset(range(7))


def test_nothing_in_the_skipped_hour() -> None:
    rules = SendRules(windows=(SendWindow(time(2, 0), time(3, 0)),), weekdays=EVERY_DAY)
    # 2025-03-09 02:00-03:00 does not exist in New York: the next window is the day after.
    slot = next_slot(datetime(2025, 3, 9, 5, 0, tzinfo=UTC), NEW_YORK, rules)
    assert slot.astimezone(NEW_YORK) == datetime(2025, 3, 10, 2, 0, tzinfo=NEW_YORK)


def test_a_window_across_the_skipped_hour_resumes_after_it() -> None:
    rules = SendRules(windows=(SendWindow(time(1, 30), time(3, 30)),), weekdays=EVERY_DAY)
    start = datetime(2025, 3, 9, 6, 59, tzinfo=UTC)  # 01:59 EST
    assert next_slot(start, NEW_YORK, rules) == start
    after = next_slot(start + timedelta(minutes=1), NEW_YORK, rules)  # 02:00 EST does not exist
    assert after == datetime(2025, 3, 9, 7, 0, tzinfo=UTC)
    assert after.astimezone(NEW_YORK).hour == 3


def test_the_repeated_hour_is_used_once() -> None:
    rules = SendRules(windows=(SendWindow(time(1, 0), time(2, 0)),), weekdays=EVERY_DAY)
    # 2025-11-02 01:00-02:00 happens twice in New York (EDT, then EST).
    instant = datetime(2025, 11, 2, 4, 0, tzinfo=UTC)
    walls = []
    while instant < datetime(2025, 11, 2, 12, 0, tzinfo=UTC):
        slot = next_slot(instant, NEW_YORK, rules)
        if slot.date() != date(2025, 11, 2):
            break
        walls.append(slot.astimezone(NEW_YORK).replace(tzinfo=None))
        instant = slot + timedelta(minutes=5)
    assert len(walls) == 12 and len(set(walls)) == 12
    assert all(w.hour == 1 for w in walls)


def test_apia_skipped_a_whole_day_crossing_the_date_line() -> None:
    apia = ZoneInfo("Pacific/Apia")
    rules = SendRules(windows=(SendWindow(time(9, 0), time(17, 0)),), weekdays=EVERY_DAY)
    evening = datetime(2011, 12, 29, 18, 0, tzinfo=apia)
    slot = next_slot(evening, apia, rules).astimezone(apia)
    assert slot.replace(tzinfo=None) == datetime(2011, 12, 31, 9, 0)  # 30 December never was
    assert due_after(evening, Wait(1), apia, rules).astimezone(apia).date() == date(2011, 12, 31)


def test_weekdays_are_the_recipients_own() -> None:
    kiritimati = ZoneInfo("Pacific/Kiritimati")
    rules = SendRules(windows=(SendWindow(time(7, 0), time(9, 0)),), weekdays=frozenset({1}))
    # Monday 18:00 UTC is already Tuesday 08:00 in Kiritimati.
    monday_utc = datetime(2025, 6, 2, 18, 0, tzinfo=UTC)
    assert next_slot(monday_utc, kiritimati, rules) == monday_utc


def test_the_play_defaults_avoid_monday_and_friday() -> None:
    friday = datetime(2025, 6, 6, 12, 0, tzinfo=UTC)
    slot = next_slot(friday, NEW_YORK, SendRules())
    assert slot.astimezone(NEW_YORK).replace(tzinfo=None) == datetime(2025, 6, 8, 7, 0)  # Sunday
    assert slot.astimezone(NEW_YORK).weekday() in PLAY_WEEKDAYS


def test_holidays_and_business_days() -> None:
    rules = SendRules(weekdays=frozenset({4}), holidays="US")  # Fridays only
    slot = next_slot(datetime(2025, 7, 3, 12, 0, tzinfo=UTC), NEW_YORK, rules)
    assert slot.astimezone(NEW_YORK).date() == date(2025, 7, 11)  # 4 July is a holiday
    assert add_business_days(date(2025, 7, 3), 1, "US") == date(2025, 7, 7)
    assert add_business_days(date(2025, 7, 3), 1, None) == date(2025, 7, 4)


def test_impossible_rules_are_refused() -> None:
    with pytest.raises(ScheduleError):
        next_slot(datetime(2025, 1, 1, tzinfo=UTC), NEW_YORK, SendRules(weekdays=frozenset()))
    with pytest.raises(ScheduleError):
        next_slot(
            datetime(2025, 1, 1, tzinfo=UTC),
            NEW_YORK,
            SendRules(windows=(SendWindow(time(9), time(8)),)),
        )
    with pytest.raises(ScheduleError):
        next_slot(datetime(2025, 1, 1, tzinfo=UTC), NEW_YORK, SendRules(holidays="XX"))
