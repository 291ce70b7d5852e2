from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

from engine.clock import FastClock, FixedClock, SystemClock, utc

START = datetime(2026, 3, 8, 6, 30, tzinfo=UTC)


def test_fixed_clock_moves_only_when_told() -> None:
    clock = FixedClock(START)
    assert clock.now() == START
    assert clock.fast_forward(days=1) == START + timedelta(days=1)
    asyncio.run(clock.sleep(90))
    assert clock.now() == START + timedelta(days=1, seconds=90)


def test_fast_clock_runs_faster_than_the_wall() -> None:
    clock = FastClock(START, speed=3600)
    asyncio.run(clock.sleep(1800))  # half a simulated hour: half a real second
    assert START + timedelta(minutes=29) < clock.now() < START + timedelta(minutes=45)
    clock.fast_forward(hours=2)
    assert clock.now() > START + timedelta(hours=2, minutes=29)


def test_times_are_aware_utc() -> None:
    assert SystemClock().now().tzinfo is UTC
    naive = datetime(2026, 1, 1, 12)
    assert utc(naive) == datetime(2026, 1, 1, 12, tzinfo=UTC)
    paris = datetime(2026, 1, 1, 13, tzinfo=timezone(timedelta(hours=1)))
    assert utc(paris) == datetime(2026, 1, 1, 12, tzinfo=UTC)
