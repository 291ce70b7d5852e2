"""What one configuration gives the daemon: its jobs, built from the other packages.

`build_runtime` reads `spear.yaml` and the cadences, opens the database and wires the planner,
the dispatcher (which also resolves what dead dispatchers left in flight), the IMAP syncers with
their intake, the hand-off sender and the webhook sender into `Job`s, and the one-click
unsubscribe endpoint (when `unsubscribe.one_click` is set) into a service. A SIGHUP calls it again:
an invalid configuration or cadence raises `SpearError`, and the daemon keeps the runtime it has.

Polling: in `spear run` every mailbox's syncer stays connected and waits with IDLE (or sleeps the
poll interval) in a task of its own; in `--once` each syncs once. On PostgreSQL a mailbox is
polled by one daemon at a time: the poller holds a session advisory lock named after the mailbox
and its server, and a daemon that dies loses the lock with its connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from engine.cadences import Cadence, load_cadences
from engine.classify.budget import BudgetedClassifier
from engine.clock import Clock
from engine.config import Config, MailboxConfig, load_config, resolve_secrets
from engine.display import plural
from engine.replies.actions import ReplySettings
from engine.replies.handoff import HandoffSender
from engine.replies.imap import ImapSyncer
from engine.replies.intake import Intake
from engine.replies.polling import keep_synced, sync_unless_paused
from engine.sending.dispatcher import Dispatcher
from engine.sending.planner import Planner
from engine.service.daemon import Job, Runtime, Service
from engine.service.webhooks import WebhookSender
from engine.store.db import is_sqlite, make_engine
from engine.store.locks import try_lock, unlock
from engine.unsubscribe.app import one_click_app, serve

log = logging.getLogger(__name__)


@dataclass
class RuntimeOptions:
    clock: Clock
    worker_id: str
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # Seconds of the job intervals are divided by this: the demo's fast clock runs them faster.
    speed: float = 1.0
    plan_every: float = 30.0
    dispatch_every: float = 5.0
    housekeeping_every: float = 60.0


def load_everything(config_path: Path) -> tuple[Config, dict[str, Cadence]]:
    """The configuration and its cadences, checked against each other; raises SpearError."""
    config = load_config(config_path)
    resolve_secrets(config)  # the daemon connects: a password that cannot be read stops it here
    cadences = load_cadences(
        config.cadences_path,
        config.templates_path,
        mailboxes=[m.name for m in config.sending_mailboxes],
        segments=list(config.segments),
    )
    return config, cadences


async def build_runtime(config_path: Path, options: RuntimeOptions) -> Runtime:
    config, cadences = load_everything(config_path)
    engine = make_engine(config.database_url)
    parts = Parts(config, cadences, engine, options)
    speed = options.speed
    plan = Job("plan", options.plan_every / speed, parts.plan)
    dispatch = Job("dispatch", options.dispatch_every / speed, parts.dispatch)
    webhooks = Job("webhooks", options.housekeeping_every / speed, parts.deliver_webhooks)
    handoffs = Job("handoffs", options.dispatch_every / speed, parts.deliver_handoffs)
    return Runtime(
        jobs=[plan, dispatch, handoffs, webhooks],
        # Replies first, so that a prospect who answered is not planned or mailed again.
        once=[Job("poll", 0, parts.poll_once), plan, dispatch, handoffs, webhooks],
        close=parts.close,
        retire=parts.dispatcher.retire,
        database=config.database_url,
        describe=(
            f"worker {options.worker_id}, {plural(len(cadences), 'cadence')}, "
            f"{plural(len(config.mailboxes), 'mailbox', 'mailboxes')}"
        ),
        services=[
            *(parts.watch_mailbox(m) for m in config.mailboxes if m.imap is not None),
            *parts.one_click(),
        ],
    )


class Parts:
    """The objects behind the jobs; one set per configuration."""

    def __init__(
        self, config: Config, cadences: dict[str, Cadence], engine: Engine, options: RuntimeOptions
    ) -> None:
        self.config = config
        self.engine = engine
        self.options = options
        clock = options.clock
        self.planner = Planner(engine, config, clock)
        self.dispatcher = Dispatcher(
            engine, config, clock, options.worker_id, stopping=options.stopping
        )
        # Replies are classified in a worker process with a time budget per message.
        self.classifier = BudgetedClassifier()
        if any(m.imap is not None for m in config.mailboxes):
            self.classifier.start()
        self.intake = Intake(
            engine, ReplySettings.from_config(config, cadences), clock, self.classifier
        )
        self.webhooks = WebhookSender(config, engine, clock)
        self.handoffs = HandoffSender(engine, config, clock)

    async def plan(self) -> None:
        # Planning renders templates and runs short queries: keep it off the loop.
        stats = await asyncio.to_thread(self.planner.plan_due)
        if stats.planned or stats.parked:
            log.info("planned %d, parked %d", stats.planned, stats.parked)

    async def dispatch(self) -> None:
        stats = await self.dispatcher.dispatch_due()
        if stats.claimed:
            log.info(
                "dispatched: sent %d, retry %d, failed %d, bounced %d, cancelled %d",
                stats.sent,
                stats.retried,
                stats.failed,
                stats.bounced,
                stats.cancelled,
            )

    async def deliver_webhooks(self) -> None:
        await self.webhooks.deliver_due()

    async def deliver_handoffs(self) -> None:
        await self.handoffs.deliver_due()

    async def poll_once(self) -> None:
        """Every mailbox synced once (the `--once` pass, and `spear poll`)."""
        for mailbox in self.config.mailboxes:
            if mailbox.imap is None:
                continue
            async with mailbox_lease(self.engine, mailbox) as held:
                if held:
                    await sync_unless_paused(self._syncer(mailbox), self.config)
        await asyncio.to_thread(self.intake.process_pending)

    def watch_mailbox(self, mailbox: MailboxConfig) -> Callable[[asyncio.Event], Awaitable[None]]:
        """A long-running poller for one mailbox: IDLE or interval polling, under its lease."""

        async def watch(stop: asyncio.Event) -> None:
            while not stop.is_set():
                async with mailbox_lease(self.engine, mailbox) as held:
                    if held:
                        await keep_synced(self._syncer(mailbox), self.config, stop)
                        return
                # Another daemon polls this mailbox: look again later in case it dies.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.config.poll_interval_seconds)

        return watch

    def one_click(self) -> list[Service]:
        """The RFC 8058 endpoint as a service, when configured (`spear run` serves it)."""
        settings = self.config.unsubscribe.one_click
        if settings is None:
            return []
        app = one_click_app(self.engine, settings, self.options.clock)

        async def serve_one_click(stop: asyncio.Event) -> None:
            await serve(app, settings, stop)

        return [serve_one_click]

    def _syncer(self, mailbox: MailboxConfig) -> ImapSyncer:
        assert mailbox.imap is not None
        return ImapSyncer(
            mailbox.name,
            mailbox.imap,
            self.engine,
            self.intake,
            clock=self.options.clock,
            poll_interval=self.config.poll_interval_seconds / self.options.speed,
        )

    async def close(self) -> None:
        await self.dispatcher.close()
        await self.handoffs.close()
        await asyncio.to_thread(self.classifier.close)
        self.engine.dispose()


@contextlib.asynccontextmanager
async def mailbox_lease(engine: Engine, mailbox: MailboxConfig) -> AsyncIterator[bool]:
    """Yields True when this daemon may poll `mailbox` now.

    SQLite has one daemon (the file lock sees to it), so the answer is always yes. On PostgreSQL
    the lease is a session advisory lock on a connection kept for as long as the poller runs.
    """
    if is_sqlite(str(engine.url)):
        yield True
        return
    assert mailbox.imap is not None
    name = f"imap:{mailbox.imap.host}:{mailbox.imap.port}:{mailbox.imap.user}"
    connection = await asyncio.to_thread(engine.connect)
    held = False
    try:
        held = try_lock(connection, name)
        # A session lock outlives the transaction: end it rather than sit idle in one for hours.
        connection.commit()
        yield held
    finally:
        # Also when the poller fails or is cancelled: a pooled connection must not keep the lock.
        if held:
            try:
                unlock(connection, name)
                connection.commit()
            except sa.exc.DBAPIError:
                connection.invalidate()  # the connection is gone, and the lock with it
        connection.close()
