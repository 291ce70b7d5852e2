"""The IMAP folder syncer: fetch new messages by UID and hand each one to a handler.

The transport only: it knows IMAP, not what a reply means (that is `intake`'s job, as aiosmtpd
hands DATA to a handler). Per folder it remembers UIDVALIDITY and the last UID handed over
(`ImapFolderState`), fetches in batches what lies above, and saves the state after each message
the handler has taken, so a crash re-fetches at most one message (which intake then recognises).

The user's mailbox is left as it was: folders are opened read-only with EXAMINE and bodies read
with BODY.PEEK[], so reps who read the same inbox still see replies as unread. Only
`mark_seen: true` opens the folder read-write and sets \\Seen.

`sync_once()` connects, syncs every configured folder and logs out (tests, cron, `spear poll
--once`). `run()` stays connected: it IDLEs on the first folder when the server offers IDLE (up to
the poll interval), else sleeps the poll interval, then syncs again; a dropped connection or a
time-out reconnects after an exponential backoff. A refused login or a certificate that cannot be
trusted is raised at once (`polling` pauses the mailbox for a person).
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import aioimaplib
from sqlalchemy.engine import Engine

from engine.clock import Clock
from engine.config import ImapSettings, TlsMode
from engine.errors import MailAuthError, MailError, TemporaryMailError
from engine.replies.intake import FetchedMessage
from engine.store.db import session_scope
from engine.store.jobs import RetryPolicy
from engine.store.models import ImapFolderState
from engine.tls import client_context, handshake_failure

log = logging.getLogger(__name__)

Handler = Callable[[FetchedMessage], Awaitable[None]]
T = TypeVar("T")

BATCH_SIZE = 100  # UIDs per FETCH: bounded memory, few round trips
# Waits between reconnects: a second, doubling, at most five minutes; for as long as Spear runs
# (the policy's deadline is for jobs and plays no part here).
RECONNECT = RetryPolicy(first_delay=timedelta(seconds=1), max_delay=timedelta(minutes=5))
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_FETCH_UID = re.compile(rb"UID (\d+)")
_LITERAL = re.compile(rb"\{(\d+)\}$")


class ImapConnectionLost(TemporaryMailError):
    """The server closed the connection or stopped answering."""


class ImapTlsError(ImapConnectionLost):
    """TLS could not be set up: an untrusted or misnamed certificate, no STARTTLS, a failed
    handshake. The password was not sent."""


class ImapCommandError(MailError):
    """The server answered NO or BAD to a command we cannot do without."""


@dataclass(frozen=True)
class SyncResult:
    fetched: int = 0
    folders: int = 0

    def __add__(self, other: SyncResult) -> SyncResult:
        return SyncResult(self.fetched + other.fetched, self.folders + other.folders)


class ImapSyncer:
    """Sync the configured folders of one mailbox into `handler`."""

    def __init__(
        self,
        mailbox: str,
        settings: ImapSettings,
        engine: Engine,
        handler: Handler,
        *,
        clock: Clock,
        poll_interval: float = 60.0,
        batch_size: int = BATCH_SIZE,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.mailbox = mailbox
        self.settings = settings
        self.engine = engine
        self.handler = handler
        self.clock = clock
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.ssl_context = ssl_context or client_context(settings)
        self.reconnects = 0
        self._client: Any = None
        self._lost: asyncio.Future[None] | None = None

    # -- the two ways to run --------------------------------------------------------------

    async def sync_once(self) -> SyncResult:
        """Connect, sync every folder once, log out."""
        await self.connect()
        try:
            return await self.sync_folders()
        finally:
            await self.close()

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Sync, wait for news (IDLE or the poll interval), repeat, until `stop` is set."""
        stop = stop or asyncio.Event()
        failures = 0  # in a row, since the last full sync
        while not stop.is_set():
            try:
                await self.connect()
                while not stop.is_set():
                    await self.sync_folders()
                    failures = 0  # a full sync worked: the connection is healthy
                    await self.wait_for_news(stop)
            except (MailAuthError, ImapTlsError):
                # Settings a person has to fix: retrying bad credentials only locks the account,
                # and an untrusted certificate stays untrusted. The caller pauses the mailbox.
                await self.close()
                raise
            except (TemporaryMailError, OSError, TimeoutError) as error:
                self.reconnects += 1
                failures += 1
                backoff = RECONNECT.delay(failures).total_seconds()
                log.warning(
                    "imap connection lost mailbox=%s error=%s retry_in=%.1fs",
                    self.mailbox,
                    error,
                    backoff,
                )
                await self.close()
                await _sleep_unless(stop, self.clock.sleep(backoff))
            finally:
                if stop.is_set():
                    await self.close()

    # -- connection -----------------------------------------------------------------------

    async def connect(self) -> None:
        settings = self.settings
        loop = asyncio.get_running_loop()
        lost: asyncio.Future[None] = loop.create_future()
        self._lost = lost

        def on_lost(_exc: Exception | None) -> None:
            if not lost.done():
                lost.set_result(None)

        context = None
        if settings.tls is TlsMode.IMPLICIT:
            context = self.ssl_context
        client = aioimaplib.IMAP4(
            host=settings.host,
            port=settings.port,
            timeout=settings.timeout,
            conn_lost_cb=on_lost,
            ssl_context=context,
        )
        self._client = client
        try:
            await self._guard(client.wait_hello_from_server())
        except OSError as error:
            if isinstance(error, ssl.SSLError):  # implicit TLS: the handshake failed
                raise self._tls_error(error) from error
            raise ImapConnectionLost(
                f"cannot connect to {self._where()}: {error.strerror or error}"
            ) from error
        if settings.tls is TlsMode.STARTTLS:
            await self._starttls(client)
        user = settings.user or ""
        password = settings.password.value if settings.password else ""
        response = await self._guard(client.login(user, password))
        if response.result != "OK":
            raise MailAuthError(f"IMAP login refused for {user} on {settings.host}")
        log.info("imap connected mailbox=%s host=%s user=%s", self.mailbox, settings.host, user)

    async def _starttls(self, client: Any) -> None:
        """aioimaplib has no STARTTLS helper: ask, then upgrade the transport in place.

        Any failure is an `ImapTlsError`: the connection is never used in clear instead.
        """
        protocol = client.protocol
        command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
        response = await self._guard(protocol.execute(command))
        if response.result != "OK":
            raise ImapTlsError(
                f"IMAP {self._where()}: the server does not offer STARTTLS ({response.result}; "
                "tls: starttls never falls back to plain text; is this the implicit-TLS port, "
                "tls: implicit?)"
            )
        context = self.ssl_context
        loop = asyncio.get_running_loop()
        try:
            protocol.transport = await loop.start_tls(
                protocol.transport,
                protocol,
                context,
                server_hostname=self.settings.host,
                ssl_handshake_timeout=self.settings.timeout,
            )
        except ssl.SSLError as error:
            raise self._tls_error(error) from error
        except (OSError, TimeoutError, ConnectionError) as error:
            raise ImapTlsError(
                f"IMAP {self._where()}: TLS handshake after STARTTLS failed: "
                f"{type(error).__name__} {error}".rstrip()
            ) from error
        await self._guard(protocol.capability())  # capabilities may change after TLS

    def _where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def _tls_error(self, error: ssl.SSLError) -> ImapTlsError:
        return ImapTlsError(handshake_failure(f"IMAP {self._where()}", self.settings.tls, error))

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if self._lost is not None and not self._lost.done():
                await asyncio.wait_for(client.logout(), 2.0)
        except Exception:  # closing is best effort: the server may be gone already
            pass
        transport = getattr(client.protocol, "transport", None)
        if transport is not None:
            transport.close()

    async def _guard(self, awaitable: Awaitable[T]) -> T:
        """Await an aioimaplib call, failing fast when the connection drops under it.

        aioimaplib leaves a pending command waiting until its time-out when the server goes
        away; racing it against the connection-lost callback turns that into an error at once.
        """
        task = asyncio.ensure_future(awaitable)
        lost = self._lost
        waiters: set[asyncio.Future[Any]] = {task} if lost is None else {task, lost}
        done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        if task not in done:
            task.cancel()
            raise ImapConnectionLost(f"{self.settings.host} closed the connection")
        try:
            return task.result()
        except (aioimaplib.CommandTimeout, TimeoutError) as error:
            raise ImapConnectionLost(f"{self.settings.host} stopped answering") from error
        except aioimaplib.Abort as error:
            raise ImapConnectionLost(f"{self.settings.host}: {error}") from error

    # -- syncing --------------------------------------------------------------------------

    async def sync_folders(self) -> SyncResult:
        result = SyncResult()
        for folder in self.settings.folders:
            result += await self.sync_folder(folder)
        return result

    async def sync_folder(self, folder: str) -> SyncResult:
        client = self._client
        uidvalidity = await self._open(folder)
        # The folder state is database work: in a worker thread, like the intake's.
        state = await asyncio.to_thread(load_state, self.engine, self.mailbox, folder)
        last_uid = state.last_uid
        if state.uidvalidity != uidvalidity:
            if state.uidvalidity:
                log.warning(
                    "imap uidvalidity changed mailbox=%s folder=%s old=%s new=%s: re-syncing",
                    self.mailbox,
                    folder,
                    state.uidvalidity,
                    uidvalidity,
                )
            last_uid = 0
            await self._save_state(folder, uidvalidity, 0)
        response = await self._guard(client.uid_search(f"UID {last_uid + 1}:*", charset=None))
        _check(response, "UID SEARCH")
        uids = sorted(uid for uid in _search_uids(response.lines) if uid > last_uid)
        fetched = 0
        for start in range(0, len(uids), self.batch_size):
            batch = uids[start : start + self.batch_size]
            for uid, raw in await self._fetch(batch):
                await self.handler(FetchedMessage(self.mailbox, folder, uidvalidity, uid, raw))
                if self.settings.mark_seen:
                    await self._guard(client.uid("store", str(uid), "+FLAGS", r"(\Seen)"))
                last_uid = uid
                fetched += 1
            # Once a fetch, not once a message: after a crash the rest of a fetch is fetched
            # again, and the intake knows a message it has stored by its folder position.
            await self._save_state(folder, uidvalidity, last_uid)
        if not uids:
            await self._save_state(folder, uidvalidity, last_uid)
        # A sync that found nothing is not an event: at INFO only when something came in.
        log.log(
            logging.INFO if fetched else logging.DEBUG,
            "imap folder synced mailbox=%s folder=%s uidvalidity=%s fetched=%d",
            self.mailbox,
            folder,
            uidvalidity,
            fetched,
        )
        return SyncResult(fetched, 1)

    async def _save_state(self, folder: str, uidvalidity: int, last_uid: int) -> None:
        await asyncio.to_thread(
            save_state, self.engine, self.mailbox, folder, uidvalidity, last_uid, self.clock
        )

    async def _open(self, folder: str) -> int:
        """SELECT (mark_seen) or read-only EXAMINE; returns the folder's UIDVALIDITY."""
        client = self._client
        if self.settings.mark_seen:
            response = await self._guard(client.select(folder))
        else:
            response = await self._guard(client.examine(folder))
            if response.result == "OK":
                # aioimaplib only tracks SELECT; EXAMINE selects the folder just the same.
                client.protocol.state = aioimaplib.SELECTED
        _check(response, f"open folder {folder}")
        for line in response.lines:
            match = _UIDVALIDITY.search(bytes(line))
            if match:
                return int(match.group(1))
        raise ImapCommandError(f"{self.settings.host} gave no UIDVALIDITY for {folder}")

    async def _fetch(self, uids: list[int]) -> list[tuple[int, bytes]]:
        response = await self._guard(
            self._client.uid("fetch", ",".join(map(str, uids)), "(UID BODY.PEEK[])")
        )
        _check(response, "UID FETCH")
        return _fetched_messages(response.lines)

    # -- waiting --------------------------------------------------------------------------

    async def wait_for_news(self, stop: asyncio.Event) -> None:
        """IDLE on the first folder up to the poll interval, else sleep it."""
        client = self._client
        if not client.has_capability("IDLE"):
            await _sleep_unless(stop, self.clock.sleep(self.poll_interval))
            return
        await self._open(self.settings.folders[0])
        idle = await self._guard(client.idle_start(timeout=self.poll_interval))
        try:
            while client.has_pending_idle() and not stop.is_set():
                push = await self._guard(
                    _until(stop, client.wait_server_push(timeout=self.poll_interval + 5))
                )
                if push is None or push == aioimaplib.STOP_WAIT_SERVER_PUSH:
                    break
                if any(b"EXISTS" in bytes(line) for line in push):
                    log.debug("imap idle woke mailbox=%s", self.mailbox)
                    break
        finally:
            if client.has_pending_idle():
                client.idle_done()
                await self._guard(asyncio.wait_for(idle, self.settings.timeout))

    @property
    def idling(self) -> bool:
        """True while IDLE is pending on the open connection: new mail wakes the syncer now."""
        return self._client is not None and bool(self._client.has_pending_idle())


