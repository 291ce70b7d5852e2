"""Hypothesis strategies for send windows and rules, shared by the window and capacity tests."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from engine.basics.windows import SendRules, SendWindow

ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # a 30-minute DST change
    "Pacific/Apia",  # skipped 30 December 2011 when it crossed the date line
    "Pacific/Kiritimati",  # UTC+14: its Tuesday is mostly UTC's Monday
    "Asia/Kolkata",
    "America/St_Johns",
]

instants = st.datetimes(
    min_value=datetime(2010, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)
zones = st.sampled_from(ZONES).map(ZoneInfo)


@st.composite
def windows(draw: st.DrawFn) -> SendWindow:
    start = draw(st.integers(0, 23 * 60 + 58))
    end = draw(st.integers(start + 1, 24 * 60))
    as_time = (lambda m: time(m // 60, m % 60)) if end < 24 * 60 else (lambda m: time(0))
    return SendWindow(time(start // 60, start % 60), as_time(end))


rules_strategy = st.builds(
    SendRules,
    windows=st.lists(windows(), min_size=1, max_size=3).map(tuple),
    weekdays=st.frozensets(st.integers(0, 6), min_size=1),
    holidays=st.sampled_from([None, "US", "GB", "AU", "IN"]),
)
