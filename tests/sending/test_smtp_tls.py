"""`MailboxSender` over TLS: implicit TLS and STARTTLS against aiosmtpd on loopback.

The certificates come from a throwaway CA made by `trustme`; the client trusts it through
`tls_context` (a user with a private CA names it in the server's `ca_file`). Failures (an
untrusted or misnamed certificate, a server that offers no STARTTLS, a server that never finishes
the handshake) must come out as a `SmtpTlsError` quickly, before any credentials or mail cross
the wire.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session
from sqlalchemy.engine import Engine
from sqlmodel import Session as DbSession
from sqlmodel import select

from engine.clock import FixedClock, utc
from engine.config import Config, MailboxConfig, Secret, ServerSettings, TlsMode
from engine.errors import SpearError, TemporaryMailError
from engine.sending.dispatcher import Dispatcher
from engine.sending.smtp import MailboxSender, SmtpTemporaryError, SmtpTlsError
from engine.store.models import MailboxState, OutboundMessage

from .support import MAILBOX, SENDER, T0, Sink, port_of, seed_outbox, statuses

RAW = (
    b"From: rep@spear.example\r\nTo: jane@prospect.example\r\nSubject: Hi\r\n"
    b"Message-ID: <tls-1@spear.example>\r\n\r\nWho is the right person?\r\n"
)
USER, PASSWORD = "rep", "s3cret-over-tls"

# aiosmtpd counts only STARTTLS sessions as encrypted, so the implicit-TLS sink cannot require
# TLS for AUTH and warns; `TlsSink.auth_encrypted` checks it instead.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@dataclass
class TlsSink(Sink):
    """A sink that also records whether each AUTH and each accepted message came over an
    encrypted connection."""

    encrypted: list[bool] = field(default_factory=list)
    auth_encrypted: list[bool] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.encrypted.append(_encrypted(server))
        return await super().handle_DATA(server, session, envelope)

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        self.auth_encrypted.append(_encrypted(server))
        return super().authenticate(server, session, envelope, mechanism, auth_data)


def _encrypted(server: SMTP) -> bool:
    return server.transport is not None and (
        server.transport.get_extra_info("ssl_object") is not None
    )


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_ssl(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture
def client_ssl(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


async def start_tls_sink(
    sink: Sink,
    *,
    implicit: ssl.SSLContext | None = None,
    starttls: ssl.SSLContext | None = None,
) -> asyncio.Server:
    """Serve `sink` on an ephemeral loopback port, TLS from the first byte (`implicit`) or
    after STARTTLS (`starttls`, which the server then requires). AUTH is always required.

    aiosmtpd only knows STARTTLS sessions as encrypted, so `auth_require_tls` (AUTH refused
    before STARTTLS) is set for STARTTLS only; `TlsSink.auth_encrypted` checks the rest."""
    loop = asyncio.get_running_loop()

    def protocol() -> SMTP:
        return SMTP(
            sink,
            hostname="sink.localhost",
            authenticator=sink.authenticate,
            auth_required=True,
            auth_require_tls=starttls is not None,
            tls_context=starttls,
            require_starttls=starttls is not None,
            loop=loop,
        )

    return await loop.create_server(protocol, host="127.0.0.1", port=0, ssl=implicit)


def settings(port: int, tls: TlsMode, **extra: object) -> ServerSettings:
    return ServerSettings.model_validate(
        {
            "host": "127.0.0.1",
            "port": port,
            "tls": tls,
            "user": USER,
            "password": Secret(PASSWORD),
            "timeout": 2.0,
            **extra,
        }
    )


@pytest.fixture
async def implicit_sink(server_ssl: ssl.SSLContext) -> AsyncIterator[tuple[TlsSink, int]]:
    sink = TlsSink(users={USER: PASSWORD})
    server = await start_tls_sink(sink, implicit=server_ssl)
    yield sink, port_of(server)
    server.close()


@pytest.fixture
async def starttls_sink(server_ssl: ssl.SSLContext) -> AsyncIterator[tuple[TlsSink, int]]:
    sink = TlsSink(users={USER: PASSWORD})
    server = await start_tls_sink(sink, starttls=server_ssl)
    yield sink, port_of(server)
    server.close()


# --- the happy paths ---------------------------------------------------------------------------


async def test_implicit_tls_sends_with_auth(
    implicit_sink: tuple[TlsSink, int], client_ssl: ssl.SSLContext
) -> None:
    sink, port = implicit_sink
    async with MailboxSender(
        "sales", settings(port, TlsMode.IMPLICIT), tls_context=client_ssl
    ) as sender:
        for _ in range(2):
            reply = await sender.send("rep@spear.example", "jane@prospect.example", RAW)
            assert reply.startswith("250")
    assert sink.messages == [RAW, RAW]
    assert sink.encrypted == [True, True]
    assert sink.auth_encrypted == [True]
    assert sink.connections == 1  # one TLS connection, reused


async def test_starttls_sends_with_auth(
    starttls_sink: tuple[TlsSink, int], client_ssl: ssl.SSLContext
) -> None:
    sink, port = starttls_sink
    async with MailboxSender(
        "sales", settings(port, TlsMode.STARTTLS), tls_context=client_ssl
    ) as sender:
        reply = await sender.send("rep@spear.example", "jane@prospect.example", RAW)
    assert reply.startswith("250")
    assert sink.messages == [RAW]
    assert sink.encrypted == [True]
    assert sink.auth_encrypted == [True]


async def test_starttls_reconnects_after_the_server_drops(
    starttls_sink: tuple[TlsSink, int], client_ssl: ssl.SSLContext
) -> None:
    """A dropped TLS connection is reopened (and re-secured) for the next message."""
    sink, port = starttls_sink
    sink.rcpt_answers["gone@prospect.example"] = "drop"
    async with MailboxSender(
        "sales", settings(port, TlsMode.STARTTLS), tls_context=client_ssl
    ) as sender:
        with pytest.raises(SmtpTemporaryError):
            await sender.send("rep@spear.example", "gone@prospect.example", RAW)
        assert (await sender.send("rep@spear.example", "jane@prospect.example", RAW)).startswith(
            "250"
        )
    assert sink.encrypted == [True]


async def test_a_private_ca_is_trusted_through_ca_file(
    implicit_sink: tuple[TlsSink, int], ca: trustme.CA, tmp_path: Path
) -> None:
    """Without a `tls_context`, the server's `ca_file` setting is how a deployment trusts a
    private CA."""
    sink, port = implicit_sink
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    async with MailboxSender("sales", settings(port, TlsMode.IMPLICIT, ca_file=bundle)) as sender:
        assert (await sender.send("rep@spear.example", "jane@prospect.example", RAW)).startswith(
            "250"
        )
    assert sink.messages == [RAW]


# --- failures: clear, quick, and nothing in clear -------------------------------------------------


def _assert_tls_failure(error: BaseException, *, expect: str) -> None:
    assert isinstance(error, SmtpTlsError)
    assert isinstance(error, SpearError) and isinstance(error, TemporaryMailError)
    text = str(error)
    assert "127.0.0.1" in text, text
    assert expect in text.lower(), text
    assert "Traceback" not in text


@pytest.mark.parametrize("tls", [TlsMode.IMPLICIT, TlsMode.STARTTLS])
async def test_an_untrusted_certificate_is_refused_clearly(
    server_ssl: ssl.SSLContext, tls: TlsMode
) -> None:
    sink = TlsSink(users={USER: PASSWORD})
    if tls is TlsMode.IMPLICIT:
        server = await start_tls_sink(sink, implicit=server_ssl)
    else:
        server = await start_tls_sink(sink, starttls=server_ssl)
    # The system trust store does not know the throwaway CA.
    async with MailboxSender("sales", settings(port_of(server), tls)) as sender:
        with pytest.raises(SmtpTlsError) as caught:
            await asyncio.wait_for(
                sender.send("rep@spear.example", "jane@prospect.example", RAW), 10
            )
    server.close()
    _assert_tls_failure(caught.value, expect="certificate")
    assert sink.messages == []


async def test_a_certificate_for_another_name_is_refused(client_ssl: ssl.SSLContext) -> None:
    other = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    other.issue_cert("mail.elsewhere.example").configure_cert(context)
    other.configure_trust(client_ssl)  # trusted CA, wrong name
    sink = TlsSink(users={USER: PASSWORD})
    server = await start_tls_sink(sink, implicit=context)
    async with MailboxSender(
        "sales", settings(port_of(server), TlsMode.IMPLICIT), tls_context=client_ssl
    ) as sender:
        with pytest.raises(SmtpTlsError) as caught:
            await sender.send("rep@spear.example", "jane@prospect.example", RAW)
    server.close()
    _assert_tls_failure(caught.value, expect="certificate")
    assert sink.messages == []


async def test_starttls_is_never_skipped_when_the_server_does_not_offer_it(
    client_ssl: ssl.SSLContext,
) -> None:
    """`tls: starttls` against a plain server: no downgrade, AUTH never sent in clear."""
    sink = TlsSink(users={USER: PASSWORD})
    loop = asyncio.get_running_loop()
    seen: list[str] = []

    class Recording(SMTP):
        async def smtp_AUTH(self, arg: str) -> None:
            seen.append("AUTH")
            await super().smtp_AUTH(arg)

    server = await loop.create_server(
        lambda: Recording(
            sink,
            hostname="plain.localhost",
            authenticator=sink.authenticate,
            auth_require_tls=False,
            loop=loop,
        ),
        host="127.0.0.1",
        port=0,
    )
    async with MailboxSender(
        "sales", settings(port_of(server), TlsMode.STARTTLS), tls_context=client_ssl
    ) as sender:
        with pytest.raises(SmtpTlsError) as caught:
            await sender.send("rep@spear.example", "jane@prospect.example", RAW)
    server.close()
    _assert_tls_failure(caught.value, expect="starttls")
    assert seen == []
    assert sink.messages == []


async def test_implicit_tls_against_a_plain_server_fails_clearly(
    client_ssl: ssl.SSLContext,
) -> None:
    """A port mix-up (465 settings on a plain port) is a TLS error, not a hang."""
    sink = TlsSink(users={USER: PASSWORD})
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(sink, hostname="plain.localhost", loop=loop), host="127.0.0.1", port=0
    )
    async with MailboxSender(
        "sales", settings(port_of(server), TlsMode.IMPLICIT), tls_context=client_ssl
    ) as sender:
        with pytest.raises(SmtpTlsError) as caught:
            await asyncio.wait_for(
                sender.send("rep@spear.example", "jane@prospect.example", RAW), 10
            )
    server.close()
    _assert_tls_failure(caught.value, expect="tls")


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word (no TLS handshake, no greeting)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield int(listener.getsockname()[1])


@pytest.mark.parametrize("tls", [TlsMode.IMPLICIT, TlsMode.STARTTLS])
async def test_a_silent_server_times_out(
    silent_port: int, client_ssl: ssl.SSLContext, tls: TlsMode
) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with MailboxSender(
        "sales", settings(silent_port, tls, timeout=0.5), tls_context=client_ssl
    ) as sender:
        with pytest.raises(SmtpTemporaryError):
            await asyncio.wait_for(
                sender.send("rep@spear.example", "jane@prospect.example", RAW), 10
            )
    assert loop.time() - started < 5


# --- the dispatcher ------------------------------------------------------------------------------


def tls_config(port: int, tls: TlsMode) -> Config:
    return Config.model_validate(
        {
            "mailboxes": [
                MailboxConfig(
                    name=MAILBOX,
                    address=SENDER,
                    display_name="Robin Rep",
                    smtp=settings(port, tls),
                    daily_cap=1000,
                    hourly_cap=1000,
                )
            ]
        }
    )


async def test_an_untrusted_certificate_pauses_the_mailbox_until_a_person_resumes_it(
    db_engine: Engine,
    server_ssl: ssl.SSLContext,
    client_ssl: ssl.SSLContext,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Like a refused password, a certificate Spear cannot trust takes a person: the rows stay
    as they were (no attempt spent, no retry deadline running out), the mailbox is paused with
    one error saying what to do; once the CA is trusted and the mailbox resumed, they go out."""
    sink = TlsSink(users={USER: PASSWORD})
    server = await start_tls_sink(sink, starttls=server_ssl)
    port = port_of(server)
    ids = seed_outbox(db_engine, 2, scheduled_at=T0)
    clock = FixedClock(T0)

    untrusting = Dispatcher(db_engine, tls_config(port, TlsMode.STARTTLS), clock)
    with caplog.at_level(logging.INFO):
        stats = await untrusting.run_once()
        again = await untrusting.run_once()
    await untrusting.close()
    assert stats.sent == 0 and stats.released == 2 and again.claimed == 0
    assert statuses(db_engine) == {ids[0]: "planned", ids[1]: "planned"}
    with DbSession(db_engine) as db:
        first = db.get(OutboundMessage, ids[0])
        mailbox = db.get(MailboxState, MAILBOX)
    assert first is not None and first.attempts == 0 and first.claimed_by is None
    assert mailbox is not None and mailbox.paused
    assert "certificate" in (mailbox.paused_reason or "")
    # Spear's own errors: the sink on the same loop logs the failed handshake from its side.
    errors = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.name.startswith("engine.")
    ]
    assert len(errors) == 1 and f"spear mailbox resume {MAILBOX}" in errors[0], errors
    assert sink.messages == []

    with DbSession(db_engine) as db:
        assert mailbox is not None
        mailbox.paused, mailbox.paused_reason = False, None
        db.add(mailbox)
        db.commit()
    trusting = Dispatcher(
        db_engine, tls_config(port, TlsMode.STARTTLS), clock, tls_context=client_ssl
    )
    stats = await trusting.run_once()
    await trusting.close()
    server.close()
    assert stats.sent == 2
    assert set(statuses(db_engine).values()) == {"sent"}
    with DbSession(db_engine) as db:
        first_sent, second_sent = sorted(
            utc(r.sent_at)  # type: ignore[arg-type]
            for r in db.exec(select(OutboundMessage))
        )
    # Both were held: once resumed, they leave with the mailbox's gap between them.
    assert (second_sent - first_sent).total_seconds() >= 60
    assert sink.encrypted == [True, True]