# --- folder state -----------------------------------------------------------------------------


def load_state(engine: Engine, mailbox: str, folder: str) -> ImapFolderState:
    with session_scope(engine) as session:
        state = session.get(ImapFolderState, (mailbox, folder))
        return state or ImapFolderState(mailbox=mailbox, folder=folder)


def save_state(
    engine: Engine, mailbox: str, folder: str, uidvalidity: int, last_uid: int, clock: Clock
) -> None:
    with session_scope(engine) as session:
        state = session.get(ImapFolderState, (mailbox, folder))
        if state is None:
            state = ImapFolderState(mailbox=mailbox, folder=folder)
        state.uidvalidity, state.last_uid, state.last_poll_at = uidvalidity, last_uid, clock.now()
        session.add(state)


# --- parsing aioimaplib's responses -------------------------------------------------------------


def _check(response: Any, what: str) -> None:
    if response.result != "OK":
        detail = b" ".join(bytes(line) for line in response.lines[-1:]).decode("ascii", "replace")
        raise ImapCommandError(f"{what} failed: {response.result} {detail}")


def _search_uids(lines: list[Any]) -> list[int]:
    """UIDs from SEARCH data lines (aioimaplib drops the `SEARCH` word; the last line is the
    completion text)."""
    uids: list[int] = []
    for line in lines[:-1]:
        tokens = bytes(line).split()
        if tokens and tokens[0].upper() == b"SEARCH":
            tokens = tokens[1:]
        if all(token.isdigit() for token in tokens):
            uids += [int(token) for token in tokens]
    return uids


