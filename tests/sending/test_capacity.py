"""Mailbox capacity: caps, warm-up, gaps with jitter, and mailbox choice. Property-tested."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.basics.windows import SendRules, in_window
from engine.sending.capacity import (
    Bookings,
    MailboxLimits,
    choose_mailbox,
    next_free,
    remaining_today,
    send_slot,
)

from .strategies import ZONES, rules_strategy

START = datetime(2025, 3, 1, tzinfo=UTC)
limits_strategy = st.builds(
    MailboxLimits,
    daily_cap=st.integers(1, 12),
    hourly_cap=st.integers(1, 6),
    min_gap=st.integers(0, 1800).map(lambda s: timedelta(seconds=s)),
    jitter=st.integers(0, 600).map(lambda s: timedelta(seconds=s)),
    warmup_start=st.none() | st.integers(1, 4),
    warmup_step=st.integers(0, 3),
    day_zone=st.sampled_from(ZONES).map(ZoneInfo),
)


@settings(max_examples=60, deadline=None)
@given(
    limits=limits_strategy,
    rules=rules_strategy,
    zone=st.sampled_from(ZONES).map(ZoneInfo),
    dues=st.lists(st.integers(0, 20 * 24 * 3600), min_size=1, max_size=40),
    seed=st.integers(0, 2**32),
)
def test_booked_slots_never_break_a_window_or_a_cap(
    limits: MailboxLimits, rules: SendRules, zone: ZoneInfo, dues: list[int], seed: int
) -> None:
    rng = random.Random(seed)
    bookings = Bookings()
    slots = []
    for offset in dues:
        due = START + timedelta(seconds=offset)
        slot = send_slot(due, zone, rules, limits, bookings, rng)
        assert slot >= due
        assert in_window(slot, zone, rules)
        bookings.add(slot)
        slots.append(slot)

    per_day = Counter(limits.day_of(s) for s in slots)
    first_day = min(per_day)
    for day, count in per_day.items():
        ramp = (day - first_day).days
        cap = limits.daily_cap
        if limits.warmup_start is not None:
            cap = min(cap, limits.warmup_start + limits.warmup_step * ramp)
        assert count <= cap, (day, count, cap)
    per_hour = Counter(s.replace(minute=0, second=0, microsecond=0) for s in slots)
    assert max(per_hour.values()) <= limits.hourly_cap
    ordered = sorted(slots)
    assert all(b - a >= limits.min_gap for a, b in pairwise(ordered))


@settings(max_examples=60, deadline=None)
@given(
    limits=limits_strategy,
    rules=rules_strategy,
    zone=st.sampled_from(ZONES).map(ZoneInfo),
    booked=st.lists(st.integers(0, 10 * 24 * 3600), max_size=30),
    first=st.integers(0, 10 * 24 * 3600),
    later_by=st.integers(0, 5 * 24 * 3600),
    seed=st.integers(0, 2**32),
)
def test_send_slot_is_monotonic(
    limits: MailboxLimits,
    rules: SendRules,
    zone: ZoneInfo,
    booked: list[int],
    first: int,
    later_by: int,
    seed: int,
) -> None:
    bookings = Bookings(START + timedelta(seconds=b) for b in booked)
    early = START + timedelta(seconds=first)
    late = early + timedelta(seconds=later_by)
    # Up to the jitter: a step due before a window opens goes a random moment after the opening,
    # while one due at the opening itself goes at once (what is due now is sent now).
    assert (
        send_slot(early, zone, rules, limits, bookings, random.Random(seed))
        <= send_slot(late, zone, rules, limits, bookings, random.Random(seed)) + limits.jitter
    )


def test_daily_cap_moves_to_the_next_day() -> None:
    limits = MailboxLimits(daily_cap=2, hourly_cap=10, min_gap=timedelta(0))
    bookings = Bookings([START + timedelta(hours=1), START + timedelta(hours=2)])
    assert next_free(START + timedelta(hours=3), limits, bookings, timedelta(0)) == START + (
        timedelta(days=1)
    )
    assert remaining_today(limits, bookings, START) == 0


def test_hourly_cap_and_gap() -> None:
    limits = MailboxLimits(hourly_cap=2, min_gap=timedelta(minutes=10))
    bookings = Bookings([START, START + timedelta(minutes=10)])
    gap = timedelta(minutes=10)
    assert next_free(START, limits, bookings, gap) == START + timedelta(hours=1)
    one = Bookings([START + timedelta(minutes=5)])
    assert next_free(START, limits, one, gap) == START + timedelta(minutes=15)


def test_warmup_ramp() -> None:
    limits = MailboxLimits(
        daily_cap=50, warmup_start=10, warmup_step=5, first_send_on=date(2025, 3, 1)
    )
    assert [limits.cap_on(date(2025, 3, d)) for d in (1, 2, 3)] == [10, 15, 20]
    assert limits.cap_on(date(2025, 4, 1)) == 50
    assert MailboxLimits(daily_cap=50).cap_on(date(2025, 3, 1)) == 50


def test_daily_cap_counts_the_senders_own_day() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    limits = MailboxLimits(daily_cap=1, min_gap=timedelta(0), day_zone=tokyo)
    # 14:00 UTC and 16:00 UTC are different days in Tokyo (23:00 and 01:00).
    bookings = Bookings([START + timedelta(hours=14)])
    assert next_free(START + timedelta(hours=16), limits, bookings, timedelta(0)) == START + (
        timedelta(hours=16)
    )


def test_mailboxes_rotate_least_loaded_first() -> None:
    load: dict[str, int] = {}
    chosen = []
    for _ in range(6):
        name = choose_mailbox(["a", "b", "c"], load)
        assert name is not None
        chosen.append(name)
        load[name] = load.get(name, 0) + 1
    assert chosen == ["a", "b", "c", "a", "b", "c"]
    assert choose_mailbox(["a", "b"], {"a": 5, "b": 9}) == "a"
    assert choose_mailbox(["a", "b"], {}, paused=["a"]) == "b"
    assert choose_mailbox(["a"], {}, paused=["a"]) is None
