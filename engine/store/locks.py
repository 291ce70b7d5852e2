"""PostgreSQL advisory locks, named by text: the one home of their SQL.

A session lock (`try_lock`) is held until `unlock` or until its connection goes, so it also says
"this process is alive" (the dispatchers' liveness, a mailbox's IMAP lease). `try_xact_lock` is
taken only to find out whether someone else holds a lock; it goes with the transaction.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from sqlalchemy.engine import Connection

_TRY_LOCK = sa.text("SELECT pg_try_advisory_lock(:k)")
_UNLOCK = sa.text("SELECT pg_advisory_unlock(:k)")
_TRY_XACT_LOCK = sa.text("SELECT pg_try_advisory_xact_lock(:k)")


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for PostgreSQL's advisory locks, from a name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def try_lock(connection: Connection, name: str) -> bool:
    """Take the session lock `name` unless another session holds it."""
    return bool(connection.execute(_TRY_LOCK, {"k": advisory_key(name)}).scalar())


def unlock(connection: Connection, name: str) -> None:
    connection.execute(_UNLOCK, {"k": advisory_key(name)})


def try_xact_lock(connection: Connection, name: str) -> bool:
    """Whether no other session holds `name`, by taking it until the transaction ends."""
    return bool(connection.scalar(_TRY_XACT_LOCK, {"k": advisory_key(name)}))


__all__ = ["advisory_key", "try_lock", "try_xact_lock", "unlock"]
