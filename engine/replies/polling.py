"""Polling configured mailboxes: one `ImapSyncer` per mailbox, feeding one `Intake`.

`poll_once` is what `spear poll --once` and cron runs do; `poll_forever` is what the daemon runs
(one long-lived syncer per mailbox, IDLE where offered). Both leave messages stored but never
processed (a crash between the two intake steps) to `Intake.process_pending` first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from engine.cadences import Cadence
from engine.classify.budget import BudgetedClassifier
from engine.clock import Clock
from engine.config import Config, MailboxConfig
from engine.errors import NotFoundError
from engine.replies.actions import ReplySettings
from engine.replies.imap import ImapSyncer
from engine.replies.intake import Intake

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
            result = await syncer_for(entry, config, engine, intake, clock).sync_once()
            fetched += result.fetched
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
        await asyncio.gather(*(syncer.run(stop) for syncer in syncers))
    finally:
        await asyncio.to_thread(classifier.close)
