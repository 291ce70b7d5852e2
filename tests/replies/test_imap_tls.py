"""The IMAP syncer over TLS against a throwaway Dovecot on loopback (`ssl = required`).

Implicit TLS (the imaps listener) and STARTTLS (the imap listener, which refuses LOGIN before
TLS, so a passing STARTTLS test proves the upgrade happened). The certificate comes from a
`trustme` CA that the client trusts through `ssl_context`.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from engine.config import TlsMode
from engine.errors import SpearError, TemporaryMailError
from engine.replies.imap import Handler, ImapSyncer, ImapTlsError
from engine.replies.intake import FetchedMessage

from .conftest import Dovecot, imap_settings, intake, message, same_mail, stored, syncer_for


def tls_syncer(
    dovecot: Dovecot,
    engine: Engine,
    tls: TlsMode,
    *,
    ssl_context: ssl.SSLContext | None,
    handler: Handler | None = None,
    ca_file: Path | None = None,
) -> ImapSyncer:
    port = dovecot.imaps_port if tls is TlsMode.IMPLICIT else dovecot.port
    assert port is not None
    settings = imap_settings(port, dovecot.user, dovecot.password).model_copy(
        update={"tls": tls, "ca_file": ca_file}
    )
    syncer = syncer_for(settings, engine, handler or intake(engine))
    if ssl_context is not None:
        syncer.ssl_context = ssl_context
    return syncer


@pytest.mark.dovecot
@pytest.mark.parametrize("tls", [TlsMode.IMPLICIT, TlsMode.STARTTLS])
async def test_dovecot_syncs_over_tls(
    dovecot_tls: Dovecot, db_engine: Engine, tls: TlsMode
) -> None:
    dovecot_tls.deliver(message(1), "1.msg")
    dovecot_tls.deliver(message(2), "2.msg")
    syncer = tls_syncer(dovecot_tls, db_engine, tls, ssl_context=dovecot_tls.client_ssl())
    assert (await syncer.sync_once()).fetched == 2
    rows = stored(db_engine)
    assert [same_mail(row.raw, message(n)) for row, n in zip(rows, (1, 2), strict=True)] == [
        True,
        True,
    ]
    dovecot_tls.deliver(message(3), "3.msg")
    assert (await syncer.sync_once()).fetched == 1
    assert len(stored(db_engine)) == 3


@pytest.mark.dovecot
async def test_dovecot_private_ca_through_ca_file(
    dovecot_tls: Dovecot, db_engine: Engine, tmp_path: Path
) -> None:
    """Without `ssl_context`, the server's `ca_file` setting trusts a private CA."""
    assert dovecot_tls.ca_pem is not None
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(dovecot_tls.ca_pem)
    dovecot_tls.deliver(message(1), "1.msg")
    for tls in (TlsMode.IMPLICIT, TlsMode.STARTTLS):
        syncer = tls_syncer(dovecot_tls, db_engine, tls, ssl_context=None, ca_file=bundle)
        await syncer.sync_once()
    assert len(stored(db_engine)) == 1


@pytest.mark.dovecot
async def test_dovecot_idle_over_starttls_sees_new_mail(
    dovecot_tls: Dovecot, db_engine: Engine, wait_until: Callable[..., Awaitable[None]]
) -> None:
    """The hand-made STARTTLS upgrade carries a long-lived IDLE connection too."""
    got: list[FetchedMessage] = []
    arrived = asyncio.Event()

    async def handler(fetched: FetchedMessage) -> None:
        got.append(fetched)
        arrived.set()

    syncer = tls_syncer(
        dovecot_tls,
        db_engine,
        TlsMode.STARTTLS,
        ssl_context=dovecot_tls.client_ssl(),
        handler=handler,
    )
    syncer.poll_interval = 30  # long: only IDLE can wake it in time
    stop = asyncio.Event()
    task = asyncio.create_task(syncer.run(stop))
    try:
        await wait_until(lambda: syncer.idling, "idling")
        dovecot_tls.deliver(message(7), "7.msg")
        await asyncio.wait_for(arrived.wait(), 15)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert [same_mail(f.raw, message(7)) for f in got] == [True]
    assert syncer.reconnects == 0


# --- failures -----------------------------------------------------------------------------------


