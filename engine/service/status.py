"""What the daemon is doing, read from the database: `spear status` and the Prometheus gauges.

Everything here is read from the tables, never from one process's memory, so the answer is the
same whichever daemon (or CLI) asks, also when several daemons share one PostgreSQL database.

"Today" is the day of `now` in `Config.timezone`, the day the planner's daily caps count. Each
mailbox's line comes from `engine.sending.mailboxes.mailbox_statuses` (also behind `spear mailbox
list`): its cap and remaining capacity are computed by `engine.sending.capacity`, the functions
the planner books with: the daily cap lowered by the warm-up ramp, minus the sends booked on that
day (sent, planned, retrying or in flight), whatever the recipients' time zones: the cap protects
the sending mailbox's reputation, which counts its own day, not the recipients'.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from engine.clock import utc
from engine.config import Config
from engine.sending.capacity import day_bounds
from engine.sending.mailboxes import MailboxStatus, mailbox_statuses
from engine.store.models import (
    ImapFolderState,
    InboundMessage,
    InboundStatus,
    OutboundMessage,
    OutboundStatus,
)
from engine.tasks.listing import count_due_tasks

# The outbox rows still to be sent (or resolved): together, the queue.
QUEUED_STATUSES = (
    OutboundStatus.PLANNED,
    OutboundStatus.SENDING,
    OutboundStatus.RETRY,
    OutboundStatus.UNCERTAIN,
)


@dataclass(frozen=True)
class FolderStatus:
    mailbox: str
    folder: str
    last_poll_at: datetime | None
    lag_seconds: float | None  # None: never polled


@dataclass(frozen=True)
class Status:
    at: datetime
    mailboxes: list[MailboxStatus]
    folders: list[FolderStatus]
    outbox: dict[str, int]  # outbound rows by status
    replies_by_label: dict[str, int]  # every classified inbound message, by label
    replies_today: int
    review_queue: int
    alarms: list[str] = field(default_factory=list)
    tasks_due: int = 0  # calls and other tasks waiting for a rep, due by now

    @property
    def sent_today(self) -> int:
        return sum(m.sent_today for m in self.mailboxes)

    @property
    def sent_total(self) -> int:
        return sum(m.sent_total for m in self.mailboxes)

    @property
    def failed(self) -> int:
        return sum(m.failed for m in self.mailboxes)

    @property
    def queued(self) -> int:
        return sum(self.outbox.get(s.value, 0) for s in QUEUED_STATUSES)

    @property
    def uncertain(self) -> int:
        return self.outbox.get(OutboundStatus.UNCERTAIN.value, 0)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            sent_today=self.sent_today,
            sent_total=self.sent_total,
            failed=self.failed,
            queued=self.queued,
            uncertain=self.uncertain,
        )
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), default=_json_default, indent=2, sort_keys=True)


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# --- queries ------------------------------------------------------------------------------------


def collect_status(session: Session, config: Config, now: datetime) -> Status:
    now = utc(now)
    zone = ZoneInfo(config.timezone)
    day_start, _ = day_bounds(now.astimezone(zone).date(), zone)
    mailboxes = mailbox_statuses(session, config, now)
    replies_today = session.exec(
        select(func.count())
        .select_from(InboundMessage)
        .where(col(InboundMessage.label).is_not(None))
        .where(col(InboundMessage.received_at) >= day_start)
    ).one()
    review_queue = session.exec(
        select(func.count())
        .select_from(InboundMessage)
        .where(InboundMessage.status == InboundStatus.REVIEW)
    ).one()
    tasks_due = count_due_tasks(session, now)
    return Status(
        at=now,
        mailboxes=mailboxes,
        folders=_folders(session, config, now),
        outbox={str(k): v for k, v in _count_by(session, OutboundMessage.status).items()},
        replies_by_label={
            str(k): v
            for k, v in _count_by(
                session, InboundMessage.label, col(InboundMessage.label).is_not(None)
            ).items()
        },
        replies_today=replies_today,
        review_queue=review_queue,
        alarms=[f"{m.name}: {m.alarm}" for m in mailboxes if m.alarm],
        tasks_due=tasks_due,
    )


def _count_by(session: Session, column: Any, *conditions: Any) -> dict[Any, int]:
    query = sa.select(column, sa.func.count()).group_by(column)
    for condition in conditions:
        query = query.where(condition)
    return {key: count for key, count in session.execute(query).all()}


def _folders(session: Session, config: Config, now: datetime) -> list[FolderStatus]:
    polled = {(f.mailbox, f.folder): f for f in session.exec(select(ImapFolderState)).all()}
    expected = {(m.name, folder) for m in config.mailboxes if m.imap for folder in m.imap.folders}
    folders = []
    for mailbox, folder in sorted(expected | set(polled)):
        state = polled.get((mailbox, folder))
        last = state.last_poll_at if state else None
        lag = (now - last).total_seconds() if last else None
        folders.append(FolderStatus(mailbox, folder, last, lag))
    return folders


# --- the text `spear status` prints -------------------------------------------------------------


def render_status(status: Status) -> str:
    waiting = {
        str(name): status.outbox.get(name, 0)
        for name in (OutboundStatus.PLANNED, OutboundStatus.SENDING, OutboundStatus.RETRY)
        if status.outbox.get(name, 0)
    }
    to_go = sum(waiting.values())
    breakdown = f" ({_pairs(waiting)})" if waiting else ""
    uncertain = f"; {status.uncertain} uncertain, for a person to check" if status.uncertain else ""
    lines = [
        f"Spear status at {status.at:%Y-%m-%d %H:%M:%S} UTC",
        "",
        "Sending",
        f"  sent: {status.sent_today} today, {status.sent_total} in all; {status.failed} failed",
        f"  outbox: {to_go} waiting to go{breakdown}{uncertain}",
        "Replies",
        f"  received: {status.replies_today} today; in all by label: "
        f"{_pairs(status.replies_by_label)}",
        f"  review queue: {status.review_queue} waiting for a person",
        f"  tasks due: {status.tasks_due} (spear tasks)",
        "",
        "Mailboxes",
    ]
    for m in status.mailboxes:
        cap = (
            "not configured"
            if m.daily_cap is None
            else f"{m.remaining_today} of {m.daily_cap} left today"
        )
        state = f"PAUSED ({m.paused_reason or 'no reason given'})" if m.paused else "active"
        alarm = f", ALARM: {m.alarm}" if m.alarm else ""
        lines.append(f"  {m.name}: {state}, {m.sent_today} sent today, {cap}{alarm}")
    if not status.mailboxes:
        lines.append("  (none)")
    lines += ["", "IMAP polling"]
    for f in status.folders:
        lag = "never" if f.lag_seconds is None else f"{_duration(f.lag_seconds)} ago"
        lines.append(f"  {f.mailbox}/{f.folder}: last poll {lag}")
    if not status.folders:
        lines.append("  (none)")
    return "\n".join(lines)


def _pairs(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "none"


def _duration(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"