def _fetched_messages(lines: list[Any]) -> list[tuple[int, bytes]]:
    """(uid, raw) pairs from FETCH lines: `N FETCH (UID u BODY[] {size}`, the literal, `)`.

    The literal arrives as a bytearray; the UID may come before it or, with some servers,
    in the line after it.
    """
    messages: list[tuple[int, bytes]] = []
    uid: int | None = None
    raw: bytes | None = None
    for line in lines:
        if isinstance(line, bytearray):
            raw = bytes(line)
            continue
        if b" FETCH " in line and _LITERAL.search(line):
            _flush(messages, uid, raw)
            uid, raw = None, None
        match = _FETCH_UID.search(line)
        if match:
            uid = int(match.group(1))
    _flush(messages, uid, raw)
    return messages


def _flush(messages: list[tuple[int, bytes]], uid: int | None, raw: bytes | None) -> None:
    if uid is not None and raw is not None:
        messages.append((uid, raw))


async def _until(stop: asyncio.Event, awaitable: Awaitable[T]) -> T | None:
    """`awaitable`'s result, or None as soon as `stop` is set."""
    task = asyncio.ensure_future(awaitable)
    stopping = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if task in done:
        return task.result()
    task.cancel()
    return None


async def _sleep_unless(stop: asyncio.Event, sleep: Awaitable[None]) -> None:
    await _until(stop, sleep)
