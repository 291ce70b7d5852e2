"""Persisted jobs: one claim, lease, backoff and deadline for every queue Spear works through.

A queue's jobs are `Event` rows. Where a job stands is a `JobState`: the event's kind and, when
several states share one kind, `data["status"]`. Hand-off emails are `handoff.email` events with
status `pending` or `sending`; webhooks move between the kinds `webhook.pending` and
`webhook.sending`. The outbox keeps its jobs in a table of its own, with the SQL its volume
needs; its retry rule is `RetryPolicy` with the defaults.

- **Due**: waiting, with `data["next_attempt_at"]` (if any) reached; or working under a claim
  whose lease ran out (its worker crashed or hangs), to be taken over.
- **Claim**: one conditional update moves the job from the state it was seen in, with the claim
  and retry time it was seen with, to working, under a fresh claim token and `claimed_at`. Of two
  workers only one update matches, on SQLite (writes take turns) as on PostgreSQL (the second
  waits for the first's row lock, then re-checks its condition against the committed row).
- **Finish**: a conditional update on our claim token writes the outcome and drops the claim; a
  worker whose lease was taken over writes nothing.
- **Backoff and deadline**: `RetryPolicy`; the job's worker decides what failed and when it began.

Delivery is at least once: a worker that crashes after acting and before finishing leaves a claim
that runs out, and the job is done again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from engine.store.db import session_scope
from engine.store.events import EventKind
from engine.store.models import Event

log = logging.getLogger(__name__)

# The keys of `Event.data` this module reads and writes; the rest belongs to the queue.
STATUS = "status"
NEXT_ATTEMPT_AT = "next_attempt_at"
CLAIM = "claim"
CLAIMED_AT = "claimed_at"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff for temporary failures, until `deadline` after the job began.

    The defaults are the outbox's (and the hand-offs'): 5 minutes, doubling, at most 2 hours
    apart, for 48 hours after the planned time. No jitter: retries of one job are minutes apart
    already, and fixed times keep the schedule testable to the second.
    """

    first_delay: timedelta = timedelta(minutes=5)
    max_delay: timedelta = timedelta(hours=2)
    deadline: timedelta = timedelta(hours=48)
    factor: float = 2.0

    def __post_init__(self) -> None:
        if self.first_delay <= timedelta(0) or self.max_delay < self.first_delay:
            raise ValueError("a retry policy needs 0 < first_delay <= max_delay")
        if self.factor < 1 or self.deadline < timedelta(0):
            raise ValueError("a retry policy needs factor >= 1 and deadline >= 0")

    def delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed attempt: first_delay, times factor after each
        further one, never more than max_delay."""
        wait = self.first_delay
        for _ in range(attempts - 1):
            if wait >= self.max_delay:
                break  # also keeps a huge attempt count from overflowing timedelta
            wait *= self.factor
        return min(wait, self.max_delay)

    def next_attempt(self, attempts: int, began_at: datetime, now: datetime) -> datetime | None:
        """When to try again after `attempts` failed attempts, the last one `now`; None when that
        would be past the deadline, counted from `began_at`: then the job has failed for good."""
        when = now + self.delay(attempts)
        return when if when <= began_at + self.deadline else None

    def gave_up(self, attempts: int, began_at: datetime, now: datetime) -> bool:
        return self.next_attempt(attempts, began_at, now) is None


@dataclass(frozen=True)
class JobState:
    """One state of a queue's jobs as stored: the event kind, and `data["status"]` when the queue
    keeps all its states under one kind."""

    kind: EventKind
    status: str | None = None

    def holds(self) -> ColumnElement[bool]:
        """SQL: the event is in this state."""
        kind = col(Event.kind) == self.kind
        return kind if self.status is None else sa.and_(kind, _key(STATUS) == self.status)

    def contains(self, event: Event) -> bool:
        return event.kind == self.kind and (
            self.status is None or event.data.get(STATUS) == self.status
        )

    def stored(self, data: dict[str, Any]) -> dict[str, Any]:
        """The column values that put an event with `data` in this state."""
        if self.status is not None:
            data = {**data, STATUS: self.status}
        return {"kind": self.kind, "data": data}


class EventJobs:
    """A queue of jobs kept in event rows: `due`, then `claim` each, then `finish` each claimed.

    `live_only` leaves undone events alone: a hand-off undone before its turn never goes out.
    The methods are blocking database calls: run them in a worker thread from async code.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        waiting: JobState,
        working: JobState,
        lease: timedelta = timedelta(minutes=10),
        live_only: bool = False,
    ) -> None:
        self.engine = engine
        self.waiting = waiting
        self.working = working
        self.lease = lease
        self.live_only = live_only

    def due(self, now: datetime, limit: int | None = None) -> list[Event]:
        """The jobs to claim now, oldest first (each as seen now: `claim` checks it is still so)."""
        with Session(self.engine) as session:
            events = session.exec(
                select(Event)
                .where(sa.or_(self.waiting.holds(), self.working.holds()), *self._live())
                .order_by(col(Event.id))
            ).all()
        due = [event for event in events if self._is_due(event, now)]
        return due[:limit]

    def claim(self, event: Event, now: datetime) -> Event | None:
        """The job claimed for us (a detached copy with the claim in its data), or None when it
        is no longer as `due` saw it: another worker claimed, finished or took it over."""
        seen = dict(event.data)
        data = {**seen, CLAIM: uuid.uuid4().hex, CLAIMED_AT: now.isoformat()}
        state = self.working if self.working.contains(event) else self.waiting
        unchanged = [_as_seen(key, seen.get(key)) for key in (CLAIM, CLAIMED_AT, NEXT_ATTEMPT_AT)]
        with session_scope(self.engine) as session:
            updated = session.execute(
                sa.update(Event)
                .where(col(Event.id) == event.id, state.holds(), *unchanged, *self._live())
                .values(**self.working.stored(data))
            )
        if _rowcount(updated) != 1:
            return None
        return Event(**{**event.model_dump(), **self.working.stored(data)})

    def finish(self, job: Event, state: JobState, data: dict[str, Any]) -> bool:
        """Put the claimed `job` in `state` with `data` (the claim dropped): retried later when
        `state` is the waiting one, else settled for good. False when our lease was taken over."""
        kept = {key: value for key, value in data.items() if key not in (CLAIM, CLAIMED_AT)}
        with session_scope(self.engine) as session:
            updated = session.execute(
                sa.update(Event)
                .where(col(Event.id) == job.id, self.working.holds())
                .where(_key(CLAIM) == job.data[CLAIM])
                .values(**state.stored(kept))
            )
        if _rowcount(updated) == 1:
            return True
        log.warning(
            "%s %s is no longer ours (the lease ran out and another worker took it over): "
            "this outcome is not recorded",
            job.kind,
            job.id,
        )
        return False

    def _is_due(self, event: Event, now: datetime) -> bool:
        if self.working.contains(event):
            return lease_expired(event.data.get(CLAIMED_AT), now, self.lease)
        retry_at = event.data.get(NEXT_ATTEMPT_AT)
        return retry_at is None or datetime.fromisoformat(retry_at) <= now

    def _live(self) -> Sequence[ColumnElement[bool]]:
        return [col(Event.undone_at).is_(None)] if self.live_only else []


def lease_expired(claimed_at: str | None, now: datetime, lease: timedelta) -> bool:
    """Whether a claim taken at `claimed_at` (ISO text; None: no time recorded) has run out."""
    return claimed_at is None or datetime.fromisoformat(claimed_at) + lease <= now


def _key(key: str) -> ColumnElement[str]:
    """SQL: `Event.data[key]` as text (NULL when absent or JSON null), on SQLite and PostgreSQL."""
    value: ColumnElement[str] = col(Event.data)[key].as_string()
    return value


def _as_seen(key: str, value: Any) -> ColumnElement[bool]:
    return _key(key).is_(None) if value is None else _key(key) == str(value)


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0))


__all__ = ["EventJobs", "JobState", "RetryPolicy", "lease_expired"]
