"""Send windows: when, in the recipient's own time, a step may go out. Pure arithmetic.

(Skeleton: the types below are the contract shared with cadences; the functions come next.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum


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
    """A daily window in the recipient's local time, start inclusive, end exclusive."""

    start: time
    end: time


# Weekdays are numbered as `date.weekday()`: Monday 0 ... Sunday 6.
PLAY_WEEKDAYS = frozenset({1, 2, 3, 6})  # Tue, Wed, Thu, Sun: avoid Monday and Friday
PLAY_WINDOWS = (SendWindow(time(7, 0), time(9, 0)), SendWindow(time(17, 0), time(19, 0)))


@dataclass(frozen=True)
class SendRules:
    windows: tuple[SendWindow, ...] = PLAY_WINDOWS
    weekdays: frozenset[int] = field(default=PLAY_WEEKDAYS)
    holidays: str | None = None  # ISO country code for public holidays to skip, e.g. "US"
