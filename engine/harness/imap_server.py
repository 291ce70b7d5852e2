"""The harness's IMAP server: pymap's maildir backend, in-process on the running asyncio loop.

`pymap.main` builds a backend from command-line arguments and starts an `IMAPService`; we do the
same steps by hand so the server runs on the caller's loop, binds an ephemeral port when asked
for port 0, and stops in milliseconds, which keeps pytest fixtures fast. The maildir backend
serves the Maildirs under the mail store's `imap/` directory and keeps its users and passwords
files there too, so mail survives a restart and a message written into a Maildir by
`MailStore.deliver` (from this process or another) is picked up on the client's next command.

Everything runs on the asyncio loop (no worker threads): the files are small and the harness is
not a production server. Plain text only, on loopback.
"""

from __future__ import annotations

import asyncio
from argparse import Namespace
from typing import Any

from proxyprotocol.reader import ProxyProtocolReader
from pymap.backend.maildir import Config, Identity, Login, MaildirBackend
from pymap.concurrent import Subsystem
from pymap.frozen import frozendict
from pymap.imap import IMAPServer
from pymap.user import Passwords, UserMetadata
from pysasl.hashing import BuiltinHash

from engine.harness.mailstore import MailStore


class ImapServer:
    """A running pymap IMAP listener over a mail store; `port` is the one actually bound."""

    def __init__(self, store: MailStore, host: str, port: int) -> None:
        self.store = store
        self.host = host
        self.port = port
        self._config = _maildir_config(store, host)
        self._backend = MaildirBackend(Login(self._config), self._config)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def add_user(self, address: str, password: str) -> None:
        """Create or update a login; its INBOX is the Maildir `store.maildir_path(address)`."""
        name = address.lower()
        hashed = await Passwords(self._config).hash_password(password)
        home = self.store.maildir_path(name).relative_to(self.store.imap_dir)
        identity = Identity(self._config, self._backend.login.tokens, name, None, frozenset())
        await identity.set(
            UserMetadata(
                self._config,
                name,
                password=hashed,
                params=frozendict({"mailbox_path": str(home)}),
            )
        )

    async def start(self) -> None:
        # pymap reads its I/O strategy from a context variable; set it before the listener
        # exists so every connection task inherits it.
        self._config.apply_context()
        imap = IMAPServer(self._backend.login, self._config)
        callback = ProxyProtocolReader(self._config.proxy_protocol).get_callback(imap)

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self._writers.add(writer)
            try:
                await callback(reader, writer)
            finally:
                self._writers.discard(writer)

        self._server = await asyncio.start_server(serve, host=self.host, port=self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and close open sessions (clients see the connection drop)."""
        if self._server is None:
            return
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()
        self._server = None
        # Give the sessions' tasks a moment to notice the closed sockets and finish.
        for _ in range(50):
            if not self._writers:
                break
            await asyncio.sleep(0.01)


def _maildir_config(store: MailStore, host: str) -> Config:
    """pymap's maildir `Config`, as `pymap maildir DIR --no-tls` would build it."""
    args = Namespace(
        host=host,
        port=0,
        debug=False,
        cert=None,
        key=None,
        tls=False,
        passlib_cfg=None,
        proxy_protocol=None,
        inherited_sockets=None,
    )
    on_loop = Subsystem.for_asyncio()
    options: dict[str, Any] = {
        "host": host,
        "port": 0,
        "tls_enabled": False,
        "base_dir": str(store.imap_dir),
        "layout": "++",
        "colon": None,
        "subsystem": on_loop,
        "cpu_subsystem": on_loop,
        # pymap pauses before refusing an unknown user; a harness need not slow tests down.
        "invalid_user_sleep": 0.05,
        # Its default PBKDF2 costs ~150 ms a login, which dominated every poll against the
        # harness; its passwords are throwaway ones on loopback, so one round will do.
        "hash_context": BuiltinHash(rounds=1),
        "reject_dnsbl": False,
    }
    return Config(args, **options)
