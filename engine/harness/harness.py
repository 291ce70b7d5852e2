"""`Harness`: a local SMTP server and IMAP server over one mail store, started and stopped together.

    async with Harness(tmp_path / "mail", users={"alex@example-sender.com": "pw"}) as harness:
        # send to 127.0.0.1:harness.smtp_port, read harness.imap_port as alex
        [message] = await harness.wait_for_captured(1)

Ports default to 0 (the OS picks free ones; read them back from `smtp_port` / `imap_port`).
Everything runs on the caller's asyncio loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from engine.clock import Clock, SystemClock
from engine.errors import SpearError
from engine.harness.imap_server import ImapServer
from engine.harness.mailstore import CapturedMessage, MailStore
from engine.harness.smtp_server import CaptureHandler, SmtpServer, start_smtp_server

DEFAULT_HOST = "127.0.0.1"
DEFAULT_USER = "alex@example-sender.com"
PASSWORD_ENV = "SPEAR_HARNESS_PASSWORD"


class HarnessError(SpearError):
    """The harness could not start (a port in use, an unusable store) or was misused."""


class HarnessTimeout(HarnessError, TimeoutError):
    """Mail the caller waited for did not arrive in time."""


def new_password() -> str:
    return secrets.token_urlsafe(12)


class Harness:
    """Both local mail servers over one `MailStore`; an async context manager.

    `users` maps each harness user's address to its password (for IMAP login and SMTP AUTH);
    without it there is one user, `alex@example-sender.com`, with a generated password.
    """

    def __init__(
        self,
        store: Path | str,
        users: Mapping[str, str] | None = None,
        *,
        host: str = DEFAULT_HOST,
        smtp_port: int = 0,
        imap_port: int = 0,
        clock: Clock | None = None,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.store = MailStore(store, self.clock)
        self.host = host
        self.smtp_port = smtp_port
        self.imap_port = imap_port
        initial = users if users is not None else {DEFAULT_USER: new_password()}
        self.users: dict[str, str] = {address.lower(): pw for address, pw in initial.items()}
        self._listeners: list[Callable[[CapturedMessage], None]] = []
        self._captured_changed = asyncio.Event()
        self._smtp: SmtpServer | None = None
        self._imap: ImapServer | None = None

    @property
    def store_path(self) -> Path:
        return self.store.root

    @property
    def running(self) -> bool:
        return self._smtp is not None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self.running:
            return
        imap = ImapServer(self.store, self.host, self.imap_port)
        for address, password in self.users.items():
            await imap.add_user(address, password)
        handler = CaptureHandler(self.store, self.users, on_capture=self._notify)
        try:
            await imap.start()
            self._imap = imap
            self._smtp = await start_smtp_server(handler, self.host, self.smtp_port)
        except OSError as exc:
            await self.stop()
            raise HarnessError(f"cannot listen on {self.host}: {exc.strerror or exc}") from exc
        self.imap_port = imap.port
        self.smtp_port = self._smtp.port

    async def stop(self) -> None:
        """Stop both servers; safe to call twice."""
        smtp, imap = self._smtp, self._imap
        self._smtp = self._imap = None
        if smtp is not None:
            await smtp.stop()
        if imap is not None:
            await imap.stop()

    async def __aenter__(self) -> Harness:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- users and mail ----------------------------------------------------------------------

    async def add_user(self, address: str, password: str | None = None) -> str:
        """Register another harness user (e.g. an account executive); returns its password."""
        password = password or new_password()
        self.users[address.lower()] = password
        if self._imap is not None:
            await self._imap.add_user(address, password)
        return password

    def captured(self) -> list[CapturedMessage]:
        """Every message accepted over SMTP so far, oldest first."""
        return self.store.captured()

    def deliver(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        """Put a message straight into a user's folder, as if it had arrived from outside."""
        if user.lower() not in self.users:
            raise HarnessError(f"{user} is not a harness user")
        self.store.deliver(user.lower(), raw, folder)

    def reset_uidvalidity(self, user: str, folder: str = "INBOX") -> None:
        """Make `user`'s folder report a new UIDVALIDITY (and renumber its messages)."""
        self.store.reset_uidvalidity(user.lower(), folder)

    async def wait_for_captured(self, count: int, timeout: float = 5.0) -> list[CapturedMessage]:
        """Wait (real seconds) until at least `count` messages are captured; return them all."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            captured = self.captured()
            if len(captured) >= count:
                return captured
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise HarnessTimeout(
                    f"waited {timeout:g}s for {count} captured messages, got {len(captured)}"
                )
            self._captured_changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._captured_changed.wait(), remaining)

    def on_capture(self, listener: Callable[[CapturedMessage], None]) -> None:
        """Call `listener` with every message captured from now on (the responder uses this)."""
        self._listeners.append(listener)

    def _notify(self, captured: CapturedMessage) -> None:
        self._captured_changed.set()
        for listener in self._listeners:
            listener(captured)

    # -- settings for spear.yaml -------------------------------------------------------------

    def mailbox_settings(self, address: str | None = None) -> dict[str, Any]:
        """One `mailboxes:` entry of spear.yaml pointing at this harness, password by env var."""
        address = (address or next(iter(self.users))).lower()

        def server(port: int) -> dict[str, Any]:
            password = "${" + PASSWORD_ENV + "}"
            return {
                "host": self.host,
                "port": port,
                "tls": "none",
                "user": address,
                "password": password,
            }

        return {
            "name": address.split("@", 1)[0],
            "address": address,
            "smtp": server(self.smtp_port),
            "imap": {**server(self.imap_port), "folders": ["INBOX"]},
        }

    def settings_yaml(self) -> str:
        """The `mailboxes:` snippet for spear.yaml, one entry per harness user."""
        lines = ["mailboxes:"]
        for address in self.users:
            entry = self.mailbox_settings(address)
            lines += [f"  - name: {entry['name']}", f"    address: {address}"]
            for kind in ("smtp", "imap"):
                lines.append(f"    {kind}:")
                lines += [
                    f"      {key}: {_yaml_scalar(value)}" for key, value in entry[kind].items()
                ]
        return "\n".join(lines) + "\n"


def _yaml_scalar(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)
