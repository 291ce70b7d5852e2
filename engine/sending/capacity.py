"""How much a sender mailbox may send, and when it can take one more message. Pure.

A mailbox has a daily cap (counted on the sender's own calendar day), an hourly cap (per clock
hour, UTC), a minimum gap between two of its sends with random jitter on top, and an optional
warm-up ramp (N a day on the first sending day, M more each day after, up to the daily cap).
`send_slot` fits a step both to the recipient's windows and to the mailbox's limits;
`sends_allowed` is the caps' last word when the dispatcher sends, and `ready_at` the gap's: mail
that is overdue (a mailbox resumed, an outage, a cron `--once`) still leaves one message at a time.
"""

from __future__ import annotations

import hashlib
import random
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from engine.basics.windows import (
    ScheduleError,
    SendRules,
    first_instant_at_or_after,
    next_slot,
)
from engine.clock import utc
from engine.config import MailboxConfig

_MAX_ROUNDS = 10_000
UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True)
class MailboxLimits:
    daily_cap: int = 50
    hourly_cap: int = 20
    min_gap: timedelta = timedelta(seconds=60)
    jitter: timedelta = timedelta(seconds=30)
    warmup_start: int | None = None  # None: no ramp
    warmup_step: int = 0
    first_send_on: date | None = None  # the ramp's day 0; None: the day of the first send
    day_zone: ZoneInfo = UTC_ZONE  # whose calendar day the daily cap counts

    @classmethod
    def of(
        cls, mailbox: MailboxConfig, first_send_on: date | None, day_zone: ZoneInfo
    ) -> MailboxLimits:
        warmup = mailbox.warmup
        return cls(
            daily_cap=mailbox.daily_cap,
            hourly_cap=mailbox.hourly_cap,
            min_gap=timedelta(seconds=mailbox.min_gap_seconds),
            jitter=timedelta(seconds=mailbox.jitter_seconds),
            warmup_start=warmup.start if warmup else None,
            warmup_step=warmup.step if warmup else 0,
            first_send_on=first_send_on,
            day_zone=day_zone,
        )

    def cap_on(self, day: date, bookings: Bookings | None = None) -> int:
        """The daily cap on `day`, after the warm-up ramp.

        The ramp counts from the mailbox's first sending day; before anything was sent, from the
        day of its first booking.
        """
        if self.warmup_start is None:
            return self.daily_cap
        first = self.first_send_on
        if first is None and bookings is not None and bookings.first is not None:
            first = self.day_of(bookings.first)
        ramp_day = max((day - (first or day)).days, 0)
        return min(self.daily_cap, self.warmup_start + self.warmup_step * ramp_day)

    def day_of(self, instant: datetime) -> date:
        return utc(instant).astimezone(self.day_zone).date()

    def ready_at(self, last_send: datetime, scheduled_at: datetime, key: str) -> datetime:
        """The earliest a message booked at `scheduled_at` may go at dispatch, after the mailbox's
        last send at `last_send`.

        One booked at least the minimum gap after that send was spaced by the planner (jitter
        included): the gap is all it needs. One booked closer is overdue mail catching up (a
        mailbox resumed, an outage, a cron `--once`): the gap and a jitter that is random across
        messages but the same for one message (`key`, its Message-ID), so every pass agrees.
        """
        earliest = utc(last_send) + self.min_gap
        if utc(scheduled_at) >= earliest:
            return earliest
        fraction = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") / 2**32
        return earliest + self.jitter * fraction


class Bookings:
    """A mailbox's send times (sent and planned), sorted, with the counts the caps need."""

    def __init__(self, times: Iterable[datetime] = ()) -> None:
        self._times = sorted(utc(t) for t in times)

    def add(self, instant: datetime) -> None:
        index = bisect_right(self._times, utc(instant))
        self._times.insert(index, utc(instant))

    def between(self, start: datetime, end: datetime) -> int:
        """How many sends fall in [start, end)."""
        return bisect_left(self._times, end) - bisect_left(self._times, start)

    def near(self, instant: datetime, gap: timedelta) -> datetime | None:
        """The latest booked send closer than `gap` to `instant` on either side, if any."""
        index = bisect_left(self._times, instant + gap)
        if index and self._times[index - 1] > instant - gap:
            return self._times[index - 1]
        return None

    @property
    def first(self) -> datetime | None:
        return self._times[0] if self._times else None

    def __len__(self) -> int:
        return len(self._times)


