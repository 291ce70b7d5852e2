"""The dispatcher: claims due outbox rows, checks them one last time, sends them, records the reply.

At most once, by construction:

1. **Claim.** Due rows (`planned`/`retry`, time reached, window not yet closed) are claimed
   atomically: `claimed_by` and `claimed_at` are set while the status stays as it was. A claim
   is only a reservation; if its holder dies, the rows are claimed again after the lease (or at
   once when the holder is a dead process on this host), and nothing was sent for them.
   Mailboxes that are paused, or whose daily or hourly cap is used up, are skipped, and a batch
   is cut to what the caps still allow (`_sends_allowed`).
2. **Check and commit `sending`.** Just before the SMTP transaction, in one database transaction,
   the last-moment checks run (suppression, a reply or bounce since planning, account paused,
   enrollment no longer active) and the row either becomes `cancelled` or is committed as
   `sending`. The update is conditional on our claim, so of two daemons only one can win.
   On the fast path this is one statement: the update to `sending` carries the checks as
   conditions; only when it does not take is the reason looked up (and the row cancelled).
3. **Send, then record.** The SMTP answer becomes `sent` (with the server's reply), `retry` (4xx or
   a connection failure before the body was sent, with exponential backoff until a deadline),
   `failed` (5xx; a refused recipient is a hard bounce), or stays with the mailbox paused (AUTH).
   A `sent` answer is written in the next transaction on the batch's connection, usually the one
   that commits the next row `sending`: one commit per message, and still every row is committed
   `sending` before its own SMTP transaction starts.

A row found `sending` that nobody is working on (its holder is dead, or its lease has run out)
becomes `uncertain`: the process died between committing `sending` and
committing the answer, so the message may or may not have been accepted. It is never re-sent
automatically; a person decides. The same holds for a connection lost while the server was
answering the message body.

Whether a holder is dead is `engine.sending.liveness`'s question: on PostgreSQL its advisory lock
is gone, on SQLite its process on this host no longer runs; otherwise its lease has to run out.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, SQLModel

from engine.basics.headers import UnsafeMessage, check_message
from engine.clock import Clock, utc
from engine.config import Config
from engine.errors import MailAuthError, PermanentMailError, TemporaryMailError
from engine.prospects.addresses import AddressError, wire_address
from engine.prospects.lifecycle import pause_mailbox, prune_address, stop_enrollments
from engine.prospects.pauses import ACCOUNT_IS_PAUSED, enrollment_not_active
from engine.prospects.suppression import suppression_reasons_normalised
from engine.sending.capacity import MailboxLimits, day_bounds, sends_allowed
from engine.sending.compose import restamp_date
from engine.sending.liveness import LivenessLock, holder_is_dead, lock_is_free, new_worker_id
from engine.sending.smtp import (
    MailboxSender,
    SmtpPermanentError,
    SmtpTlsError,
    SmtpUncertainError,
)
from engine.store.db import is_sqlite
from engine.store.events import EventKind
from engine.store.models import (
    DUE,
    EmailStatus,
    EnrollmentStatus,
    OutboundStatus,
    PauseCause,
    Prospect,
    StopCause,
)

log = logging.getLogger(__name__)

OUTBOX = SQLModel.metadata.tables["outbound_message"]
ENROLLMENT = SQLModel.metadata.tables["enrollment"]
PROSPECT = SQLModel.metadata.tables["prospect"]
ACCOUNT = SQLModel.metadata.tables["account"]
INBOUND = SQLModel.metadata.tables["inbound_message"]
MAILBOX_STATE = SQLModel.metadata.tables["mailbox_state"]
EVENT = SQLModel.metadata.tables["event"]
SUPPRESSION = SQLModel.metadata.tables["suppression"]

DUE_STATUSES = tuple(status.value for status in DUE)
# Rows that went, or may have: what the caps count at dispatch.
GONE_STATUSES = (
    OutboundStatus.SENT.value,
    OutboundStatus.SENDING.value,
    OutboundStatus.UNCERTAIN.value,
)
# Replies that do not mean a person has answered: they do not cancel a planned step.
NOT_A_REPLY_LABELS = ("auto-reply",)


# Statements on the send path are built once: SQLAlchemy then reuses their compiled form. They
# spell lists out as literals rather than expanding IN parameters, which are re-rendered each time.
_IS_DUE = sa.or_(*(OUTBOX.c.status == sa.literal_column(f"'{s}'") for s in DUE_STATUSES))
_MARK_SENDING = (
    OUTBOX.update()
    .where(
        OUTBOX.c.id == sa.bindparam("outbound_id"),
        OUTBOX.c.claimed_by == sa.bindparam("worker"),
        _IS_DUE,
    )
    .values(
        status=OutboundStatus.SENDING.value,
        attempts=OUTBOX.c.attempts + 1,
        claimed_at=sa.bindparam("now"),
    )
)
_MARK_SENT = (
    OUTBOX.update()
    .where(
        OUTBOX.c.id == sa.bindparam("outbound_id"), OUTBOX.c.claimed_by == sa.bindparam("worker")
    )
    .values(
        status=OutboundStatus.SENT.value,
        sent_at=sa.bindparam("now"),
        smtp_response=sa.bindparam("reply"),
        error=None,
    )
)
# One more step sent; after the last one (no next step) the enrollment is complete.
_COUNT_SENT = (
    ENROLLMENT.update()
    .where(ENROLLMENT.c.id == sa.bindparam("enrollment_id"))
    .values(
        steps_sent=ENROLLMENT.c.steps_sent + 1,
        updated_at=sa.bindparam("now"),
        status=sa.case(
            (
                sa.and_(
                    ENROLLMENT.c.next_step.is_(None),
                    ENROLLMENT.c.status == EnrollmentStatus.ACTIVE.value,
                ),
                EnrollmentStatus.COMPLETED.value,
            ),
            else_=ENROLLMENT.c.status,
        ),
    )
)
_MAILBOX_SENT = (
    MAILBOX_STATE.update()
    .where(MAILBOX_STATE.c.name == sa.bindparam("mailbox"))
    .values(
        last_send_at=sa.bindparam("now"),
        first_send_on=sa.func.coalesce(MAILBOX_STATE.c.first_send_on, sa.bindparam("today")),
        updated_at=sa.bindparam("now"),
    )
)


def _reply_since(prospect_id: Any) -> Any:
    """A reply (or bounce) from the prospect received since planning, as a scalar subquery."""
    return (
        sa.select(INBOUND.c.id)
        .where(
            INBOUND.c.prospect_id == prospect_id,
            INBOUND.c.received_at >= sa.bindparam("planned_at"),
            sa.or_(
                INBOUND.c.label.is_(None),
                sa.and_(
                    *(INBOUND.c.label != sa.literal_column(f"'{x}'") for x in NOT_A_REPLY_LABELS)
                ),
            ),
        )
        .limit(1)
        .scalar_subquery()
    )


_REPLY_SINCE = _reply_since(sa.bindparam("prospect_id"))
_EVENT_INSERT = EVENT.insert()
_LAST_SUPPRESSION_QUERY = sa.select(sa.func.max(SUPPRESSION.c.id))
_LAST_SUPPRESSION = _LAST_SUPPRESSION_QUERY.scalar_subquery()
# The same checks as conditions of the update to `sending` (see `_reason_not_to_send`), plus "the
# suppression list has not grown since the batch was checked against it".
_CLEAR_TO_SEND = sa.and_(
    sa.exists()
    .select_from(ENROLLMENT.join(PROSPECT, PROSPECT.c.id == ENROLLMENT.c.prospect_id))
    .where(
        ENROLLMENT.c.id == OUTBOX.c.enrollment_id,
        ENROLLMENT.c.status == EnrollmentStatus.ACTIVE.value,
        PROSPECT.c.email_status != EmailStatus.INVALID.value,
        sa.or_(
            ENROLLMENT.c.referrer_id.is_not(None),
            ~sa.exists().where(ACCOUNT.c.id == PROSPECT.c.account_id, ACCOUNT.c.paused.is_(True)),
        ),
    ),
    _reply_since(OUTBOX.c.prospect_id).is_(None),
    sa.func.coalesce(_LAST_SUPPRESSION, 0) == sa.bindparam("last_suppression"),
)
_MARK_SENDING_IF_CLEAR = _MARK_SENDING.where(_CLEAR_TO_SEND)
# Everything the last-moment checks need, in one round trip.
_FACTS = (
    sa.select(
        ENROLLMENT.c.status,
        ENROLLMENT.c.referrer_id,
        PROSPECT.c.email,
        PROSPECT.c.email_status,
        ACCOUNT.c.paused,
        _REPLY_SINCE.label("reply_id"),
        _LAST_SUPPRESSION.label("last_suppression"),
    )
    .select_from(
        ENROLLMENT.join(PROSPECT, PROSPECT.c.id == ENROLLMENT.c.prospect_id).outerjoin(
            ACCOUNT, ACCOUNT.c.id == PROSPECT.c.account_id
        )
    )
    .where(ENROLLMENT.c.id == sa.bindparam("enrollment_id"))
)


class _Prepared:
    """A hot statement compiled once for a dialect, then run on the driver's cursor.

    The statement is the SQLAlchemy one above and its values go through the same type
    processing (datetimes, JSON); only SQLAlchemy's per-execution work (finding the compiled
    form, building the parameters and an execution context for them) is done once, here. It
    runs inside the Connection's transaction, on the same driver connection, and a driver error
    comes out as SQLAlchemy's, as it would from `Connection.execute`.
    """

    def __init__(self, statement: sa.UpdateBase, dialect: sa.Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self._sql = compiled.string
        self._positional = compiled.positional
        binds = {name: bind for bind, name in compiled.bind_names.items()}
        names = compiled.positiontup if compiled.positional else list(binds)
        slots: list[tuple[str, str | None, Any, Any]] = []
        for name in names or ():
            bind = binds[name]  # a KeyError here: a statement this class cannot prepare
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if bind.required:  # a value given at each run, under the bindparam's key
                slots.append((name, bind.key, None, process))
            else:  # a value fixed in the statement: processed once
                slots.append((name, None, process(bind.value) if process else bind.value, None))
        self._slots = tuple(slots)

    def run(self, db: Connection, params: dict[str, Any]) -> int:
        """Run with `params` (by bindparam key); how many rows it changed."""
        values = []
        for _name, key, value, process in self._slots:
            if key is not None:
                value = params[key] if process is None else process(params[key])
            values.append(value)
        driver: Any = tuple(values)
        if not self._positional:
            driver = {slot[0]: value for slot, value in zip(self._slots, values, strict=True)}
        cursor = db.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self._sql, driver)
            return int(cursor.rowcount)
        except db.dialect.loaded_dbapi.Error as exc:
            raise sa.exc.DBAPIError.instance(
                self._sql, driver, exc, db.dialect.loaded_dbapi.Error
            ) from exc
        finally:
            cursor.close()


class _HotStatements:
    """The statements run for every message, prepared once per dispatcher."""

    def __init__(self, dialect: sa.Dialect) -> None:
        self.mark_sending_if_clear = _Prepared(_MARK_SENDING_IF_CLEAR, dialect)
        self.mark_sent = _Prepared(_MARK_SENT, dialect)
        self.count_sent = _Prepared(_COUNT_SENT, dialect)


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


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff for temporary failures, until `deadline` after the planned time."""

    first_delay: timedelta = timedelta(minutes=5)
    max_delay: timedelta = timedelta(hours=2)
    deadline: timedelta = timedelta(hours=48)

    def next_attempt(self, attempts: int, scheduled_at: datetime, now: datetime) -> datetime | None:
        """When to try again after `attempts` tries, or None when the deadline has passed."""
        delay = min(self.first_delay * (2 ** max(attempts - 1, 0)), self.max_delay)
        when = now + delay
        return when if when <= utc(scheduled_at) + self.deadline else None


