"""One mailbox's batch: each row committed `sending`, each answer recorded.

Every method is synchronous database work; the send loop runs them, one at a time and in order,
on the batch's own worker thread (`Batch.run`), so the event loop never waits on the database.

- `begin` restamps the Date, checks the bytes (`engine.sending.headers`), then, in one
  transaction, runs the last-moment checks and commits the row `sending` (or `cancelled`). The
  update is conditional on our claim, so of two daemons only one can win.
- A `sent` answer is held (`sent`) and written in the batch's next transaction, usually the one
  that commits the next row `sending`: one commit per message, and still every row is committed
  `sending` before its own SMTP transaction starts. `close` writes what is still held.
- `temporary` (retry with backoff until a deadline, or fail), `permanent` (fail; a refused
  recipient is a hard bounce), `refuse` (unsafe bytes), `uncertain` (the connection was lost while
  the server answered the body) and `pause_mailbox` (AUTH or TLS settings a person has to fix:
  the row goes back as it was) record the other answers.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from engine.basics.headers import UnsafeMessage, check_message
from engine.clock import Clock
from engine.errors import MailAuthError, PermanentMailError
from engine.prospects import lifecycle
from engine.prospects.addresses import AddressError, wire_address
from engine.sending.compose import restamp_date
from engine.sending.dispatcher.checks import SuppressionView, reason_not_to_send
from engine.sending.dispatcher.claiming import Claimed, release
from engine.sending.dispatcher.statements import (
    COUNT_SENT,
    MAILBOX_SENT,
    MAILBOX_STATE,
    MARK_SENDING,
    MARK_SENDING_IF_CLEAR,
    MARK_SENT,
    insert_events,
    ours,
)
from engine.sending.smtp import SmtpPermanentError, SmtpTlsError
from engine.store.events import EventKind
from engine.store.jobs import RetryPolicy
from engine.store.models import OutboundStatus, PauseCause, Prospect, StopCause

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class DispatchStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    bounced: int = 0
    cancelled: int = 0
    uncertain: int = 0
    released: int = 0  # claimed, then handed back untouched (mailbox paused, connection down)

    def add(self, other: DispatchStats) -> None:
        for name in (f.name for f in fields(self)):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class Batch:
    """One mailbox's batch: its thread, its counts, the `sent` answers not yet written."""

    def __init__(
        self,
        engine: Engine,
        mailbox: str,
        worker_id: str,
        clock: Clock,
        retry: RetryPolicy,
        stats: DispatchStats,
    ) -> None:
        self.engine = engine
        self.mailbox = mailbox
        self.worker_id = worker_id
        self.clock = clock
        self.retry = retry
        self.stats = stats
        # One thread, so calls run in the order they were made, even when the task that made
        # them is cancelled while one runs: `close` never overlaps a transaction.
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"dispatch-{mailbox}")
        self._suppressed: SuppressionView | None = None
        self._unrecorded: list[tuple[Claimed, str, datetime]] = []
        self._last_sent_at: datetime | None = None

    async def run(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `work` on the batch's thread."""
        call = functools.partial(work, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._thread, call)

    def open(self, rows: Sequence[Claimed]) -> None:
        """Read the suppression list as it applies to `rows`."""
        self._suppressed = SuppressionView(self.engine, [r.to_address for r in rows])

    def release(self, ids: Sequence[int]) -> None:
        """Hand back rows this batch will not send."""
        self.stats.released += release(self.engine, self.worker_id, ids)

    async def close(self) -> None:
        """Write what the batch still holds (the last `sent` answers, the mailbox's last send)
        and end its thread."""
        try:
            await self.run(self._close)
        finally:
            self._thread.shutdown(wait=False)

    def _close(self) -> None:
        if not self._unrecorded and self._last_sent_at is None:
            return
        with self._transaction() as db:
            if self._last_sent_at is not None:
                # Once a batch, not once a message: last_send_at is informational and the
                # warm-up ramp falls back to the first booking until first_send_on is set.
                now = self._last_sent_at
                db.execute(MAILBOX_SENT, {"mailbox": self.mailbox, "now": now, "today": now.date()})

    # -- before SMTP ------------------------------------------------------------------------

    def begin(self, row: Claimed, reply_to: str | None) -> bytes | None:
        """The bytes to send, with the row committed `sending`; None when it must not go out
        (refused as unsafe, or cancelled by a last-moment check, or taken over)."""
        now = self.clock.now()
        raw = restamp_date(row.raw, now)
        try:
            check_message(raw, recipient=_header_address(row.to_address), reply_to=reply_to)
        except UnsafeMessage as exc:
            self._refuse(row, exc, now)
            return None
        return raw if self._mark_sending(row, now) else None

    def _mark_sending(self, row: Claimed, now: datetime) -> bool:
        assert self._suppressed is not None
        suppressed = self._suppressed
        params = {
            "outbound_id": row.id,
            "worker": self.worker_id,
            "now": now,
            "planned_at": row.created_at or row.scheduled_at,
            "last_suppression": suppressed.last or 0,
        }
        with self._transaction() as db:
            # Fast path: one update whose conditions are the checks. When it does not take, look
            # up why: a check says no (cancel), or only the claim was lost or the list changed.
            listed = suppressed.listed(row.to_address)
            if listed is None and db.execute(MARK_SENDING_IF_CLEAR, params).rowcount == 1:
                return True
            cancel = reason_not_to_send(db, row, suppressed)
            if cancel is not None:
                db.execute(
                    ours(row.id, self.worker_id).values(
                        status=OutboundStatus.CANCELLED.value,
                        error=cancel.reason,
                        cancel_cause=cancel.cause.value,
                    )
                )
                ids = _event_ids(row, reason=cancel.reason)
                insert_events(db, now, EventKind.SEND_CANCELLED, [ids])
                log.info("outbox row %d cancelled before sending: %s", row.id, cancel.reason)
                self.stats.cancelled += 1
                return False
            taken = db.execute(MARK_SENDING, params).rowcount
        if taken != 1:
            log.warning("outbox row %d was taken over by another dispatcher", row.id)
            return False
        return True

    def _refuse(self, row: Claimed, error: UnsafeMessage, now: datetime) -> None:
        """Bytes that failed the header check never reach SMTP: the row fails with the reason."""
        reason = f"unsafe message: {error}"
        with self._transaction() as db:
            db.execute(
                ours(row.id, self.worker_id).values(
                    status=OutboundStatus.FAILED.value, error=reason
                )
            )
            stop_enrollments(db, [row.enrollment_id], reason, now)
            insert_events(
                db, now, EventKind.SEND_FAILED, [_event_ids(row, reason=str(error.problem))]
            )
        self.stats.failed += 1
        log.error("outbox row %d refused before SMTP: %s", row.id, reason)

    # -- the server's answer ----------------------------------------------------------------

    def sent(self, row: Claimed, reply: str) -> None:
        """Hold a `sent` answer for the batch's next transaction (no database work here)."""
        now = self.clock.now()
        self._unrecorded.append((row, reply, now))
        self._last_sent_at = now
        self.stats.sent += 1

    def temporary(self, row: Claimed, reply: str) -> None:
        now = self.clock.now()
        attempts = row.attempts + 1
        retry_at = self.retry.next_attempt(attempts, row.scheduled_at, now)
        with self._transaction() as db:
            if retry_at is None:
                db.execute(
                    ours(row.id, self.worker_id).values(
                        status=OutboundStatus.FAILED.value,
                        smtp_response=reply,
                        error=f"gave up after {attempts} attempts: {reply}",
                    )
                )
                insert_events(db, now, EventKind.SEND_FAILED, [_event_ids(row, reply=reply)])
            else:
                db.execute(
                    ours(row.id, self.worker_id).values(
                        status=OutboundStatus.RETRY.value,
                        next_attempt_at=retry_at,
                        claimed_by=None,
                        claimed_at=None,
                        smtp_response=reply,
                        error=reply,
                    )
                )
        if retry_at is None:
            self.stats.failed += 1
            log.warning("outbox row %d failed after %d attempts: %s", row.id, attempts, reply)
        else:
            self.stats.retried += 1
            log.info("outbox row %d will retry at %s: %s", row.id, retry_at.isoformat(), reply)

    def permanent(self, row: Claimed, exc: PermanentMailError) -> None:
        now = self.clock.now()
        reply = str(exc)
        bounce = isinstance(exc, SmtpPermanentError) and exc.recipient_refused
        with self._transaction() as db:
            db.execute(
                ours(row.id, self.worker_id).values(
                    status=OutboundStatus.FAILED.value, smtp_response=reply, error=reply
                )
            )
            if bounce:
                hard_bounce(db, row, reply, now)
            else:
                stop_enrollments(db, [row.enrollment_id], f"send refused: {reply}", now)
            insert_events(
                db,
                now,
                EventKind.BOUNCE if bounce else EventKind.SEND_FAILED,
                [_event_ids(row, reply=reply)],
            )
        if bounce:
            self.stats.bounced += 1
            log.warning(
                "hard bounce: outbox row %d, prospect %d pruned: %s", row.id, row.prospect_id, reply
            )
        else:
            self.stats.failed += 1
            log.warning("outbox row %d refused: %s", row.id, reply)

    def uncertain(self, row: Claimed, reply: str) -> None:
        now = self.clock.now()
        with self._transaction() as db:
            db.execute(
                ours(row.id, self.worker_id).values(
                    status=OutboundStatus.UNCERTAIN.value, error=reply
                )
            )
            insert_events(db, now, EventKind.SEND_UNCERTAIN, [_event_ids(row, reply=reply)])
        self.stats.uncertain += 1
        log.warning("outbox row %d may or may not have been delivered: %s", row.id, reply)

    def pause_mailbox(self, row: Claimed, error: MailAuthError | SmtpTlsError) -> None:
        """Nothing was sent: the row goes back as it was, and the mailbox waits for a person."""
        now = self.clock.now()
        mailbox = self.mailbox
        if isinstance(error, MailAuthError):
            reason, fix = f"SMTP authentication failed: {error}", "fix the password"
        else:
            reason, fix = str(error), "fix the TLS settings (tls, ca_file) or the certificate"
        with self._transaction() as db:
            db.execute(
                ours(row.id, self.worker_id).values(
                    status=row.status,
                    attempts=row.attempts,
                    claimed_by=None,
                    claimed_at=None,
                )
            )
            with Session(bind=db) as session:
                paused = lifecycle.pause_mailbox(
                    session, mailbox, PauseCause.SMTP_REFUSED, reason, now
                )
            if paused:  # already paused (another batch, a person): the first pause stands
                insert_events(
                    db,
                    now,
                    EventKind.MAILBOX_PAUSED,
                    [{"data": {"mailbox": mailbox, "reason": reason}}],
                )
        self.stats.released += 1
        log.error(
            "mailbox %s paused: %s; %s, then run: spear mailbox resume %s",
            mailbox,
            reason,
            fix,
            mailbox,
        )

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A transaction that first writes the `sent` answers held, so they commit together with
        whatever comes next (usually the next row's `sending`).

        Its connection comes from the pool and goes back at the end: a batch that waits (for its
        gap, for the server) holds none, so fifty mailboxes do not need fifty connections.
        """
        waiting = len(self._unrecorded)
        with self.engine.begin() as db:
            _record_sent(db, self._unrecorded[:waiting], self.worker_id)
            yield db
        # Only once committed: after a rollback they are written with the next transaction.
        del self._unrecorded[:waiting]


def _record_sent(db: Connection, sent: list[tuple[Claimed, str, datetime]], worker: str) -> None:
    """Mark rows `sent` with the server's reply and count the step.

    The outbox row is the record of a send (when, through which mailbox, the server's answer):
    events record what departs from the plan (cancelled, failed, bounced, uncertain rows).
    """
    if not sent:
        return
    db.execute(
        MARK_SENT,
        [
            {"outbound_id": r.id, "worker": worker, "now": at, "reply": reply}
            for r, reply, at in sent
        ],
    )
    db.execute(COUNT_SENT, [{"enrollment_id": r.enrollment_id, "now": at} for r, _, at in sent])
    for row, reply, _at in sent:
        log.info(
            "sent outbox row %d step %s to prospect %d via %s: %s",
            row.id,
            row.step_id,
            row.prospect_id,
            row.mailbox,
            reply,
        )


# -- consequences -----------------------------------------------------------------------------


def hard_bounce(db: Connection, row: Claimed, reply: str, now: datetime) -> None:
    """A 5xx for the recipient: prune the address, suppress it, stop every enrollment."""
    with Session(bind=db) as session:
        prospect = session.get(Prospect, row.prospect_id)
        if prospect is not None:
            lifecycle.prune_address(session, prospect, f"hard bounce: {reply}", now)


def stop_enrollments(db: Connection, ids: list[int], reason: str, now: datetime) -> None:
    with Session(bind=db) as session:
        lifecycle.stop_enrollments(session, StopCause.SEND_REFUSED, reason, now, ids=ids)


def ensure_mailbox_state(db: Connection, name: str, now: datetime) -> None:
    """The mailbox's state row, created if missing. One statement that ignores a row already
    there: two dispatchers (threads or daemons) may create it at the same moment."""
    dialect = postgresql if db.dialect.name == "postgresql" else sqlite
    db.execute(
        dialect.insert(MAILBOX_STATE)
        .values(name=name, paused=False, updated_at=now)
        .on_conflict_do_nothing(index_elements=[MAILBOX_STATE.c.name])
    )


def _event_ids(row: Claimed, **data: Any) -> dict[str, Any]:
    return {
        "prospect_id": row.prospect_id,
        "enrollment_id": row.enrollment_id,
        "outbound_id": row.id,
        "data": {"step_id": row.step_id, "mailbox": row.mailbox, **data},
    }


def _header_address(address: str) -> str:
    """The address as compose wrote it in To: the domain as IDNA A-labels when it has them."""
    try:
        return wire_address(address).address
    except AddressError:
        return address
