"""The harness's SMTP and IMAP servers, driven by real clients on loopback."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

import aioimaplib
import aiosmtplib
import pytest

from engine.harness import Harness

PROSPECT = "dana.lee@acme.example"


def outreach(subject: str = "Who handles logistics?", to: str = PROSPECT) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Alex Rivera <alex@example-sender.com>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{abs(hash(subject))}@example-sender.com>"
    message.set_content("Hi Dana,\n\nWho is the right person to talk to about logistics?\n\nAlex\n")
    return message


async def send(harness: Harness, message: EmailMessage, **kwargs: object) -> None:
    await aiosmtplib.send(message, hostname=harness.host, port=harness.smtp_port, **kwargs)  # type: ignore[arg-type]


async def imap_login(harness: Harness, user: str) -> aioimaplib.IMAP4:
    client = aioimaplib.IMAP4(host=harness.host, port=harness.imap_port, timeout=5)
    await client.wait_hello_from_server()
    response = await client.login(user, harness.users[user])
    assert response.result == "OK", response
    return client


async def test_sent_mail_is_captured_with_its_envelope(mail_harness: Harness) -> None:
    await send(mail_harness, outreach(), sender="bounces@example-sender.com")

    [captured] = await mail_harness.wait_for_captured(1)

    assert captured.mail_from == "bounces@example-sender.com"
    assert captured.rcpt_tos == (PROSPECT,)
    assert captured.parse()["Subject"] == "Who handles logistics?"
    assert captured.received_at.tzinfo is not None


async def test_mail_to_a_harness_user_reaches_its_inbox_over_imap(
    mail_harness: Harness, harness_user: str
) -> None:
    await send(mail_harness, outreach("Hand-off: Dana at Acme", to=harness_user))
    await mail_harness.wait_for_captured(1)

    client = await imap_login(mail_harness, harness_user)
    selected = await client.select("INBOX")
    assert selected.result == "OK"
    assert any(b"UIDVALIDITY" in line for line in selected.lines)
    search = await client.uid_search("ALL")
    assert search.lines[0] == b"1"
    fetched = await client.uid("fetch", "1", "(BODY.PEEK[])")
    assert fetched.result == "OK"
    assert b"Hand-off: Dana at Acme" in bytes(fetched.lines[1])
    await client.logout()


async def test_idle_announces_a_delivered_message(mail_harness: Harness, harness_user: str) -> None:
    client = await imap_login(mail_harness, harness_user)
    await client.select("INBOX")
    idle = await client.idle_start(timeout=10)

    mail_harness.deliver(harness_user, bytes(outreach("Re: Who handles logistics?")))
    pushed = await asyncio.wait_for(client.wait_server_push(), 5)

    client.idle_done()
    await asyncio.wait_for(idle, 5)
    assert b"1 EXISTS" in pushed
    await client.logout()


async def test_wrong_imap_password_is_refused(mail_harness: Harness, harness_user: str) -> None:
    client = aioimaplib.IMAP4(host=mail_harness.host, port=mail_harness.imap_port, timeout=5)
    await client.wait_hello_from_server()
    response = await client.login(harness_user, "not-the-password")
    assert response.result == "NO"
    await client.logout()


async def test_smtp_auth_checks_harness_credentials(
    mail_harness: Harness, harness_user: str
) -> None:
    password = mail_harness.users[harness_user]
    await send(mail_harness, outreach(), username=harness_user, password=password)
    with pytest.raises(aiosmtplib.SMTPAuthenticationError):
        await send(mail_harness, outreach(), username=harness_user, password="wrong")
    assert len(mail_harness.captured()) == 1


async def test_reset_uidvalidity_gives_the_folder_a_new_one(
    mail_harness: Harness, harness_user: str
) -> None:
    mail_harness.deliver(harness_user, bytes(outreach()))
    before = await _uidvalidity(mail_harness, harness_user)

    mail_harness.reset_uidvalidity(harness_user)
    after = await _uidvalidity(mail_harness, harness_user)

    assert before != after


async def _uidvalidity(harness: Harness, user: str) -> int:
    client = await imap_login(harness, user)
    selected = await client.select("INBOX")
    await client.logout()
    [line] = [line for line in selected.lines if b"UIDVALIDITY" in line]
    return int(line.split(b"UIDVALIDITY ")[1].split(b"]")[0])


async def test_client_dropping_mid_data_leaves_the_server_healthy(mail_harness: Harness) -> None:
    reader, writer = await asyncio.open_connection(mail_harness.host, mail_harness.smtp_port)
    writer.write(
        b"EHLO client.test\r\nMAIL FROM:<alex@example-sender.com>\r\n"
        + f"RCPT TO:<{PROSPECT}>\r\n".encode()
        + b"DATA\r\n"
    )
    while not (await reader.readline()).startswith(b"354"):
        pass  # greeting, EHLO, MAIL and RCPT replies
    writer.write(b"Subject: half a message\r\n\r\nThis message never ends")
    await writer.drain()
    writer.close()
    await writer.wait_closed()

    await send(mail_harness, outreach("Still here"))

    [captured] = await mail_harness.wait_for_captured(1)
    assert captured.parse()["Subject"] == "Still here"


async def test_a_25_mb_message_is_stored_intact(mail_harness: Harness) -> None:
    message = outreach("The big one")
    line = "x" * 76 + "\n"
    message.set_content(line * (25 * 1024 * 1024 // len(line)), cte="7bit")
    raw = message.as_bytes().replace(b"\n", b"\r\n")

    await aiosmtplib.send(
        raw,
        sender="alex@example-sender.com",
        recipients=[PROSPECT],
        hostname=mail_harness.host,
        port=mail_harness.smtp_port,
        timeout=60,
    )

    [captured] = await mail_harness.wait_for_captured(1)
    assert captured.size >= 25 * 1024 * 1024
    assert captured.read_bytes() == raw


def test_printed_settings_are_a_valid_spear_yaml_mailbox(
    mail_harness: Harness, harness_user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ruamel.yaml import YAML

    from engine.config import MailboxConfig

    monkeypatch.setenv("SPEAR_HARNESS_PASSWORD", mail_harness.users[harness_user])
    [entry] = YAML(typ="safe").load(mail_harness.settings_yaml())["mailboxes"]
    mailbox = MailboxConfig.model_validate(entry)

    assert mailbox.smtp.port == mail_harness.smtp_port
    assert mailbox.imap is not None and mailbox.imap.port == mail_harness.imap_port
    assert mailbox.smtp.password is not None
    assert mailbox.smtp.password.value == mail_harness.users[harness_user]


async def test_a_wrong_smtp_password_gets_535_at_once(
    mail_harness: Harness, harness_user: str
) -> None:
    # Without an answer the client would wait for its whole time-out: the bound makes that fail.
    started = asyncio.get_running_loop().time()
    with pytest.raises(aiosmtplib.SMTPAuthenticationError) as refused:
        await send(mail_harness, outreach(), username=harness_user, password="wrong", timeout=10)
    assert refused.value.code == 535
    assert asyncio.get_running_loop().time() - started < 2
