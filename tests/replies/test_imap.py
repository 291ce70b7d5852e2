"""The IMAP syncer against real servers on loopback: pymap (the harness) and Dovecot."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import aioimaplib
import pytest
from sqlalchemy.engine import Engine

from engine.clock import SystemClock
from engine.config import Config, ImapSettings, MailboxConfig, ServerSettings, TlsMode
from engine.harness import Harness
from engine.replies.imap import ImapSyncer, load_state
from engine.replies.intake import FetchedMessage
from engine.replies.polling import keep_synced, paused_for_imap, sync_unless_paused
from engine.sending.mailboxes import resume_mailbox
from engine.store.db import session_scope
from engine.store.models import InboundStatus

from .conftest import (
    USER,
    Dovecot,
    harness_settings,
    imap_settings,
    intake,
    message,
    same_mail,
    stored,
    syncer_for,
)


async def test_incremental_sync_fetches_only_new_messages(
    mail_harness: Harness, db_engine: Engine
) -> None:
    handler = intake(db_engine)
    syncer = syncer_for(harness_settings(mail_harness), db_engine, handler)
    for number in (1, 2, 3):
        mail_harness.deliver(USER, message(number))
    assert (await syncer.sync_once()).fetched == 3
    assert (await syncer.sync_once()).fetched == 0
    mail_harness.deliver(USER, message(4))
    assert (await syncer.sync_once()).fetched == 1
    rows = stored(db_engine)
    # Messages delivered in the same second may get their UIDs in any order.
    assert {r.message_id for r in rows[:3]} == {f"<m{n}@acme.example>" for n in (1, 2, 3)}
    assert rows[3].message_id == "<m4@acme.example>"
    assert same_mail(rows[3].raw, message(4))
    state = load_state(db_engine, "alex", "INBOX")
    assert state.last_uid == rows[-1].uid and state.uidvalidity == rows[-1].uidvalidity
    # Unmatched (no such prospects here): kept and visible in the review queue.
    assert {r.status for r in rows} == {InboundStatus.REVIEW}


async def test_uidvalidity_change_resyncs_without_duplicates(
    mail_harness: Harness, db_engine: Engine
) -> None:
    handler = intake(db_engine)
    syncer = syncer_for(harness_settings(mail_harness), db_engine, handler)
    mail_harness.deliver(USER, message(1))
    mail_harness.deliver(USER, b"From: x@y.example\r\nSubject: no id\r\n\r\nHello\r\n")
    await syncer.sync_once()
    before = load_state(db_engine, "alex", "INBOX").uidvalidity
    mail_harness.reset_uidvalidity(USER)
    mail_harness.deliver(USER, message(2))
    result = await syncer.sync_once()
    assert result.fetched == 3  # everything fetched again...
    assert load_state(db_engine, "alex", "INBOX").uidvalidity != before
    assert len(stored(db_engine)) == 3  # ...but only the new message stored
    assert handler.duplicates == 2


async def test_flags_are_left_untouched(mail_harness: Harness, db_engine: Engine) -> None:
    settings = harness_settings(mail_harness)
    mail_harness.deliver(USER, message(1))
    await syncer_for(settings, db_engine, intake(db_engine)).sync_once()
    assert await unseen_count(settings) == 1


async def test_mark_seen_when_configured(mail_harness: Harness, db_engine: Engine) -> None:
    settings = harness_settings(mail_harness, mark_seen=True)
    mail_harness.deliver(USER, message(1))
    await syncer_for(settings, db_engine, intake(db_engine)).sync_once()
    assert await unseen_count(settings) == 0


async def test_unparseable_message_is_kept_and_queued(
    mail_harness: Harness, db_engine: Engine
) -> None:
    mail_harness.deliver(USER, b"\x00\x01 not a mail message \xff\xfe")
    await syncer_for(harness_settings(mail_harness), db_engine, intake(db_engine)).sync_once()
    [row] = stored(db_engine)
    assert b"\x00\x01 not a mail message \xff\xfe" in row.raw  # pymap adds an empty header
    assert row.status is InboundStatus.REVIEW and row.error


async def test_idle_wakes_up_on_new_mail(
    mail_harness: Harness, db_engine: Engine, wait_until: Callable[..., Awaitable[None]]
) -> None:
    seen: asyncio.Queue[FetchedMessage] = asyncio.Queue()

    async def handler(fetched: FetchedMessage) -> None:
        await seen.put(fetched)

    syncer = ImapSyncer(
        "alex",
        harness_settings(mail_harness),
        db_engine,
        handler,
        clock=SystemClock(),
        poll_interval=30,  # far longer than the test: only IDLE can bring the message in time
    )
    stop = asyncio.Event()
    running = asyncio.create_task(syncer.run(stop))
    try:
        await wait_until(lambda: syncer.idling, "idling")
        mail_harness.deliver(USER, message(1))
        fetched = await asyncio.wait_for(seen.get(), 10)
        assert same_mail(fetched.raw, message(1))
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)


async def test_polling_without_idle(
    mail_harness: Harness, db_engine: Engine, wait_until: Callable[..., Awaitable[None]]
) -> None:
    seen: asyncio.Queue[FetchedMessage] = asyncio.Queue()

    async def handler(fetched: FetchedMessage) -> None:
        await seen.put(fetched)

    syncer = NoIdleSyncer(
        "alex",
        harness_settings(mail_harness),
        db_engine,
        handler,
        clock=SystemClock(),
        poll_interval=0.2,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(syncer.run(stop))
    try:
        # The first sync is over (an empty inbox): only a later poll can bring the message.
        await wait_until(lambda: load_state(db_engine, "alex", "INBOX").uidvalidity, "synced")
        mail_harness.deliver(USER, message(1))
        assert (await asyncio.wait_for(seen.get(), 10)).uid > 0
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)


class NoIdleSyncer(ImapSyncer):
    """A syncer that pretends the server lacks IDLE (pymap and Dovecot both offer it)."""

    async def connect(self) -> None:
        await super().connect()
        self._client.protocol.capabilities.discard("IDLE")


class DroppingProxy:
    """A TCP relay in front of a real IMAP server that can drop every connection at once.

    The fault: the server side goes away mid-session (as a restart or a NAT time-out does), and
    for `down` seconds new connections are refused too.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.down_until = 0.0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.drop(0)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def drop(self, down: float) -> None:
        self.down_until = asyncio.get_running_loop().time() + down
        for writer in list(self._writers):
            writer.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if asyncio.get_running_loop().time() < self.down_until:
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}


