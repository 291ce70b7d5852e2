"""Claiming due outbox rows, and handing back the ones a batch does not send.

A claim is only a reservation: `claimed_by` and `claimed_at` are set while the status stays as
it was. If its holder dies, the rows are claimed again after the lease (or at once when the holder
is known dead, see `recovery`), and nothing was sent for them. Synchronous database work: the
dispatcher runs it in a worker thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from engine.sending.dispatcher.statements import DUE_STATUSES, OUTBOX, due_query
from engine.store.db import is_sqlite


@dataclass(frozen=True)
class Claimed:
    """An outbox row this dispatcher holds, with what sending it needs."""

    id: int
    enrollment_id: int
    prospect_id: int
    step_id: str
    mailbox: str
    message_id: str
    to_address: str
    raw: bytes
    status: str
    attempts: int
    scheduled_at: datetime
    send_before: datetime | None
    created_at: datetime | None


_CLAIMED_COLUMNS = tuple(OUTBOX.c[f.name] for f in fields(Claimed))


def claim(
    engine: Engine, worker_id: str, now: datetime, lease: timedelta, skip: Sequence[str], limit: int
) -> list[Claimed]:
    """Claim up to `limit` due rows, none on the mailboxes in `skip`, oldest first."""
    due = due_query(now, now - lease, skip, limit)
    holder = {"claimed_by": worker_id, "claimed_at": now}
    with engine.begin() as db:
        if is_sqlite(str(engine.url)):
            # One UPDATE: SQLite serialises writers, so the rows it returns are ours alone.
            taken = db.execute(
                OUTBOX.update()
                .where(OUTBOX.c.id.in_(due.scalar_subquery()), OUTBOX.c.status.in_(DUE_STATUSES))
                .values(**holder)
                .returning(OUTBOX.c.id)
            )
            ids = [r.id for r in taken]
        else:
            ids = list(db.scalars(due.with_for_update(skip_locked=True)))
            if ids:
                db.execute(OUTBOX.update().where(OUTBOX.c.id.in_(ids)).values(**holder))
        if not ids:
            return []
        rows = db.execute(
            sa.select(*_CLAIMED_COLUMNS)
            .where(OUTBOX.c.id.in_(ids))
            .order_by(OUTBOX.c.scheduled_at, OUTBOX.c.id)
        ).all()
    return [Claimed(**row._mapping) for row in rows]


def release(engine: Engine, worker_id: str, ids: Sequence[int]) -> int:
    """Hand back claimed rows untouched (still due); returns how many."""
    if not ids:
        return 0
    with engine.begin() as db:
        db.execute(
            OUTBOX.update()
            .where(
                OUTBOX.c.id.in_(ids),
                OUTBOX.c.claimed_by == worker_id,
                OUTBOX.c.status.in_(DUE_STATUSES),
            )
            .values(claimed_by=None, claimed_at=None)
        )
    return len(ids)
