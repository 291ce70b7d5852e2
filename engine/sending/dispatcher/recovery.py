"""Crash recovery: what dead dispatchers left behind.

A row found `sending` that nobody is working on (its holder is dead, or its lease has run out)
becomes `uncertain`: the process died between committing `sending` and committing the answer, so
the message may or may not have been accepted. It is never re-sent automatically; a person
decides. Rows a dead holder had only claimed are handed back, as nothing was sent for them.

Whether a holder is dead is `engine.sending.liveness`'s question: on PostgreSQL its advisory lock
is gone, on SQLite its process on this host no longer runs; otherwise its lease has to run out.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from engine.sending.dispatcher.statements import DUE_STATUSES, OUTBOX, insert_events
from engine.sending.liveness import holder_is_dead, lock_is_free
from engine.store.db import is_sqlite
from engine.store.events import EventKind
from engine.store.models import OutboundStatus

log = logging.getLogger(__name__)

DIED_SENDING = "the sending process died during the SMTP transaction"


def recover_in_flight(
    engine: Engine, worker_id: str, in_hand: Collection[int], now: datetime, lease: timedelta
) -> int:
    """Resolve rows left in flight; returns how many became `uncertain`.

    `in_hand` are the rows this worker is sending right now: they are never touched.
    """
    postgres = not is_sqlite(str(engine.url))
    with engine.begin() as db:
        held = [
            r
            for r in db.execute(
                sa.select(
                    OUTBOX.c.id, OUTBOX.c.status, OUTBOX.c.claimed_by, OUTBOX.c.claimed_at
                ).where(
                    OUTBOX.c.claimed_by.is_not(None),
                    OUTBOX.c.status.in_((OutboundStatus.SENDING.value, *DUE_STATUSES)),
                    # Only due rows are ever claimed: a range of the due index, not the backlog.
                    OUTBOX.c.scheduled_at <= now,
                )
            ).all()
            if r.id not in in_hand
        ]
        # Rows under our own worker id that are not in hand were left by an earlier process that
        # used the same id (`--worker-id` reused after a crash): its process is dead as surely as
        # any other's. (Two live ones cannot share an id: on PostgreSQL the liveness lock keeps
        # the second out, on SQLite the daemon lock.)
        dead = {
            h
            for h in {r.claimed_by for r in held}
            if h == worker_id or holder_is_dead(h) or (postgres and lock_is_free(db, h))
        }
        gone = [
            r.id
            for r in held
            if r.status == OutboundStatus.SENDING.value
            and (r.claimed_by in dead or _expired(r.claimed_at, now, lease))
        ]
        orphans = [
            r.id for r in held if r.status != OutboundStatus.SENDING.value and r.claimed_by in dead
        ]
        if gone:
            db.execute(
                OUTBOX.update()
                .where(OUTBOX.c.id.in_(gone), OUTBOX.c.status == OutboundStatus.SENDING.value)
                .values(status=OutboundStatus.UNCERTAIN.value, error=DIED_SENDING)
            )
            insert_events(db, now, EventKind.SEND_UNCERTAIN, [{"outbound_id": i} for i in gone])
        if orphans:
            db.execute(
                OUTBOX.update()
                .where(OUTBOX.c.id.in_(orphans), OUTBOX.c.status.in_(DUE_STATUSES))
                .values(claimed_by=None, claimed_at=None)
            )
    for outbound_id in gone:
        log.warning("outbox row %d left in flight by a dead sender: now uncertain", outbound_id)
    return len(gone)


def _expired(claimed_at: datetime | None, now: datetime, lease: timedelta) -> bool:
    return claimed_at is None or claimed_at < now - lease