@dataclass(frozen=True)
class _Claimed:
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


@dataclass
class _Batch:
    """One mailbox's batch: the connection it runs on and the `sent` answers not yet written."""

    mailbox: str
    db: Connection
    unrecorded: list[tuple[_Claimed, str, datetime]] = field(default_factory=list)
    last_sent_at: datetime | None = None
    # When the mailbox last started a transaction (this batch's, or an earlier one's send): the
    # gap counts from here.
    last_attempt_at: datetime | None = None


# The batch the current mailbox task is sending (each mailbox's task has its own).
_batch: ContextVar[_Batch | None] = ContextVar("_batch", default=None)


class Dispatcher:
    """Sends due outbox rows. `dispatch_due` for a daemon's loop; `run_once` for tests and cron."""

    def __init__(
        self,
        engine: Engine,
        config: Config,
        clock: Clock,
        worker_id: str | None = None,
        *,
        lease: timedelta = timedelta(minutes=10),
        retry: RetryPolicy | None = None,
        tls_context: ssl.SSLContext | None = None,
        stopping: asyncio.Event | None = None,
    ) -> None:
        self.engine = engine
        # Set when the daemon stops: the transaction under way finishes, nothing new starts.
        self.stopping = stopping or asyncio.Event()
        self.config = config
        self.clock = clock
        self.worker_id = worker_id or new_worker_id()
        self.lease = lease
        self.retry = retry or RetryPolicy()
        self._tls_context = tls_context
        self._senders: dict[str, MailboxSender] = {}
        self._last_recovery: datetime | None = None
        # Rows this dispatcher has claimed and not yet let go: recovery never touches them.
        self._in_hand: set[int] = set()
        self._retired = False
        self._known_mailboxes: set[str] = set()
        self._postgres = not is_sqlite(str(engine.url))
        # PostgreSQL: the lock that tells the others this worker is alive.
        self._liveness = LivenessLock(engine, self.worker_id) if self._postgres else None
        self._hot = _HotStatements(engine.dialect)

    async def run_once(self, limit: int = 500) -> DispatchStats:
        """Resolve rows left in flight, then send everything due now; returns what happened."""
        stats = DispatchStats(uncertain=self.recover_in_flight())
        while True:
            batch = await self.dispatch_due(limit)
            stats.add(batch)
            if batch.claimed == 0 or batch.claimed == batch.released:
                return stats

    def retire(self) -> None:
        """Finish the SMTP transaction under way, then claim and send nothing more (a reload
        replaces this dispatcher; unlike `stopping`, the daemon goes on)."""
        self._retired = True

    async def dispatch_due(self, limit: int = 100) -> DispatchStats:
        """Claim up to `limit` due rows and send them, one connection per mailbox in parallel."""
        if self._done or (self._liveness is not None and not self._liveness.hold()):
            return DispatchStats()
        last = self._last_recovery
        # On PostgreSQL a dead holder is known at once (its lock is gone): look every pass, so
        # that a daemon that dies hands its rows to the others within one dispatch interval.
        if self._postgres or last is None or self.clock.now() - last >= self.lease / 2:
            self.recover_in_flight()
        allowed, last_sends = self._sends_allowed()
        full = [name for name, left in allowed.items() if left == 0]
        rows = self._claim(limit, skip=[*self._paused_mailboxes(), *full])
        stats = DispatchStats(claimed=len(rows))
        by_mailbox: dict[str, list[_Claimed]] = defaultdict(list)
        for row in rows:
            by_mailbox[row.mailbox].append(row)
        claimed = {row.id for row in rows}
        self._in_hand |= claimed
        try:
            results = await asyncio.gather(
                *(
                    self._send_mailbox(name, batch, allowed.get(name, 0), last_sends.get(name))
                    for name, batch in by_mailbox.items()
                )
            )
        finally:
            self._in_hand -= claimed
        for result in results:
            stats.add(result)
        return stats

    def recover_in_flight(self) -> int:
        """Resolve what dead dispatchers left behind; returns how many rows became `uncertain`.

        Rows `sending` whose holder is dead (see the module's docstring) or whose lease ran out
        become `uncertain`. Rows a dead holder had only claimed are handed back.
        """
        now = self.clock.now()
        self._last_recovery = now
        with self.engine.begin() as db:
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
                if r.id not in self._in_hand
            ]
            # Rows under our own worker id that this dispatcher does not have in hand were left by
            # an earlier process that used the same id (`--worker-id` reused after a crash): its
            # process is dead as surely as any other's. (Two live ones cannot share an id: on
            # PostgreSQL the liveness lock keeps the second out, on SQLite the daemon lock.)
            dead = {
                h
                for h in {r.claimed_by for r in held}
                if h == self.worker_id
                or holder_is_dead(h)
                or (self._postgres and lock_is_free(db, h))
            }
            gone = [
                r.id
                for r in held
                if r.status == OutboundStatus.SENDING.value
                and (r.claimed_by in dead or _expired(r.claimed_at, now, self.lease))
            ]
            orphans = [
                r.id
                for r in held
                if r.status != OutboundStatus.SENDING.value and r.claimed_by in dead
            ]
            if gone:
                db.execute(
                    OUTBOX.update()
                    .where(OUTBOX.c.id.in_(gone), OUTBOX.c.status == OutboundStatus.SENDING.value)
                    .values(
                        status=OutboundStatus.UNCERTAIN.value,
                        error="the sending process died during the SMTP transaction",
                    )
                )
                _events(db, now, EventKind.SEND_UNCERTAIN, [{"outbound_id": i} for i in gone])
            if orphans:
                db.execute(
                    OUTBOX.update()
                    .where(OUTBOX.c.id.in_(orphans), OUTBOX.c.status.in_(DUE_STATUSES))
                    .values(claimed_by=None, claimed_at=None)
                )
        for outbound_id in gone:
            log.warning("outbox row %d left in flight by a dead sender: now uncertain", outbound_id)
        return len(gone)

    @property
    def _done(self) -> bool:
        return self._retired or self.stopping.is_set()

    async def close(self) -> None:
        """Close every SMTP connection and give up the liveness lock; safe to call twice."""
        senders, self._senders = self._senders, {}
        for sender in senders.values():
            await sender.close()
        if self._liveness is not None:
            self._liveness.release()

    # -- claiming ---------------------------------------------------------------------------

    def _claim(self, limit: int, skip: Sequence[str]) -> list[_Claimed]:
        """Claim up to `limit` due rows, none on the mailboxes in `skip`."""
        now = self.clock.now()
        due = due_query(now, now - self.lease, skip, limit)
        claim = {"claimed_by": self.worker_id, "claimed_at": now}
        with self.engine.begin() as db:
            if is_sqlite(str(self.engine.url)):
                # One UPDATE: SQLite serialises writers, so the rows it returns are ours alone.
                ids = [
                    r.id
                    for r in db.execute(
                        OUTBOX.update()
                        .where(
                            OUTBOX.c.id.in_(due.scalar_subquery()),
                            OUTBOX.c.status.in_(DUE_STATUSES),
                        )
                        .values(**claim)
                        .returning(OUTBOX.c.id)
                    )
                ]
            else:
                ids = list(db.scalars(due.with_for_update(skip_locked=True)))
                if ids:
                    db.execute(OUTBOX.update().where(OUTBOX.c.id.in_(ids)).values(**claim))
            if not ids:
                return []
            rows = db.execute(
                sa.select(
                    *(
                        OUTBOX.c[name]
                        for name in (
                            "id",
                            "enrollment_id",
                            "prospect_id",
                            "step_id",
                            "mailbox",
                            "message_id",
                            "to_address",
                            "raw",
                            "status",
                            "attempts",
                            "scheduled_at",
                            "send_before",
                            "created_at",
                        )
                    )
                )
                .where(OUTBOX.c.id.in_(ids))
                .order_by(OUTBOX.c.scheduled_at, OUTBOX.c.id)
            ).all()
        return [_Claimed(**row._mapping) for row in rows]

    def _sends_allowed(self) -> tuple[dict[str, int], dict[str, datetime]]:
        """How many more messages each configured mailbox may send now, and its last send.

        What its daily cap (after the warm-up ramp, on the sender's calendar day) and its hourly
        cap leave of what went today and this hour. The planner books within the caps already;
        this is their last word, for a cap lowered after planning or a retry that lands in a
        full hour. A mailbox whose minimum gap since its last send still runs is left for a later
        pass rather than claimed to wait. One grouped query per pass, over the last day's sends.
        """
        now = self.clock.now()
        zone = ZoneInfo(self.config.timezone)
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
                OUTBOX.c.scheduled_at >= since - self.retry.deadline - timedelta(days=1),
                went_at >= since,
            )
            .group_by(OUTBOX.c.mailbox)
        )
        with self.engine.connect() as db:
            went = {r.mailbox: (r.today or 0, r.this_hour or 0, r.last) for r in db.execute(query)}
            first_days = dict(
                db.execute(sa.select(MAILBOX_STATE.c.name, MAILBOX_STATE.c.first_send_on)).all()
            )
        allowed, last_sends = {}, {}
        for mailbox in self.config.mailboxes:
            limits = MailboxLimits.of(mailbox, first_days.get(mailbox.name), zone)
            today, this_hour, last = went.get(mailbox.name, (0, 0, None))
            left = sends_allowed(limits, now, today, this_hour)
            if last is not None:
                last_sends[mailbox.name] = utc(last)
                if limits.min_gap and now < utc(last) + limits.min_gap:
                    left = 0  # not claimed only to wait: a later pass takes it
            allowed[mailbox.name] = left
        return allowed, last_sends

    def _paused_mailboxes(self) -> list[str]:
        with self.engine.connect() as db:
            return list(
                db.scalars(sa.select(MAILBOX_STATE.c.name).where(MAILBOX_STATE.c.paused.is_(True)))
            )

    # -- sending ----------------------------------------------------------------------------

    async def _send_mailbox(
        self, name: str, rows: Sequence[_Claimed], allowed: int, last_send: datetime | None
    ) -> DispatchStats:
        stats = DispatchStats()
        try:
            mailbox = self.config.mailbox(name)
        except KeyError:
            log.error("mailbox %s is not in the configuration: %d rows wait", name, len(rows))
            stats.released += self._release([r.id for r in rows])
            return stats
        if len(rows) > allowed:
            log.info("mailbox %s is at its cap: %d rows wait", name, len(rows) - allowed)
            stats.released += self._release([r.id for r in rows[allowed:]])
            rows = rows[:allowed]
            if not rows:
                return stats
        sender = self._sender(name)
        if name not in self._known_mailboxes:
            with self.engine.begin() as db:
                _ensure_mailbox_state(db, name, self.clock.now())
            self._known_mailboxes.add(name)
        suppressed = _SuppressionView(self.engine, [r.to_address for r in rows])
        limits = MailboxLimits.of(mailbox, None, ZoneInfo(self.config.timezone))
        with self.engine.connect() as db:
            # One connection for the batch: each message still gets transactions of its own.
            batch = _Batch(name, db, last_attempt_at=last_send)
            token = _batch.set(batch)
            try:
                await self._send_rows(sender, mailbox.address, rows, suppressed, stats, limits)
            finally:
                self._finish(batch)
                _batch.reset(token)
        return stats

    async def _send_rows(
        self,
        sender: MailboxSender,
        mail_from: str,
        rows: Sequence[_Claimed],
        suppressed: _SuppressionView,
        stats: DispatchStats,
        limits: MailboxLimits,
    ) -> None:
        name = sender.name
        reply_to = self.config.mailbox(name).reply_to
        batch = _batch.get()
        started = self.clock.now()
        for index, row in enumerate(rows):
            last = batch.last_attempt_at if batch is not None else None
            # Only with a gap to keep: the last send may carry another daemon's clock, a little
            # ahead of ours, and without a gap there is nothing to wait for.
            if last is not None and (limits.min_gap or limits.jitter):
                # The mailbox's gap and jitter since its last send: planned mail is spaced
                # already, overdue mail is all due at once and waits here, one after the other.
                ready = limits.ready_at(last, row.scheduled_at, row.message_id)
                if ready - started > self.lease / 2:
                    # Waiting longer would keep the rest claimed too long: a later pass sends it.
                    stats.released += self._release([r.id for r in rows[index:]])
                    break
                await self._wait_until(ready)
            if self._done:
                stats.released += self._release([r.id for r in rows[index:]])
                break
            now = self.clock.now()
            if row.send_before is not None and now >= utc(row.send_before):
                # Its window closed while the batch was going out: the planner re-slots it.
                stats.released += self._release([row.id])
                continue
            raw = restamp_date(row.raw, self.clock.now())
            try:
                check_message(raw, recipient=_header_address(row.to_address), reply_to=reply_to)
            except UnsafeMessage as exc:
                self._refuse(row, exc, stats)
                continue
            if not self._begin(row, suppressed, stats):
                continue
            if batch is not None:
                batch.last_attempt_at = now
            try:
                reply = await sender.send(mail_from, row.to_address, raw)
            except (MailAuthError, SmtpTlsError) as exc:
                # Settings a person has to fix: nothing was sent, and the mailbox waits for them.
                self._pause_mailbox(row, name, exc)
                stats.released += 1 + self._release([r.id for r in rows[index + 1 :]])
                break
            except SmtpUncertainError as exc:
                self._uncertain(row, str(exc))
                stats.uncertain += 1
            except TemporaryMailError as exc:
                self._temporary(row, str(exc), stats)
                if getattr(exc, "code", None) in (None, 421):
                    # The server or the connection is gone: the rest of the batch waits its turn.
                    stats.released += self._release([r.id for r in rows[index + 1 :]])
                    break
            except PermanentMailError as exc:
                self._permanent(row, exc, stats)
            except Exception as exc:
                # Before the SMTP transaction (`sender.send` turns its own errors into ours): this
                # row fails with the reason, and the rest of the batch goes on.
                log.exception("outbox row %d cannot be sent", row.id)
                self._permanent(row, PermanentMailError(f"{type(exc).__name__}: {exc}"), stats)
            else:
                self._sent(row, reply)
                stats.sent += 1

    async def _wait_until(self, ready: datetime) -> None:
        """Sleep on the clock until `ready`, a second at a time so a stop is seen at once."""
        while not self._done:
            left = (ready - self.clock.now()).total_seconds()
            if left <= 0:
                return
            await self.clock.sleep(min(left, 1.0))

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A transaction on the batch's connection when there is one, else on a fresh one.

        On the batch's connection it first writes the `sent` answers waiting for a transaction,
        so they commit together with whatever comes next (usually the next row's `sending`).
        """
        batch = _batch.get()
        if batch is None:
            with self.engine.begin() as fresh:
                yield fresh
            return
        waiting = len(batch.unrecorded)
        with batch.db.begin():
            _record_sent(batch.db, batch.unrecorded[:waiting], self.worker_id, self._hot)
            yield batch.db
        # Only once committed: after a rollback they are written with the next transaction.
        del batch.unrecorded[:waiting]

    def _finish(self, batch: _Batch) -> None:
        """Write what the batch still holds: the last `sent` answers and the mailbox's last send."""
        if not batch.unrecorded and batch.last_sent_at is None:
            return
        with self._transaction() as db:
            if batch.last_sent_at is not None:
                now = batch.last_sent_at
                # Once a batch, not once a message: last_send_at is informational and the warm-up
                # ramp falls back to the first booking until first_send_on is set.
                db.execute(
                    _MAILBOX_SENT, {"mailbox": batch.mailbox, "now": now, "today": now.date()}
                )

    def _sender(self, name: str) -> MailboxSender:
        if name not in self._senders:
            mailbox = self.config.mailbox(name)
            self._senders[name] = MailboxSender(name, mailbox.smtp, tls_context=self._tls_context)
        return self._senders[name]

    def _begin(self, row: _Claimed, suppressed: _SuppressionView, stats: DispatchStats) -> bool:
        """Last-moment checks, then commit the row as `sending` (or `cancelled`)."""
        now = self.clock.now()
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
            if listed is None and self._hot.mark_sending_if_clear.run(db, params) == 1:
                return True
            reason = _reason_not_to_send(db, row, suppressed)
            if reason is not None:
                db.execute(
                    _ours(row.id, self.worker_id).values(
                        status=OutboundStatus.CANCELLED.value, error=reason
                    )
                )
                _events(db, now, EventKind.SEND_CANCELLED, [_event_ids(row, reason=reason)])
                log.info("outbox row %d cancelled before sending: %s", row.id, reason)
                stats.cancelled += 1
                return False
            taken = db.execute(_MARK_SENDING, params).rowcount
        if taken != 1:
            log.warning("outbox row %d was taken over by another dispatcher", row.id)
            return False
        return True

    # -- recording the answer ---------------------------------------------------------------

    def _sent(self, row: _Claimed, reply: str) -> None:
        """Record a `sent` answer: with the batch's next transaction, or at once without one."""
        now = self.clock.now()
        batch = _batch.get()
        if batch is None:
            with self.engine.begin() as db:
                _record_sent(db, [(row, reply, now)], self.worker_id, self._hot)
                db.execute(_MAILBOX_SENT, {"mailbox": row.mailbox, "now": now, "today": now.date()})
            return
        batch.unrecorded.append((row, reply, now))
        batch.last_sent_at = now

    def _temporary(self, row: _Claimed, reply: str, stats: DispatchStats) -> None:
        now = self.clock.now()
        attempts = row.attempts + 1
        retry_at = self.retry.next_attempt(attempts, row.scheduled_at, now)
        with self._transaction() as db:
            if retry_at is None:
                db.execute(
                    _ours(row.id, self.worker_id).values(
                        status=OutboundStatus.FAILED.value,
                        smtp_response=reply,
                        error=f"gave up after {attempts} attempts: {reply}",
                    )
                )
                _events(db, now, EventKind.SEND_FAILED, [_event_ids(row, reply=reply)])
            else:
                db.execute(
                    _ours(row.id, self.worker_id).values(
                        status=OutboundStatus.RETRY.value,
                        next_attempt_at=retry_at,
                        claimed_by=None,
                        claimed_at=None,
                        smtp_response=reply,
                        error=reply,
                    )
                )
        if retry_at is None:
            stats.failed += 1
            log.warning("outbox row %d failed after %d attempts: %s", row.id, attempts, reply)
        else:
            stats.retried += 1
            log.info("outbox row %d will retry at %s: %s", row.id, retry_at.isoformat(), reply)

    def _permanent(self, row: _Claimed, exc: PermanentMailError, stats: DispatchStats) -> None:
        now = self.clock.now()
        reply = str(exc)
        bounce = isinstance(exc, SmtpPermanentError) and exc.recipient_refused
        with self._transaction() as db:
            db.execute(
                _ours(row.id, self.worker_id).values(
                    status=OutboundStatus.FAILED.value, smtp_response=reply, error=reply
                )
            )
            if bounce:
                _hard_bounce(db, row, reply, now)
            else:
                _stop_enrollments(db, [row.enrollment_id], f"send refused: {reply}", now)
            _events(
                db,
                now,
                EventKind.BOUNCE if bounce else EventKind.SEND_FAILED,
                [_event_ids(row, reply=reply)],
            )
        if bounce:
            stats.bounced += 1
            log.warning(
                "hard bounce: outbox row %d, prospect %d pruned: %s", row.id, row.prospect_id, reply
            )
        else:
            stats.failed += 1
            log.warning("outbox row %d refused: %s", row.id, reply)

    def _refuse(self, row: _Claimed, error: UnsafeMessage, stats: DispatchStats) -> None:
        """Bytes that failed the header check never reach SMTP: the row fails with the reason."""
        now = self.clock.now()
        reason = f"unsafe message: {error}"
        with self._transaction() as db:
            db.execute(
                _ours(row.id, self.worker_id).values(
                    status=OutboundStatus.FAILED.value, error=reason
                )
            )
            _stop_enrollments(db, [row.enrollment_id], reason, now)
            _events(db, now, EventKind.SEND_FAILED, [_event_ids(row, reason=str(error.problem))])
        stats.failed += 1
        log.error("outbox row %d refused before SMTP: %s", row.id, reason)

    def _uncertain(self, row: _Claimed, reply: str) -> None:
        now = self.clock.now()
        with self._transaction() as db:
            db.execute(
                _ours(row.id, self.worker_id).values(
                    status=OutboundStatus.UNCERTAIN.value, error=reply
                )
            )
            _events(db, now, EventKind.SEND_UNCERTAIN, [_event_ids(row, reply=reply)])
        log.warning("outbox row %d may or may not have been delivered: %s", row.id, reply)

    def _pause_mailbox(
        self, row: _Claimed, mailbox: str, error: MailAuthError | SmtpTlsError
    ) -> None:
        """Nothing was sent: the row goes back as it was, and the mailbox waits for a person."""
        now = self.clock.now()
        if isinstance(error, MailAuthError):
            reason, fix = f"SMTP authentication failed: {error}", "fix the password"
        else:
            reason, fix = str(error), "fix the TLS settings (tls, ca_file) or the certificate"
        with self._transaction() as db:
            db.execute(
                _ours(row.id, self.worker_id).values(
                    status=row.status,
                    attempts=row.attempts,
                    claimed_by=None,
                    claimed_at=None,
                )
            )
            with Session(bind=db) as session:
                pause_mailbox(session, mailbox, PauseCause.SMTP_REFUSED, reason, now)
            _events(
                db,
                now,
                EventKind.MAILBOX_PAUSED,
                [{"data": {"mailbox": mailbox, "reason": reason}}],
            )
        log.error(
            "mailbox %s paused: %s; %s, then run: spear mailbox resume %s",
            mailbox,
            reason,
            fix,
            mailbox,
        )

    def _release(self, ids: list[int]) -> int:
        if not ids:
            return 0
        with self._transaction() as db:
            db.execute(
                OUTBOX.update()
                .where(
                    OUTBOX.c.id.in_(ids),
                    OUTBOX.c.claimed_by == self.worker_id,
                    OUTBOX.c.status.in_(DUE_STATUSES),
                )
                .values(claimed_by=None, claimed_at=None)
            )
        return len(ids)


def due_query(now: datetime, stale: datetime, paused: Sequence[str], limit: int) -> sa.Select[Any]:
    """Rows to claim: waiting, their time reached, their window still open, not held by a live
    claim, not on a paused mailbox. A range scan of `ix_outbound_message_due` (status, time)."""
    return (
        sa.select(OUTBOX.c.id)
        .where(
            OUTBOX.c.status.in_(DUE_STATUSES),
            OUTBOX.c.scheduled_at <= now,
            sa.or_(OUTBOX.c.next_attempt_at.is_(None), OUTBOX.c.next_attempt_at <= now),
            # A row whose window has closed waits for the planner to re-slot it.
            sa.or_(OUTBOX.c.send_before.is_(None), OUTBOX.c.send_before > now),
            sa.or_(OUTBOX.c.claimed_by.is_(None), OUTBOX.c.claimed_at < stale),
            OUTBOX.c.mailbox.not_in(paused),
        )
        .order_by(OUTBOX.c.scheduled_at)
        .limit(limit)
    )


# -- last-moment checks and their consequences ------------------------------------------------


def _reason_not_to_send(db: Connection, row: _Claimed, suppressed: _SuppressionView) -> str | None:
    """Why this row must not go out now, or None. Runs inside the `sending` transaction."""
    facts = db.execute(
        _FACTS,
        {
            "enrollment_id": row.enrollment_id,
            "prospect_id": row.prospect_id,
            "planned_at": row.created_at or row.scheduled_at,
        },
    ).one_or_none()
    if facts is None:
        return "enrollment no longer exists"
    if facts.status != EnrollmentStatus.ACTIVE.value:
        return enrollment_not_active(facts.status)
    if facts.email_status == EmailStatus.INVALID.value:
        return "address is invalid (bounced)"
    reason = suppressed.reason(db, facts.email, facts.last_suppression)
    if reason is not None:
        return f"suppressed: {reason}"
    # A referral is exempt: the account paused because someone there pointed us to this person.
    if facts.paused and facts.referrer_id is None:
        return ACCOUNT_IS_PAUSED
    if facts.reply_id is not None:
        return f"prospect replied or bounced since planning (inbound {facts.reply_id})"
    return None


class _SuppressionView:
    """The suppression list as it applies to one batch, checked in one query.

    Each send still sees the current list: the update to `sending` requires the list's highest id
    to be the one this view was built at, and the slow path refreshes the view when it is not.
    """

    def __init__(self, engine: Engine, emails: Sequence[str]) -> None:
        self._emails = list(emails)
        with engine.connect() as db:
            self.last = db.scalar(_LAST_SUPPRESSION_QUERY)
            self._reasons = suppression_reasons_normalised(db, self._emails)

    def listed(self, email: str) -> str | None:
        """Why `email` is suppressed as of this view, or None."""
        return self._reasons.get(email.strip().lower())

    def reason(self, db: Connection, email: str, last: int | None) -> str | None:
        """Why `email` is suppressed as of `last` (the list's highest id now), or None."""
        if last != self.last:
            self._reasons = suppression_reasons_normalised(db, self._emails)
            self.last = last
        return self.listed(email)


def _record_sent(
    db: Connection, sent: list[tuple[_Claimed, str, datetime]], worker: str, hot: _HotStatements
) -> None:
    """Mark rows `sent` with the server's reply and count the step.

    The outbox row is the record of a send (when, through which mailbox, the server's answer):
    events record what departs from the plan (cancelled, failed, bounced, uncertain rows).
    """
    for row, reply, at in sent:
        hot.mark_sent.run(db, {"outbound_id": row.id, "worker": worker, "now": at, "reply": reply})
        hot.count_sent.run(db, {"enrollment_id": row.enrollment_id, "now": at})
        log.info(
            "sent outbox row %d step %s to prospect %d via %s: %s",
            row.id,
            row.step_id,
            row.prospect_id,
            row.mailbox,
            reply,
        )


def _hard_bounce(db: Connection, row: _Claimed, reply: str, now: datetime) -> None:
    """A 5xx for the recipient: prune the address, suppress it, stop every enrollment."""
    with Session(bind=db) as session:
        prospect = session.get(Prospect, row.prospect_id)
        if prospect is not None:
            prune_address(session, prospect, f"hard bounce: {reply}", now)


def _stop_enrollments(db: Connection, ids: list[int], reason: str, now: datetime) -> None:
    with Session(bind=db) as session:
        stop_enrollments(session, StopCause.SEND_REFUSED, reason, now, ids=ids)


def _ensure_mailbox_state(db: Connection, name: str, now: datetime) -> None:
    exists = db.scalar(sa.select(MAILBOX_STATE.c.name).where(MAILBOX_STATE.c.name == name))
    if exists is None:
        db.execute(MAILBOX_STATE.insert().values(name=name, paused=False, updated_at=now))


def _ours(outbound_id: int, worker_id: str) -> sa.Update:
    return OUTBOX.update().where(OUTBOX.c.id == outbound_id, OUTBOX.c.claimed_by == worker_id)


def _event_ids(row: _Claimed, **data: Any) -> dict[str, Any]:
    return {
        "prospect_id": row.prospect_id,
        "enrollment_id": row.enrollment_id,
        "outbound_id": row.id,
        "data": {"step_id": row.step_id, "mailbox": row.mailbox, **data},
    }


def _events(db: Connection, now: datetime, kind: EventKind, rows: list[dict[str, Any]]) -> None:
    if rows:
        db.execute(
            _EVENT_INSERT,
            [{"at": now, "kind": kind, "actor": "dispatcher", "data": {}, **r} for r in rows],
        )


def _expired(claimed_at: datetime | None, now: datetime, lease: timedelta) -> bool:
    return claimed_at is None or utc(claimed_at) < now - lease


def _header_address(address: str) -> str:
    """The address as compose wrote it in To: the domain as IDNA A-labels when it has them."""
    try:
        return wire_address(address).address
    except AddressError:
        return address
