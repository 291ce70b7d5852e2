"""Sender mailboxes as a person sees and steers them: their state today, pausing and resuming.

Spear pauses a mailbox by itself when its SMTP server refuses the credentials or too many of its
messages come back blocked (`MailboxState.paused`, `paused_reason`, `alarm`); the dispatcher then
sends nothing from it and the planner starts no new thread on it. `spear mailbox` shows why and
lets a person resume it once the cause is fixed, or pause one by hand. Both take effect at the
daemon's next pass: the dispatcher and the planner read the state from the table every time.

`mailbox_statuses` is also what `spear status`, `spear schedule` and the metrics show, so every
view agrees. "Today" is the day of `now` in `Config.timezone`, the day the daily caps count; cap
and remaining capacity come from `engine.sending.capacity`, the functions the planner books with.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from engine.clock import utc
from engine.config import Config, MailboxConfig
from engine.errors import NotFoundError
from engine.prospects import lifecycle
from engine.sending.capacity import MailboxLimits, day_bounds, remaining_today
from engine.sending.planner import mailbox_bookings
from engine.store.events import EventKind
from engine.store.models import Event, MailboxState, OutboundMessage, OutboundStatus, PauseCause


@dataclass(frozen=True)
class MailboxStatus:
    name: str
    configured: bool  # False: the database names a mailbox the configuration no longer has
    address: str | None  # None when not configured
    daily_cap: int | None  # today's, after the warm-up ramp; None when not configured
    sent_today: int
    sent_total: int
    failed: int
    remaining_today: int | None
    paused: bool
    pause_cause: PauseCause | None
    paused_reason: str | None
    alarm: str | None
    last_send_at: datetime | None


def mailbox_record(status: MailboxStatus) -> dict[str, Any]:
    """One mailbox as plain values, for JSON and CSV."""
    record = asdict(status)
    record["last_send_at"] = status.last_send_at.isoformat() if status.last_send_at else None
    return record


@dataclass(frozen=True)
class MailboxChange:
    """What pausing or resuming did: `changed` is False when the mailbox already was so."""

    name: str
    changed: bool
    paused_reason: str | None  # the reason it is paused now, or was paused for before resuming
    alarm: str | None  # the alarm cleared by resuming, if any


def mailbox_statuses(session: Session, config: Config, now: datetime) -> list[MailboxStatus]:
    """Every mailbox the configuration or the database knows of, by name."""
    now = utc(now)
    states = {s.name: s for s in session.exec(select(MailboxState)).all()}
    counts = _send_counts(session, config, now)
    configured = {m.name: m for m in config.mailboxes}
    names = sorted(set(configured) | set(states) | set(counts))
    return [
        _status(session, config, name, configured.get(name), states.get(name), counts, now)
        for name in names
    ]


def pause_mailbox(
    session: Session,
    config: Config,
    name: str,
    now: datetime,
    reason: str,
    *,
    cause: PauseCause = PauseCause.BY_HAND,
    actor: str = "cli",
) -> MailboxChange:
    """Pause mailbox `name` with `reason`; a mailbox already paused keeps its own reason."""
    state = _state(session, config, name, now)
    session.add(state)
    session.flush()
    if not lifecycle.pause_mailbox(session, name, cause, reason, now):
        return MailboxChange(name, False, state.paused_reason, state.alarm)
    session.add(
        Event(
            at=now,
            kind=EventKind.MAILBOX_PAUSED,
            actor=actor,
            data={"mailbox": name, "reason": reason},
        )
    )
    session.flush()
    return MailboxChange(name, True, state.paused_reason, state.alarm)


def resume_mailbox(
    session: Session, config: Config, name: str, now: datetime, *, actor: str = "cli"
) -> MailboxChange:
    """Clear the pause, its reason and the alarm of mailbox `name`; nothing when not paused."""
    state = _state(session, config, name, now)
    if not state.paused:
        return MailboxChange(name, False, None, state.alarm)
    cleared = MailboxChange(name, True, state.paused_reason, state.alarm)
    state.paused = False
    state.pause_cause = None
    state.paused_reason = None
    state.alarm = None
    state.updated_at = now
    session.add(state)
    session.add(
        Event(
            at=now,
            kind=EventKind.MAILBOX_RESUMED,
            actor=actor,
            data={"mailbox": name, "paused_reason": cleared.paused_reason, "alarm": cleared.alarm},
        )
    )
    session.flush()
    return cleared


def _state(session: Session, config: Config, name: str, now: datetime) -> MailboxState:
    """The state row of a mailbox known to the configuration or the table (created if need be)."""
    state = session.get(MailboxState, name)
    if state is not None:
        return state
    if name not in {m.name for m in config.mailboxes}:
        known = ", ".join(m.name for m in config.mailboxes) or "none configured"
        raise NotFoundError(f"no mailbox named {name!r} (known: {known})")
    # The dispatcher creates the row at its first send; a mailbox paused before that needs it now.
    return MailboxState(name=name, paused=False, updated_at=now)


@dataclass(frozen=True)
class _Counts:
    sent_today: int = 0
    sent_total: int = 0
    failed: int = 0


def _send_counts(session: Session, config: Config, now: datetime) -> dict[str, _Counts]:
    """Sent today, sent in all and failed, per mailbox named in the outbox: one query."""
    zone = ZoneInfo(config.timezone)
    day_start, day_end = day_bounds(now.astimezone(zone).date(), zone)
    status = col(OutboundMessage.status)
    sent = status == OutboundStatus.SENT
    sent_at = col(OutboundMessage.sent_at)
    today = sa.and_(sent, sent_at >= day_start, sent_at < day_end)
    query = sa.select(
        col(OutboundMessage.mailbox),
        sa.func.count().filter(today),
        sa.func.count().filter(sent),
        sa.func.count().filter(status == OutboundStatus.FAILED),
    ).group_by(OutboundMessage.mailbox)
    return {
        mailbox: _Counts(sent_today, sent_total, failed)
        for mailbox, sent_today, sent_total, failed in session.execute(query).all()
    }


def _status(
    session: Session,
    config: Config,
    name: str,
    mailbox: MailboxConfig | None,
    state: MailboxState | None,
    counts: dict[str, _Counts],
    now: datetime,
) -> MailboxStatus:
    cap = remaining = None
    if mailbox is not None:
        zone = ZoneInfo(config.timezone)
        limits = MailboxLimits.of(mailbox, state.first_send_on if state else None, zone)
        day = limits.day_of(now)
        start, end = day_bounds(day, zone)
        bookings = mailbox_bookings(session, name, start, until=end)
        cap = limits.cap_on(day, bookings)
        remaining = remaining_today(limits, bookings, now)
    count = counts.get(name, _Counts())
    return MailboxStatus(
        name=name,
        configured=mailbox is not None,
        address=mailbox.address if mailbox is not None else None,
        daily_cap=cap,
        sent_today=count.sent_today,
        sent_total=count.sent_total,
        failed=count.failed,
        remaining_today=remaining,
        paused=bool(state and state.paused),
        pause_cause=state.pause_cause if state and state.paused else None,
        paused_reason=state.paused_reason if state else None,
        alarm=state.alarm if state else None,
        last_send_at=state.last_send_at if state else None,
    )
