"""`MailboxSender` against a real aiosmtpd server on loopback, with injected faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from engine.config import Secret, ServerSettings, TlsMode
from engine.errors import MailAuthError, PermanentMailError, TemporaryMailError
from engine.sending.smtp import (
    MailboxSender,
    SmtpPermanentError,
    SmtpTemporaryError,
    SmtpUncertainError,
)

from .support import Sink, port_of, start_sink

RAW = (
    b"From: rep@spear.example\r\nTo: jane@prospect.example\r\nSubject: Hi\r\n"
    b"Message-ID: <1@spear.example>\r\n\r\nWho is the right person?\r\n"
)


def settings(port: int, **extra: object) -> ServerSettings:
    return ServerSettings.model_validate(
        {"host": "127.0.0.1", "port": port, "tls": TlsMode.NONE, "timeout": 2.0, **extra}
    )


@pytest.fixture
async def sink() -> AsyncIterator[tuple[Sink, int]]:
    handler = Sink()
    server = await start_sink(handler)
    yield handler, port_of(server)
    server.close()


async def test_sends_and_reuses_one_connection(sink: tuple[Sink, int]) -> None:
    handler, port = sink
    async with MailboxSender("sales", settings(port)) as sender:
        for _ in range(3):
            reply = await sender.send("rep@spear.example", "jane@prospect.example", RAW)
            assert reply.startswith("250")
    assert len(handler.messages) == 3
    assert handler.connections == 1


async def test_utf8_body_goes_as_8bitmime(sink: tuple[Sink, int]) -> None:
    handler, port = sink
    raw = RAW.replace(b"Who is", "Wer ist für".encode())
    async with MailboxSender("sales", settings(port)) as sender:
        await sender.send("rep@spear.example", "jane@prospect.example", raw)
    assert "für".encode() in handler.messages[0]


@pytest.mark.parametrize("answer", ["421 4.3.2 closing, try later", "450 4.2.1 mailbox busy"])
async def test_4xx_on_recipient_is_temporary(sink: tuple[Sink, int], answer: str) -> None:
    handler, port = sink
    handler.rcpt_answers["jane@prospect.example"] = answer
    async with MailboxSender("sales", settings(port)) as sender:
        with pytest.raises(TemporaryMailError) as caught:
            await sender.send("rep@spear.example", "jane@prospect.example", RAW)
        assert not isinstance(caught.value, SmtpUncertainError)
        assert isinstance(caught.value, SmtpTemporaryError)
        assert caught.value.code == int(answer[:3])
        # The connection is still usable (or reopened) for the next message.
        handler.rcpt_answers.clear()
        assert (await sender.send("rep@spear.example", "x@prospect.example", RAW)).startswith("250")


async def test_550_on_recipient_is_a_hard_bounce(sink: tuple[Sink, int]) -> None:
    handler, port = sink
    handler.rcpt_answers["gone@prospect.example"] = "550 5.1.1 no such user"
    async with MailboxSender("sales", settings(port)) as sender:
        with pytest.raises(PermanentMailError) as caught:
            await sender.send("rep@spear.example", "gone@prospect.example", RAW)
    assert isinstance(caught.value, SmtpPermanentError)
    assert caught.value.recipient_refused
    assert caught.value.code == 550


async def test_5xx_on_data_is_permanent_but_not_a_bounce(sink: tuple[Sink, int]) -> None:
    handler, port = sink
    handler.data_answers.append("554 5.7.1 message refused as spam")
    async with MailboxSender("sales", settings(port)) as sender:
        with pytest.raises(SmtpPermanentError) as caught:
            await sender.send("rep@spear.example", "jane@prospect.example", RAW)
    assert not caught.value.recipient_refused


async def test_connection_dropped_before_data_is_temporary(sink: tuple[Sink, int]) -> None:
    handler, port = sink
    handler.rcpt_answers["jane@prospect.example"] = "drop"
    async with MailboxSender("sales", settings(port)) as sender:
        with pytest.raises(TemporaryMailError) as caught:
            await sender.send("rep@spear.example", "jane@prospect.example", RAW)
    assert not isinstance(caught.value, SmtpUncertainError)
    assert handler.messages == []


async def test_connection_dropped_after_the_body_is_uncertain(sink: tuple[Sink, int]) -> None:
    handler, port = sink
    handler.data_answers.append("drop")
    async with MailboxSender("sales", settings(port)) as sender:
        with pytest.raises(SmtpUncertainError):
            await sender.send("rep@spear.example", "jane@prospect.example", RAW)
        # The next message opens a new connection.
        assert (await sender.send("rep@spear.example", "x@prospect.example", RAW)).startswith("250")
    assert handler.connections == 2


async def test_refused_connection_is_temporary() -> None:
    server = await asyncio.get_running_loop().create_server(asyncio.Protocol, "127.0.0.1", 0)
    port = port_of(server)
    server.close()
    await server.wait_closed()
    async with MailboxSender("sales", settings(port)) as sender:
        with pytest.raises(TemporaryMailError):
            await sender.send("rep@spear.example", "jane@prospect.example", RAW)


async def test_silent_server_times_out() -> None:
    server = await asyncio.get_running_loop().create_server(asyncio.Protocol, "127.0.0.1", 0)
    async with MailboxSender("sales", settings(port_of(server), timeout=0.3)) as sender:
        with pytest.raises(TemporaryMailError):
            await sender.send("rep@spear.example", "jane@prospect.example", RAW)
    server.close()


async def test_auth_success_and_failure() -> None:
    handler = Sink(users={"rep": "right"})
    server = await start_sink(handler, require_auth=True)
    port = port_of(server)
    ok = settings(port, user="rep", password=Secret("right"))
    bad = ok.model_copy(update={"password": Secret("wrong")})
    async with MailboxSender("sales", ok) as sender:
        assert (await sender.send("rep@spear.example", "jane@prospect.example", RAW)).startswith(
            "250"
        )
    async with MailboxSender("sales", bad) as sender:
        with pytest.raises(MailAuthError) as caught:
            await sender.send("rep@spear.example", "jane@prospect.example", RAW)
    assert "wrong" not in str(caught.value)
    assert len(handler.messages) == 1
    server.close()
