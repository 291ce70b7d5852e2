"""The harness's SMTP server: aiosmtpd on the running asyncio loop, accepting everything.

Protocol and policy stay apart, as aiosmtpd intends: `aiosmtpd.smtp.SMTP` speaks SMTP, and
`CaptureHandler.handle_DATA` decides what an accepted message does: it is captured in the mail
store, and copied into the INBOX of every recipient who is a harness user (an account executive
hand-off, a message to the sender's own address). A client that drops the connection mid-DATA
never reaches `handle_DATA`, so nothing half-received is stored.

AUTH (PLAIN and LOGIN, without TLS: this is loopback only) is offered and checked against the
harness users, so a client configured with credentials can log in, and a wrong password is
refused as a real server would; sending without AUTH is accepted too.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from engine.harness.mailstore import CapturedMessage, MailStore

log = logging.getLogger(__name__)

# Big enough for the 25 MB message the harness must survive, with room for encoding overhead.
DATA_SIZE_LIMIT = 64 * 1024 * 1024
HOSTNAME = "harness.localhost"


class CaptureHandler:
    """aiosmtpd handler: capture each message, deliver copies to harness users' INBOXes."""

    def __init__(
        self,
        store: MailStore,
        users: Mapping[str, str],
        on_capture: Callable[[CapturedMessage], None] | None = None,
    ) -> None:
        self.store = store
        self.users = users  # address (lower case) -> password; shared with the harness, live
        self.on_capture = on_capture

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        mail_from = envelope.mail_from or ""
        rcpt_tos = list(envelope.rcpt_tos)
        captured = self.store.capture(mail_from, rcpt_tos, data)
        for rcpt in rcpt_tos:
            if rcpt.lower() in self.users:
                self.store.deliver(rcpt.lower(), data)
        log.info(
            "captured message %d from %s to %s (%d bytes)",
            captured.id,
            mail_from,
            ", ".join(rcpt_tos),
            captured.size,
        )
        if self.on_capture is not None:
            self.on_capture(captured)
        return f"250 OK queued as {captured.id}"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace").lower()
        password = auth_data.password.decode("utf-8", "replace")
        if self.users.get(login) != password:
            # handled=False makes aiosmtpd answer "535 credentials invalid" itself.
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=auth_data)


class SmtpServer:
    """A running SMTP listener; `port` is the one actually bound (useful when asked for 0)."""

    def __init__(
        self, server: asyncio.Server, sessions: weakref.WeakSet[SMTP], host: str, port: int
    ) -> None:
        self._server = server
        self._sessions = sessions
        self.host = host
        self.port = port

    async def stop(self) -> None:
        """Stop listening and drop the connections still open, so nothing outlives the loop."""
        self._server.close()
        for session in list(self._sessions):
            if session.transport is not None:
                session.transport.close()
        await self._server.wait_closed()
        # Let the closed sessions' handler tasks see the disconnect and finish.
        await asyncio.sleep(0)


async def start_smtp_server(handler: CaptureHandler, host: str, port: int) -> SmtpServer:
    """Listen on `host:port` (port 0 picks a free one) on the running loop."""
    loop = asyncio.get_running_loop()
    sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()

    def protocol() -> SMTP:
        session = SMTP(
            handler,
            hostname=HOSTNAME,
            data_size_limit=DATA_SIZE_LIMIT,
            enable_SMTPUTF8=True,
            auth_require_tls=False,
            authenticator=handler.authenticate,
            # A client that stalls is dropped after a minute instead of the default five.
            timeout=60,
            loop=loop,
        )
        sessions.add(session)
        return session

    server = await loop.create_server(protocol, host=host, port=port)
    bound_port = server.sockets[0].getsockname()[1]
    return SmtpServer(server, sessions, host, bound_port)
