"""Whether the holder of a claim is alive: worker ids, PostgreSQL advisory locks, local pids.

A dispatcher's claims carry its worker id (`new_worker_id`). When it dies, the others must know,
so that what it held is resolved rather than waited on until its lease runs out:

- On PostgreSQL each dispatcher holds a session advisory lock named after its worker id for as
  long as it claims (`LivenessLock`); the lock goes with its connection when the process dies,
  wherever it ran, so `lock_is_free` tells the others at their next pass.
- On SQLite (one daemon per file) a holder is dead when it was a process on this host that no
  longer runs (`holder_is_dead`); otherwise its lease has to run out.

The lock's SQL is `engine.store.locks`'s.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from engine.store.locks import try_lock, try_xact_lock, unlock

log = logging.getLogger(__name__)


def new_worker_id() -> str:
    """`host:pid:random`: unique per process, and tells a later process on this host whether the
    holder of a claim is still alive."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def _lock_name(worker_id: str) -> str:
    return f"dispatcher:{worker_id}"


class LivenessLock:
    """PostgreSQL: the advisory lock that tells the other dispatchers this worker is alive.

    Taken before the first claim and kept on a connection of its own until `release`.
    """

    def __init__(self, engine: Engine, worker_id: str) -> None:
        self.engine = engine
        self.worker_id = worker_id
        self._connection: Connection | None = None

    def hold(self) -> bool:
        """Hold the lock (take it again if its connection broke). False while another live
        process holds it: two dispatchers with one worker id would pass each other's checks."""
        if self._connection is not None:
            try:
                self._connection.execute(sa.text("SELECT 1"))
                self._connection.commit()
                return True
            except sa.exc.DBAPIError:
                # The connection broke, and the lock went with it: take it again.
                log.warning("worker %s lost its liveness lock; taking it again", self.worker_id)
                self._connection.invalidate()
                self._connection.close()
                self._connection = None
        connection = self.engine.connect()
        held = try_lock(connection, _lock_name(self.worker_id))
        # A session lock outlives the transaction: end it rather than stay idle in one.
        connection.commit()
        if not held:
            connection.close()
            log.error(
                "another live dispatcher uses the worker id %s: this one claims nothing",
                self.worker_id,
            )
            return False
        self._connection = connection
        return True

    def release(self) -> None:
        """Give the lock up; safe to call twice."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            unlock(connection, _lock_name(self.worker_id))
            connection.commit()
        except sa.exc.DBAPIError:
            # The connection is already gone, and the lock with it.
            connection.invalidate()
        connection.close()


def lock_is_free(db: Connection, claimed_by: str | None) -> bool:
    """PostgreSQL: whether no session holds the holder's liveness lock, i.e. it is dead.

    A transaction lock taken to find out is let go at the end of the caller's transaction.
    """
    if not claimed_by:
        return True
    return try_xact_lock(db, _lock_name(claimed_by))


def holder_is_dead(claimed_by: str | None) -> bool:
    """Whether the claim's holder was a process on this host that no longer runs."""
    if not claimed_by:
        return True
    host, _, rest = claimed_by.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
