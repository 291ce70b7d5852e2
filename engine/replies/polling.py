"""Polling configured mailboxes: one `ImapSyncer` per mailbox, feeding one `Intake`.

`poll_once` is what `spear poll --once` and cron runs do; `poll_forever` is what the daemon runs
(one long-lived syncer per mailbox, IDLE where offered). Both leave messages stored but never
processed (a crash between the two intake steps) to `Intake.process_pending` first.

A refused IMAP login or an untrusted certificate pauses the mailbox, as a refused SMTP login
does, with one log line: no login every few seconds to trip fail2ban or lock the account, and no
sending while its replies cannot be read. Until `spear mailbox resume` the mailbox is not polled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from engine.cadences import Cadence
from engine.classify.budget import BudgetedClassifier
from engine.clock import Clock
from engine.config import Config, MailboxConfig
from engine.errors import MailAuthError, NotFoundError
from engine.prospects import lifecycle
from engine.replies.actions import ReplySettings
from engine.replies.imap import ImapSyncer, ImapTlsError, SyncResult
from engine.replies.intake import Intake
from engine.sending.mailboxes import pause_mailbox
from engine.store.db import session_scope
from engine.store.models import PauseCause

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PollCounts:
    mailboxes: int
    fetched: int
    stored: int
    duplicates: int
    resumed: int  # stored earlier but never processed


def polled_mailboxes(config: Config, name: str | None = None) -> list[MailboxConfig]:
    """The mailboxes with IMAP settings (only `name` when given)."""
    chosen = [m for m in config.mailboxes if m.imap is not None]
    if name is not None:
        chosen = [m for m in chosen if m.name == name]
        if not chosen:
            raise NotFoundError(f"no mailbox {name!r} with imap settings in the configuration")
    return chosen


def syncer_for(
    mailbox: MailboxConfig, config: Config, engine: Engine, intake: Intake, clock: Clock
) -> ImapSyncer:
    assert mailbox.imap is not None
    return ImapSyncer(
        mailbox.name,
        mailbox.imap,
        engine,
        intake,
        clock=clock,
        poll_interval=config.poll_interval_seconds,
    )


async def poll_once(
    config: Config,
    engine: Engine,
    cadences: Mapping[str, Cadence],
    clock: Clock,
    *,
    mailbox: str | None = None,
) -> PollCounts:
    """Sync each mailbox once, classify and act on what came in."""
    classifier = BudgetedClassifier()
    intake = Intake(engine, ReplySettings.from_config(config, cadences), clock, classifier)
    try:
        resumed = await asyncio.to_thread(intake.process_pending)
        fetched = 0
        mailboxes = polled_mailboxes(config, mailbox)
        for entry in mailboxes:
            syncer = syncer_for(entry, config, engine, intake, clock)
            fetched += (await sync_unless_paused(syncer, config)).fetched
    finally:
        await asyncio.to_thread(classifier.close)
    return PollCounts(len(mailboxes), fetched, intake.stored, intake.duplicates, resumed)


async def poll_forever(
    config: Config,
    engine: Engine,
    cadences: Mapping[str, Cadence],
    clock: Clock,
    stop: asyncio.Event,
) -> None:
    """Keep every mailbox synced until `stop` is set (the daemon's polling job)."""
    classifier = BudgetedClassifier()
    classifier.start()
    intake = Intake(engine, ReplySettings.from_config(config, cadences), clock, classifier)
    try:
        await asyncio.to_thread(intake.process_pending)
        syncers = [syncer_for(m, config, engine, intake, clock) for m in polled_mailboxes(config)]
        await asyncio.gather(*(keep_synced(syncer, config, stop) for syncer in syncers))
    finally:
        await asyncio.to_thread(classifier.close)


# --- refusals pause the mailbox ---------------------------------------------------------------


async def sync_unless_paused(syncer: ImapSyncer, config: Config) -> SyncResult:
    """`sync_once`, unless the mailbox waits for a person; a refusal pauses it."""
    if await asyncio.to_thread(paused_for_imap, syncer.engine, syncer.mailbox):
        return SyncResult()
    try:
        return await syncer.sync_once()
    except (MailAuthError, ImapTlsError) as error:
        await asyncio.to_thread(pause_for_imap, syncer, config, error)
        return SyncResult()


async def keep_synced(syncer: ImapSyncer, config: Config, stop: asyncio.Event) -> None:
    """`run` until `stop`; after a refusal, wait (quietly) until a person resumes the mailbox."""
    while not stop.is_set():
        if not await asyncio.to_thread(paused_for_imap, syncer.engine, syncer.mailbox):
            try:
                await syncer.run(stop)
                return
            except (MailAuthError, ImapTlsError) as error:
                await asyncio.to_thread(pause_for_imap, syncer, config, error)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), syncer.poll_interval)


def paused_for_imap(engine: Engine, mailbox: str) -> bool:
    with session_scope(engine) as session:
        return lifecycle.paused_for(session, mailbox, PauseCause.IMAP_REFUSED)


def pause_for_imap(syncer: ImapSyncer, config: Config, error: MailAuthError | ImapTlsError) -> None:
    if isinstance(error, MailAuthError):
        fix = "fix the password"
    else:
        fix = "fix the TLS settings (tls, ca_file) or the certificate"
    reason = f"IMAP refused: {error}"
    with session_scope(syncer.engine) as session:
        pause_mailbox(
            session,
            config,
            syncer.mailbox,
            syncer.clock.now(),
            reason,
            cause=PauseCause.IMAP_REFUSED,
            actor="spear",
        )
    log.error(
        "mailbox %s paused: %s; %s, then run: spear mailbox resume %s",
        syncer.mailbox,
        reason,
        fix,
        syncer.mailbox,
    )
