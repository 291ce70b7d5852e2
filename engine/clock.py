"""The one clock every "now" in Spear comes from.

Stored times are timezone-aware UTC. Tests pin time with `FixedClock` and move it with
`fast_forward`; the demo runs a `FastClock` that lets simulated hours pass in real seconds.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        ...


def utc(dt: datetime) -> datetime:
    """`dt` as aware UTC; naive datetimes (as SQLite returns them) are taken to be UTC already."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


class SystemClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class FixedClock:
    """Time stands still until a test moves it."""

    def __init__(self, start: datetime) -> None:
        self._now = utc(start)

    def now(self) -> datetime:
        return self._now

    def fast_forward(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self._now += delta if delta is not None else timedelta(**kwargs)
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = utc(instant)

    async def sleep(self, seconds: float) -> None:
        # Sleeping on a fixed clock advances it, so loops that wait make progress in tests.
        self._now += timedelta(seconds=seconds)
        await asyncio.sleep(0)


class FastClock:
    """Simulated time running `speed` times faster than the wall clock, from `start`."""

    def __init__(self, start: datetime, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._start = utc(start)
        self._speed = speed
        self._origin = time.monotonic()
        self._skipped = timedelta()

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._origin) * self._speed
        return self._start + timedelta(seconds=elapsed) + self._skipped

    def fast_forward(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self._skipped += delta if delta is not None else timedelta(**kwargs)
        return self.now()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self._speed)
