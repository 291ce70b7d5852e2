"""SMTP for one sender mailbox: aiosmtplib with one reused connection, TLS, AUTH and time-outs.

This is the edge: it knows sockets and reply codes and nothing about the outbox. Every failure
comes out as one of three Spear errors, so the dispatcher chooses a path by type alone:

- `SmtpTemporaryError` (a `TemporaryMailError`): 4xx answers, refused or dropped connections,
  time-outs. Worth retrying later.
- `SmtpPermanentError` (a `PermanentMailError`): 5xx answers. `recipient_refused` says whether the
  server refused the recipient itself (a hard bounce) rather than the sender or the content.
- `SmtpTlsError`: TLS could not be set up (an untrusted or misnamed certificate, no STARTTLS
  offered, a failed handshake). Nothing, not even the password, was sent. Like a refused
  password, it takes a person (the settings or the server's certificate): the dispatcher pauses
  the mailbox rather than retry.
- `SmtpAddressError` (a `PermanentMailError`): this message cannot go to this recipient here: a
  local part that is not ASCII when the server does not offer SMTPUTF8, a domain without an
  IDNA form, or any unexpected error before the body was sent. Domains that are not ASCII go as
  IDNA A-labels (punycode); a local part that is not ASCII goes with SMTPUTF8.
- `SmtpAuthError` (a `MailAuthError`): the server refused our credentials.
- `SmtpUncertainError` (a temporary error): the connection broke while the server was answering
  the message body. It may have been delivered, so it must not be retried blindly.

After any failure the connection is dropped and the next send opens a fresh one, so a
half-finished transaction never leaks into the next message.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable
from types import TracebackType

import aiosmtplib

from engine.config import ServerSettings, TlsMode
from engine.errors import MailAuthError, PermanentMailError, TemporaryMailError
from engine.prospects.addresses import AddressError, wire_address
from engine.tls import client_context, handshake_failure

log = logging.getLogger(__name__)


class SmtpTemporaryError(TemporaryMailError):
    def __init__(self, reply: str, code: int | None = None) -> None:
        self.code = code
        self.reply = reply
        super().__init__(reply)


class SmtpUncertainError(SmtpTemporaryError):
    """The connection broke after the message body was sent: it may have been delivered."""


class SmtpTlsError(SmtpTemporaryError):
    """TLS could not be set up: untrusted or misnamed certificate, no STARTTLS, a handshake
    failure. Nothing (credentials included) was sent."""


class SmtpPermanentError(PermanentMailError):
    def __init__(self, reply: str, code: int, *, recipient_refused: bool) -> None:
        self.code = code
        self.reply = reply
        self.recipient_refused = recipient_refused
        super().__init__(reply)


class SmtpAddressError(PermanentMailError):
    """This message cannot go to this recipient through this server (a non-ASCII local part and
    no SMTPUTF8, a domain with no IDNA form, an unexpected error before the body): nothing was
    sent, and retrying would not help."""

    recipient_refused = False


class SmtpAuthError(MailAuthError):
    def __init__(self, reply: str, code: int | None = None) -> None:
        self.code = code
        self.reply = reply
        super().__init__(reply)


class MailboxSender:
    """Sends a mailbox's messages over one reused SMTP connection, opened on first use."""

    def __init__(
        self,
        name: str,
        settings: ServerSettings,
        *,
        tls_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self._tls_context = tls_context or client_context(settings)
        self._local_hostname = local_hostname
        self._client: aiosmtplib.SMTP | None = None
        # What the open connection's EHLO offered (SIZE, 8BITMIME), looked up once per connection.
        self._size = False
        self._eight_bit = False
        self._smtputf8 = False

    async def __aenter__(self) -> MailboxSender:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def send(self, mail_from: str, recipient: str, raw: bytes) -> str:
        """Send `raw` to `recipient`; the server's acceptance line (`250 ...`) on success.

        The transaction runs step by step so a failure is known to come before or after the
        message body was handed over: a connection lost while waiting for the answer to DATA
        may still have delivered it, and is reported as `SmtpUncertainError`.
        """
        client = await self._envelope(mail_from, recipient, raw)
        return await self._data(client, raw)

    async def send_when_cleared(
        self, mail_from: str, recipient: str, draft: bytes, cleared: Awaitable[bytes | None]
    ) -> str | None:
        """Like `send`, with the envelope (MAIL, RCPT) going out while `cleared` runs.

        `cleared` is the caller's last word (its checks and its commit) and gives the bytes to
        send (`draft` as sent: the same size and encoding) or None. The body, the only step
        that can deliver anything, goes once it has given the bytes; on None the envelope is
        reset and nothing is sent (returns None). Whatever happens, `cleared` has finished when
        this returns or raises, so the caller records the outcome after its own commit.
        """
        pending = asyncio.ensure_future(cleared)
        try:
            client = await self._envelope(mail_from, recipient, draft)
        except Exception:
            if await pending is None:
                return None  # not to be sent anyway: nothing happened to record
            raise
        try:
            raw = await pending
        except BaseException:
            await self._drop()  # a half-open transaction must not carry into the next message
            raise
        if raw is None:
            await self._reset()
            return None
        return await self._data(client, raw)

    async def _envelope(self, mail_from: str, recipient: str, raw: bytes) -> aiosmtplib.SMTP:
        """MAIL and RCPT on the open (or a new) connection, which is returned."""
        client = self._client
        try:
            to = wire_address(recipient)
            if client is None or not client.is_connected:
                client = await self._connected()
            # The connection's extensions were looked up once, when it was opened.
            options = [f"SIZE={len(raw)}"] if self._size else []
            if self._eight_bit and not raw.isascii():
                options.append("BODY=8BITMIME")
            encoding = "ascii"
            if to.utf8:
                if not self._smtputf8:
                    raise SmtpAddressError(
                        f"{self._where()} does not offer SMTPUTF8, which the address "
                        f"{recipient} needs (its local part is not ASCII)"
                    )
                options.append("SMTPUTF8")
                encoding = "utf-8"
            await client.mail(mail_from, options=options, encoding=encoding)
            await client.rcpt(to.address, encoding=encoding)
        except AddressError as exc:
            raise SmtpAddressError(f"cannot send to {recipient}: {exc}") from None
        except SmtpAddressError:
            await self._reset()
            raise
        except aiosmtplib.SMTPAuthenticationError as exc:
            await self._drop()
            raise SmtpAuthError(f"{exc.code} {exc.message}", exc.code) from None
        except aiosmtplib.SMTPRecipientRefused as exc:
            await self._reset()
            raise _from_response(exc.code, exc.message, recipient=True) from None
        except aiosmtplib.SMTPResponseException as exc:
            await self._drop()
            raise _from_response(exc.code, exc.message, recipient=False) from None
        except SmtpTlsError:
            await self._drop()
            raise
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            # Refused or dropped connections, time-outs: nothing was delivered.
            await self._drop()
            raise SmtpTemporaryError(f"{type(exc).__name__}: {exc}") from None
        except Exception as exc:
            # Anything else before the body (an encoding error, a bug): nothing was delivered,
            # and this message fails with the reason rather than stall the ones after it.
            await self._drop()
            raise SmtpAddressError(
                f"cannot send to {recipient}: {type(exc).__name__}: {exc}"
            ) from None
        return client

    async def _data(self, client: aiosmtplib.SMTP, raw: bytes) -> str:
        """The body: once the server has it, the message may have been delivered."""
        try:
            response = await client.data(raw)
        except aiosmtplib.SMTPResponseException as exc:
            await self._drop()
            raise _from_response(exc.code, exc.message, recipient=False) from None
        except Exception as exc:
            await self._drop()
            raise SmtpUncertainError(f"{type(exc).__name__} during DATA: {exc}") from None
        return f"{response.code} {response.message}"

    async def _reset(self) -> None:
        """Clear a refused envelope so the connection can carry the next message."""
        client = self._client
        if client is None:
            return
        try:
            await client.rset()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            await self._drop()

    async def close(self) -> None:
        """Say QUIT politely if connected; safe to call twice."""
        client, self._client = self._client, None
        if client is None or not client.is_connected:
            return
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            client.close()

    async def _connected(self) -> aiosmtplib.SMTP:
        """The open connection, or a new one: TLS set up and authenticated.

        STARTTLS and AUTH are driven here rather than left to `connect()`, so a failure while
        securing the connection is known to be one (`SmtpTlsError`) and the password only goes
        out once the connection is encrypted.
        """
        if self._client is not None and self._client.is_connected:
            return self._client
        settings = self.settings
        implicit = settings.tls is TlsMode.IMPLICIT
        client = aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.port,
            use_tls=implicit,
            start_tls=False,  # never opportunistic: STARTTLS below when configured, else none
            tls_context=self._tls_context,
            timeout=settings.timeout,
            local_hostname=self._local_hostname,
        )
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            cause = _ssl_cause(exc)
            if implicit and cause is not None:
                raise self._tls_error(cause) from None
            raise
        try:
            if settings.tls is TlsMode.STARTTLS:
                await self._starttls(client)
            if settings.user:
                password = settings.password.value if settings.password is not None else ""
                await client.login(settings.user, password)
            if client.is_ehlo_or_helo_needed:
                await client.ehlo()
        except BaseException:
            client.close()
            raise
        log.info(
            "smtp connected mailbox=%s host=%s port=%d tls=%s",
            self.name,
            settings.host,
            settings.port,
            settings.tls,
        )
        self._client = client
        self._size = client.supports_extension("size")
        self._eight_bit = client.supports_extension("8bitmime")
        self._smtputf8 = client.supports_extension("smtputf8")
        return client

    async def _starttls(self, client: aiosmtplib.SMTP) -> None:
        """Upgrade to TLS, or fail: a server that does not offer STARTTLS is never used in clear."""
        try:
            await client.starttls()
        except aiosmtplib.SMTPResponseException as exc:
            # 454 "TLS not available due to temporary reason" is worth another try; a 5xx is not.
            error = SmtpTemporaryError if 400 <= exc.code < 500 else SmtpTlsError
            raise error(
                f"{self._where()}: STARTTLS refused: {exc.code} {exc.message}", exc.code
            ) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            cause = _ssl_cause(exc)
            if cause is not None:
                raise self._tls_error(cause) from None
            if isinstance(exc, aiosmtplib.SMTPException) and "not supported" in str(exc):
                raise SmtpTlsError(
                    f"{self._where()}: the server does not offer STARTTLS "
                    "(tls: starttls never falls back to plain text; is this the implicit-TLS "
                    "port, tls: implicit?)"
                ) from None
            raise SmtpTlsError(
                f"{self._where()}: STARTTLS failed: {type(exc).__name__}: {exc}"
            ) from None

    def _where(self) -> str:
        return f"SMTP {self.settings.host}:{self.settings.port}"

    def _tls_error(self, cause: ssl.SSLError) -> SmtpTlsError:
        return SmtpTlsError(handshake_failure(self._where(), self.settings.tls, cause))

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()


def _ssl_cause(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error behind `exc` (aiosmtplib wraps it in SMTPConnectError), if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _from_response(code: int, message: str, *, recipient: bool) -> Exception:
    reply = f"{code} {message}"
    if code in (530, 534, 535, 538):
        return SmtpAuthError(reply, code)
    if 500 <= code < 600:
        return SmtpPermanentError(reply, code, recipient_refused=recipient)
    return SmtpTemporaryError(reply, code)
