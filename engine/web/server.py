"""Serving the web inbox with uvicorn: in the foreground (`spear web`) or beside the daemon."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from engine.config import Web
from engine.web.access import check_exposure
from engine.web.app import Inbox, create_app

log = logging.getLogger(__name__)


def server_for(inbox: Inbox, host: str, port: int) -> uvicorn.Server:
    """A uvicorn server for the inbox; refuses a non-loopback host without a password."""
    settings: Web = inbox.web
    check_exposure(host, inbox.config.web)
    options: dict[str, Any] = {}
    if settings.tls_cert is not None and settings.tls_key is not None:
        options = {"ssl_certfile": str(settings.tls_cert), "ssl_keyfile": str(settings.tls_key)}
    config = uvicorn.Config(
        create_app(inbox),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=settings.behind_tls,
        **options,
    )
    return uvicorn.Server(config)


@contextmanager
def serving_in_background(inbox: Inbox) -> Iterator[uvicorn.Server]:
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
