"""Loopback ports for servers a test or a benchmark starts."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback port nothing listens on right now.

    For servers that cannot bind port 0 and report it back (aiosmtpd's `Controller`, a
    subprocess given `--listen`). Another process could take it before the server binds; on a
    test machine that race is rare enough to accept.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
