"""Cap accounting at dispatch: how many more messages each mailbox may send now.

The planner books within the caps already; this is their last word, for a cap lowered after
planning or a retry that lands in a full hour. Synchronous database work: the dispatcher runs it
in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from engine.config import Config
from engine.sending.capacity import MailboxLimits, day_bounds, sends_allowed
from engine.sending.dispatcher.statements import GONE_STATUSES, MAILBOX_STATE, OUTBOX


@dataclass(frozen=True)
class Allowance:
    """What the caps leave each configured mailbox now, and when each last sent."""

    left: dict[str, int]
    last_sends: dict[str, datetime]
    paused: list[str]

    @property
    def closed(self) -> list[str]:
        """Mailboxes that send nothing this pass: paused, or with nothing left."""
        return [*self.paused, *(name for name, left in self.left.items() if left == 0)]


def allowance(engine: Engine, config: Config, now: datetime, oldest: timedelta) -> Allowance:
    """What each configured mailbox's daily cap (after the warm-up ramp, on the sender's calendar
    day) and hourly cap leave of what went today and this hour.

    A mailbox whose minimum gap since its last send still runs gets nothing: it is left for a
    later pass rather than claimed to wait. One grouped query per pass, over the last day's sends;
    `oldest` is how long before its send a row can have been scheduled (the retry deadline).
    """
    zone = ZoneInfo(config.timezone)
    day_start, _ = day_bounds(now.astimezone(zone).date(), zone)
    hour_start = now.replace(minute=0, second=0, microsecond=0)
    since = min(day_start, now - timedelta(hours=1))
    went_at = sa.func.coalesce(OUTBOX.c.sent_at, OUTBOX.c.claimed_at)
    query = (
        sa.select(
            OUTBOX.c.mailbox,
            sa.func.sum(sa.case((went_at >= day_start, 1), else_=0)).label("today"),
            sa.func.sum(
                sa.case((sa.and_(went_at >= day_start, went_at >= hour_start), 1), else_=0)
            ).label("this_hour"),
            sa.func.max(went_at).label("last"),
        )
        .where(
            OUTBOX.c.status.in_(GONE_STATUSES),
            # A row goes out before its retry deadline: this keeps the count a range scan.
            OUTBOX.c.scheduled_at >= since - oldest - timedelta(days=1),
            went_at >= since,
        )
        .group_by(OUTBOX.c.mailbox)
    )
    with engine.connect() as db:
        went = {r.mailbox: (r.today or 0, r.this_hour or 0, r.last) for r in db.execute(query)}
        states = db.execute(
            sa.select(MAILBOX_STATE.c.name, MAILBOX_STATE.c.first_send_on, MAILBOX_STATE.c.paused)
        ).all()
    first_days = {s.name: s.first_send_on for s in states}
    left, last_sends = {}, {}
    for mailbox in config.mailboxes:
        limits = MailboxLimits.of(mailbox, first_days.get(mailbox.name), zone)
        today, this_hour, last = went.get(mailbox.name, (0, 0, None))
        allowed = sends_allowed(limits, now, today, this_hour)
        if last is not None:
            last_sends[mailbox.name] = last
            if limits.min_gap and now < last + limits.min_gap:
                allowed = 0  # not claimed only to wait: a later pass takes it
        left[mailbox.name] = allowed
    return Allowance(left, last_sends, paused=[s.name for s in states if s.paused])