def remaining_today(limits: MailboxLimits, bookings: Bookings, now: datetime) -> int:
    """How many more sends the mailbox may book on `now`'s day."""
    day = limits.day_of(now)
    start, end = day_bounds(day, limits.day_zone)
    return max(limits.cap_on(day, bookings) - bookings.between(start, end), 0)


def next_free(
    not_before: datetime, limits: MailboxLimits, bookings: Bookings, gap: timedelta
) -> datetime:
    """The earliest instant >= `not_before` at which one more send breaks no cap and no gap."""
    instant = utc(not_before)
    for _ in range(_MAX_ROUNDS):
        day = limits.day_of(instant)
        day_start, day_end = day_bounds(day, limits.day_zone)
        if bookings.between(day_start, day_end) >= limits.cap_on(day, bookings):
            instant = day_end
            continue
        hour = instant.replace(minute=0, second=0, microsecond=0)
        if bookings.between(hour, hour + timedelta(hours=1)) >= limits.hourly_cap:
            instant = hour + timedelta(hours=1)
            continue
        neighbour = bookings.near(instant, gap)
        if neighbour is not None:
            instant = neighbour + gap
            continue
        return instant
    raise ScheduleError(f"no free send time for the mailbox after {not_before.isoformat()}")


def send_slot(
    due: datetime,
    tz: ZoneInfo,
    rules: SendRules,
    limits: MailboxLimits,
    bookings: Bookings,
    rng: random.Random,
) -> datetime:
    """The first instant >= `due` inside the recipient's windows that the mailbox can take.

    The jitter is drawn once from `rng` and both widens the minimum gap and offsets the send from
    the window's edge, so messages do not leave on the minute like a machine's. A step due inside
    an open window with the mailbox free goes at `due` itself: what is due now is sent by this
    pass (`spear run --once --now T` sends what is due at T).
    """
    jitter = timedelta(seconds=rng.uniform(0, limits.jitter.total_seconds()))
    gap = limits.min_gap + jitter
    opening = next_slot(due, tz, rules)
    instant = opening + jitter if opening > due else opening
    for _ in range(_MAX_ROUNDS):
        fitted = next_free(next_slot(instant, tz, rules), limits, bookings, gap)
        if fitted == instant:
            return instant
        instant = fitted
    raise ScheduleError(f"no send slot found after {due.isoformat()}")


def choose_mailbox(
    allowed: Sequence[str], load: dict[str, int], paused: Iterable[str] = ()
) -> str | None:
    """The mailbox for a new thread: the least loaded of `allowed`, earlier ones winning ties.

    `load` is each mailbox's number of booked sends (today and ahead); as each choice adds to its
    load, choosing repeatedly rotates through the mailboxes.
    """
    skip = set(paused)
    candidates = [name for name in allowed if name not in skip]
    if not candidates:
        return None
    return min(candidates, key=lambda name: (load.get(name, 0), allowed.index(name)))


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """`day` in `zone` as a UTC interval [start, end): the day a daily cap counts."""
    start = first_instant_at_or_after(day, time(0), zone)
    end = first_instant_at_or_after(day + timedelta(days=1), time(0), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def sends_allowed(
    limits: MailboxLimits, now: datetime, sent_today: int, sent_this_hour: int
) -> int:
    """How many more messages the mailbox may send at `now`, given what went today (on its
    own calendar day) and in this clock hour: the caps' last word at dispatch."""
    daily = limits.cap_on(limits.day_of(now)) - sent_today
    return max(min(daily, limits.hourly_cap - sent_this_hour), 0)
