"""Serving the web inbox with uvicorn: in the foreground (`spear web`) or beside the daemon."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from engine.config import Web
from engine.errors import SpearError
from engine.web.access import check_exposure
from engine.web.app import Inbox, create_app

log = logging.getLogger(__name__)


class ListenError(SpearError):
    """The address to serve on cannot be had (in use, not this machine's)."""


class InboxServer(uvicorn.Server):
    """uvicorn on a socket bound before it starts, so a port in use is a one-line error."""

    def __init__(self, config: uvicorn.Config, listener: socket.socket) -> None:
        super().__init__(config)
        self.listener = listener

    def run(self, sockets: list[socket.socket] | None = None) -> None:
        super().run(sockets=sockets or [self.listener])


def server_for(inbox: Inbox, host: str, port: int) -> InboxServer:
    """A server for the inbox on `host:port`, bound now; refuses a non-loopback host without a
    password, and an address that cannot be had."""
    settings: Web = inbox.web
    check_exposure(host, inbox.config.web)
    try:
        listener = socket.create_server(
            (host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET
        )
    except OSError as error:
        raise ListenError(
            f"cannot serve the web inbox on {host}:{port}: {error.strerror}"
        ) from None
    options: dict[str, Any] = {}
    if settings.tls_cert is not None and settings.tls_key is not None:
        options = {"ssl_certfile": str(settings.tls_cert), "ssl_keyfile": str(settings.tls_key)}
    config = uvicorn.Config(
        create_app(inbox),
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=settings.behind_tls,
        **options,
    )
    return InboxServer(config, listener)


@contextmanager
def serving_in_background(inbox: Inbox) -> Iterator[InboxServer]:
    """The inbox on a thread of its own while the daemon runs; stopped on the way out."""
    server = server_for(inbox, inbox.web.host, inbox.web.port)
    thread = threading.Thread(target=server.run, name="spear-web", daemon=True)
    thread.start()
    log.info("web inbox listening", extra={"url": f"http://{inbox.web.listen}"})
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(timeout=10)