async def test_reconnects_after_the_server_drops_the_connection(
    mail_harness: Harness, db_engine: Engine
) -> None:
    seen: asyncio.Queue[FetchedMessage] = asyncio.Queue()

    async def handler(fetched: FetchedMessage) -> None:
        await seen.put(fetched)

    proxy = DroppingProxy(mail_harness.imap_port)
    await proxy.start()
    settings = imap_settings(proxy.port, USER, mail_harness.users[USER])
    syncer = syncer_for(settings, db_engine, handler)
    stop = asyncio.Event()
    running = asyncio.create_task(syncer.run(stop))
    try:
        mail_harness.deliver(USER, message(1))
        assert same_mail((await asyncio.wait_for(seen.get(), 10)).raw, message(1))
        proxy.drop(down=1.5)  # the first reconnect fails too: the backoff grows
        mail_harness.deliver(USER, message(2))
        assert same_mail((await asyncio.wait_for(seen.get(), 15)).raw, message(2))
        assert syncer.reconnects >= 2
        assert seen.empty()  # nothing fetched twice
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
        await proxy.stop()


async def test_a_refused_login_pauses_the_mailbox_with_one_line(
    mail_harness: Harness, db_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """No login every few seconds (fail2ban, account lockout): one try, one line, a pause."""
    wrong = imap_settings(mail_harness.imap_port, USER, "not-the-password")
    config = Config(
        mailboxes=[
            MailboxConfig(
                name="alex",
                address=USER,
                smtp=ServerSettings(host="127.0.0.1", port=25, tls=TlsMode.NONE),
                imap=wrong,
            )
        ]
    )
    mail_harness.deliver(USER, message(1))
    stop = asyncio.Event()
    running = asyncio.create_task(
        keep_synced(syncer_for(wrong, db_engine, intake(db_engine)), config, stop)
    )
    await asyncio.sleep(2)  # four poll intervals of the syncer
    stop.set()
    await asyncio.wait_for(running, 10)

    paused = [r for r in caplog.records if "paused" in r.getMessage()]
    assert [r.getMessage() for r in paused] == [
        f"mailbox alex paused: IMAP refused: IMAP login refused for {USER} on 127.0.0.1; "
        "fix the password, then run: spear mailbox resume alex"
    ]
    assert not any(r.exc_info for r in caplog.records)
    assert paused_for_imap(db_engine, "alex")
    # A cron pass leaves it alone too, until a person resumes it.
    right = harness_settings(mail_harness)
    assert (
        await sync_unless_paused(syncer_for(right, db_engine, intake(db_engine)), config)
    ).fetched == 0
    with session_scope(db_engine) as session:
        resume_mailbox(session, config, "alex", datetime.now(UTC))
    assert (
        await sync_unless_paused(syncer_for(right, db_engine, intake(db_engine)), config)
    ).fetched == 1


async def unseen_count(settings: ImapSettings) -> int:
    client = aioimaplib.IMAP4(host=settings.host, port=settings.port, timeout=5)
    await client.wait_hello_from_server()
    assert settings.user and settings.password
    await client.login(settings.user, settings.password.value)
    await client.examine("INBOX")
    client.protocol.state = aioimaplib.SELECTED
    response = await client.search("UNSEEN", charset=None)
    await client.logout()
    return sum(len(bytes(line).split()) for line in response.lines[:-1])


# --- Dovecot ------------------------------------------------------------------------------------


@pytest.mark.dovecot
async def test_dovecot_incremental_sync_uidvalidity_and_flags(
    dovecot: Dovecot, db_engine: Engine
) -> None:
    settings = imap_settings(dovecot.port, dovecot.user, dovecot.password)
    handler = intake(db_engine)
    syncer = syncer_for(settings, db_engine, handler)
    dovecot.deliver(message(1), "1.msg")
    dovecot.deliver(message(2), "2.msg")
    assert (await syncer.sync_once()).fetched == 2
    assert (await syncer.sync_once()).fetched == 0
    dovecot.deliver(message(3), "3.msg")
    assert (await syncer.sync_once()).fetched == 1
    assert await unseen_count(settings) == 3
    first = load_state(db_engine, "alex", "INBOX").uidvalidity
    dovecot.reset_uidvalidity()
    dovecot.deliver(message(4), "4.msg")
    assert (await syncer.sync_once()).fetched == 4
    assert load_state(db_engine, "alex", "INBOX").uidvalidity != first
    assert len(stored(db_engine)) == 4 and handler.duplicates == 3


@pytest.mark.dovecot
async def test_dovecot_idle_wakes_up(
    dovecot: Dovecot, db_engine: Engine, wait_until: Callable[..., Awaitable[None]]
) -> None:
    seen: asyncio.Queue[FetchedMessage] = asyncio.Queue()

    async def handler(fetched: FetchedMessage) -> None:
        await seen.put(fetched)

    settings = imap_settings(dovecot.port, dovecot.user, dovecot.password)
    syncer = ImapSyncer("alex", settings, db_engine, handler, clock=SystemClock(), poll_interval=30)
    stop = asyncio.Event()
    running = asyncio.create_task(syncer.run(stop))
    try:
        await wait_until(lambda: syncer.idling, "idling")
        dovecot.deliver(message(1), "1.msg")
        assert same_mail((await asyncio.wait_for(seen.get(), 10)).raw, message(1))
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