def _assert_tls_failure(error: BaseException, port: int) -> None:
    assert isinstance(error, ImapTlsError)
    assert isinstance(error, SpearError) and isinstance(error, TemporaryMailError)
    text = str(error)
    assert f"127.0.0.1:{port}" in text, text
    assert "certificate" in text, text


@pytest.mark.dovecot
@pytest.mark.parametrize("tls", [TlsMode.IMPLICIT, TlsMode.STARTTLS])
async def test_dovecot_untrusted_certificate_is_a_clear_error(
    dovecot_tls: Dovecot, db_engine: Engine, tls: TlsMode
) -> None:
    dovecot_tls.deliver(message(1), "1.msg")
    syncer = tls_syncer(dovecot_tls, db_engine, tls, ssl_context=ssl.create_default_context())
    with pytest.raises(ImapTlsError) as caught:
        await asyncio.wait_for(syncer.sync_once(), 10)
    port = dovecot_tls.imaps_port if tls is TlsMode.IMPLICIT else dovecot_tls.port
    assert port is not None
    _assert_tls_failure(caught.value, port)
    assert stored(db_engine) == []


@pytest.mark.dovecot
async def test_dovecot_untrusted_certificate_stops_run_at_once(
    dovecot_tls: Dovecot, db_engine: Engine
) -> None:
    """An untrusted certificate stays untrusted: no retry loop, the caller pauses the mailbox."""
    syncer = tls_syncer(dovecot_tls, db_engine, TlsMode.IMPLICIT, ssl_context=None)
    with pytest.raises(ImapTlsError):
        await asyncio.wait_for(syncer.run(asyncio.Event()), 10)
    assert syncer.reconnects == 0


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word (no TLS handshake, no greeting)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield int(listener.getsockname()[1])


@pytest.mark.parametrize("tls", [TlsMode.IMPLICIT, TlsMode.STARTTLS])
async def test_a_silent_server_times_out(db_engine: Engine, silent_port: int, tls: TlsMode) -> None:
    settings = imap_settings(silent_port, "u", "p").model_copy(update={"tls": tls, "timeout": 0.5})
    syncer = syncer_for(settings, db_engine, intake(db_engine))
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(TemporaryMailError):
        await asyncio.wait_for(syncer.sync_once(), 10)
    assert loop.time() - started < 5


@pytest.mark.dovecot
async def test_dovecot_without_tls_is_never_used_in_clear(
    dovecot: Dovecot, db_engine: Engine
) -> None:
    """`tls: starttls` against a server that does not offer it, `tls: implicit` against a plain
    port: clear TLS errors, no fallback (the password is never sent)."""
    dovecot.deliver(message(1), "1.msg")
    for tls, expect in ((TlsMode.STARTTLS, "starttls"), (TlsMode.IMPLICIT, "does not speak tls")):
        settings = imap_settings(dovecot.port, dovecot.user, dovecot.password)
        syncer = syncer_for(settings.model_copy(update={"tls": tls}), db_engine, intake(db_engine))
        with pytest.raises(ImapTlsError) as caught:
            await asyncio.wait_for(syncer.sync_once(), 10)
        assert expect in str(caught.value).lower(), caught.value
    assert stored(db_engine) == []


async def test_a_stalled_starttls_handshake_times_out(db_engine: Engine) -> None:
    """A server that accepts STARTTLS and then says nothing: a time-out, not a hang."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK ready\r\n")
        while line := await reader.readline():
            tag, command = line.split()[:2]
            if command.upper() == b"CAPABILITY":
                writer.write(b"* CAPABILITY IMAP4rev1 STARTTLS\r\n" + tag + b" OK done\r\n")
            elif command.upper() == b"STARTTLS":
                writer.write(tag + b" OK Begin TLS negotiation now\r\n")
                await reader.read()  # the ClientHello, never answered
                return

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = int(server.sockets[0].getsockname()[1])
    settings = imap_settings(port, "u", "p").model_copy(
        update={"tls": TlsMode.STARTTLS, "timeout": 0.5}
    )
    syncer = syncer_for(settings, db_engine, intake(db_engine))
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with pytest.raises(ImapTlsError):
            await asyncio.wait_for(syncer.sync_once(), 20)
    finally:
        server.close()
    assert loop.time() - started < 5
