"""Helpers the daemon tests share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiosmtpd.controller import Controller

from engine.harness.ports import free_port


@contextmanager
def smtp_sink(handler: Any) -> Iterator[int]:
    """An aiosmtpd server with `handler` on a loopback port, in its own thread; yields the port.

    For daemons run as subprocesses or on another event loop than the test's.
    """
    port = free_port()  # aiosmtpd's Controller cannot start on port 0
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
