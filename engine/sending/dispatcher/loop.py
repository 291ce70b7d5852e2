"""The send loop: each pass recovers, counts the caps, claims, and sends one batch per mailbox.

Only SMTP and the waits run on the event loop. Database work runs in worker threads: the pass's
own steps (recovery, caps, claiming) through `asyncio.to_thread`, each mailbox's batch on its
batch's thread (`outcomes.Batch`), so that a slow database round trip never stalls IMAP IDLE or
another mailbox's sends.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from engine.clock import Clock
from engine.config import Config, MailboxConfig
from engine.errors import MailAuthError, PermanentMailError, TemporaryMailError
from engine.sending.capacity import MailboxLimits
from engine.sending.dispatcher.caps import Allowance, allowance
from engine.sending.dispatcher.claiming import Claimed, claim, release
from engine.sending.dispatcher.outcomes import Batch, DispatchStats, ensure_mailbox_state
from engine.sending.dispatcher.recovery import recover_in_flight
from engine.sending.liveness import LivenessLock, new_worker_id
from engine.sending.smtp import MailboxSender, SmtpTlsError, SmtpUncertainError
from engine.store.db import is_sqlite
from engine.store.jobs import RetryPolicy

log = logging.getLogger(__name__)


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

    async def run_once(self, limit: int = 500) -> DispatchStats:
        """Resolve rows left in flight, then send everything due now; returns what happened."""
        stats = DispatchStats(uncertain=await asyncio.to_thread(self.recover_in_flight))
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
        """Claim up to `limit` due rows and send them, the mailboxes in parallel."""
        if self._done:
            return DispatchStats()
        rows, allowed = await asyncio.to_thread(self._claim, limit)
        stats = DispatchStats(claimed=len(rows))
        by_mailbox: dict[str, list[Claimed]] = defaultdict(list)
        for row in rows:
            by_mailbox[row.mailbox].append(row)
        claimed = {row.id for row in rows}
        self._in_hand |= claimed
        try:
            results = await asyncio.gather(
                *(
                    self._send_mailbox(name, batch, allowed.left.get(name, 0), allowed.last_sends)
                    for name, batch in by_mailbox.items()
                )
            )
        finally:
            self._in_hand -= claimed
        for result in results:
            stats.add(result)
        return stats

    def recover_in_flight(self) -> int:
        """Resolve what dead dispatchers left behind (see `recovery`); returns how many rows
        became `uncertain`. Synchronous: call it from a worker thread on a daemon's loop."""
        now = self.clock.now()
        self._last_recovery = now
        return recover_in_flight(self.engine, self.worker_id, set(self._in_hand), now, self.lease)

    async def close(self) -> None:
        """Close every SMTP connection and give up the liveness lock; safe to call twice."""
        senders, self._senders = self._senders, {}
        for sender in senders.values():
            await sender.close()
        if self._liveness is not None:
            await asyncio.to_thread(self._liveness.release)

    @property
    def _done(self) -> bool:
        return self._retired or self.stopping.is_set()

    def _claim(self, limit: int) -> tuple[list[Claimed], Allowance]:
        """The pass's database work before sending (in a worker thread): prove this worker
        alive, recover, count the caps, claim what they allow."""
        if self._liveness is not None and not self._liveness.hold():
            return [], Allowance({}, {}, [])
        last = self._last_recovery
        # On PostgreSQL a dead holder is known at once (its lock is gone): look every pass, so
        # that a daemon that dies hands its rows to the others within one dispatch interval.
        if self._postgres or last is None or self.clock.now() - last >= self.lease / 2:
            self.recover_in_flight()
        now = self.clock.now()
        allowed = allowance(self.engine, self.config, now, self.retry.deadline)
        rows = claim(self.engine, self.worker_id, now, self.lease, allowed.closed, limit)
        return rows, allowed

    # -- one mailbox's batch ----------------------------------------------------------------

    async def _send_mailbox(
        self,
        name: str,
        rows: Sequence[Claimed],
        allowed: int,
        last_sends: dict[str, datetime],
    ) -> DispatchStats:
        stats = DispatchStats()
        try:
            mailbox = self.config.mailbox(name)
        except KeyError:
            log.error("mailbox %s is not in the configuration: %d rows wait", name, len(rows))
            stats.released += await self._release(rows)
            return stats
        if len(rows) > allowed:
            log.info("mailbox %s is at its cap: %d rows wait", name, len(rows) - allowed)
            stats.released += await self._release(rows[allowed:])
            rows = rows[:allowed]
            if not rows:
                return stats
        if name not in self._known_mailboxes:
            await asyncio.to_thread(self._know_mailbox, name)
        batch = Batch(self.engine, name, self.worker_id, self.clock, self.retry, stats)
        try:
            await batch.run(batch.open, rows)
            await self._send_rows(batch, mailbox, rows, last_sends.get(name))
        finally:
            await batch.close()
        return stats

    async def _send_rows(
        self,
        batch: Batch,
        mailbox: MailboxConfig,
        rows: Sequence[Claimed],
        last_attempt: datetime | None,
    ) -> None:
        """Send `rows` one after the other on the mailbox's connection, keeping its gap.

        `last_attempt` is when the mailbox last started a transaction (an earlier batch's, then
        this one's): the gap counts from there.
        """
        sender = self._sender(mailbox.name)
        limits = MailboxLimits.of(mailbox, None, ZoneInfo(self.config.timezone))
        started = self.clock.now()
        for index, row in enumerate(rows):
            # Only with a gap to keep: the last send may carry another daemon's clock, a little
            # ahead of ours, and without a gap there is nothing to wait for.
            if last_attempt is not None and (limits.min_gap or limits.jitter):
                # The mailbox's gap and jitter since its last send: planned mail is spaced
                # already, overdue mail is all due at once and waits here, one after the other.
                ready = limits.ready_at(last_attempt, row.scheduled_at, row.message_id)
                if ready - started > self.lease / 2:
                    # Waiting longer would keep the rest claimed too long: a later pass sends it.
                    await batch.run(batch.release, [r.id for r in rows[index:]])
                    return
                await self._wait_until(ready)
            if self._done:
                await batch.run(batch.release, [r.id for r in rows[index:]])
                return
            now = self.clock.now()
            if row.send_before is not None and now >= row.send_before:
                # Its window closed while the batch was going out: the planner re-slots it.
                await batch.run(batch.release, [row.id])
                continue
            # The envelope goes out while the batch's thread checks the row and commits it
            # `sending`; the body only once that is committed (or the envelope is reset).
            cleared = batch.run(batch.begin, row, mailbox.reply_to)
            try:
                reply = await sender.send_when_cleared(
                    mailbox.address, row.to_address, row.raw, cleared
                )
            except (MailAuthError, SmtpTlsError) as exc:
                # Settings a person has to fix: nothing was sent, and the mailbox waits for them.
                await batch.run(batch.pause_mailbox, row, exc)
                await batch.run(batch.release, [r.id for r in rows[index + 1 :]])
                return
            except SmtpUncertainError as exc:
                await batch.run(batch.uncertain, row, str(exc))
            except TemporaryMailError as exc:
                await batch.run(batch.temporary, row, str(exc))
                if getattr(exc, "code", None) in (None, 421):
                    # The server or the connection is gone: the rest of the batch waits its turn.
                    await batch.run(batch.release, [r.id for r in rows[index + 1 :]])
                    return
            except PermanentMailError as exc:
                await batch.run(batch.permanent, row, exc)
            # Nothing else: the sender turns every failure of its own into one of the above, and
            # a database error ends the pass with the row still claimed (see `recovery`).
            else:
                if reply is None:
                    continue  # cancelled or refused before the body: nothing went
                batch.sent(row, reply)
            last_attempt = now

    async def _wait_until(self, ready: datetime) -> None:
        """Sleep on the clock until `ready`, a second at a time so a stop is seen at once."""
        while not self._done:
            left = (ready - self.clock.now()).total_seconds()
            if left <= 0:
                return
            await self.clock.sleep(min(left, 1.0))

    async def _release(self, rows: Sequence[Claimed]) -> int:
        return await asyncio.to_thread(release, self.engine, self.worker_id, [r.id for r in rows])

    def _know_mailbox(self, name: str) -> None:
        with self.engine.begin() as db:
            ensure_mailbox_state(db, name, self.clock.now())
        self._known_mailboxes.add(name)

    def _sender(self, name: str) -> MailboxSender:
        if name not in self._senders:
            mailbox = self.config.mailbox(name)
            self._senders[name] = MailboxSender(name, mailbox.smtp, tls_context=self._tls_context)
        return self._senders[name]
