"""One daemon per SQLite file.

SQLite has no way for two daemons to share the outbox safely across machines, and two on one
machine would only fight over the write lock; so the daemon takes an exclusive `flock` on a file
beside the database. The kernel drops the lock when the process dies, so a crash never leaves a
stale lock behind. PostgreSQL needs no such lock: several daemons share the work there.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

import sqlalchemy as sa

from engine.errors import DaemonLockedError
from engine.store.db import is_sqlite, normalise_url


def lock_path_for(database_url: str) -> Path | None:
    """The lock file for a SQLite database file; None for other databases and `:memory:`."""
    url = normalise_url(database_url)
    if not is_sqlite(url):
        return None
    database = sa.engine.make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(database + ".lock")


class DaemonLock:
    """`with DaemonLock(url):` holds the database for this process, or raises DaemonLockedError."""

    def __init__(self, database_url: str) -> None:
        self.path = lock_path_for(database_url)
        self._fd: int | None = None

    def acquire(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise DaemonLockedError(
                f"another daemon ({holder}) is already running on {self.path.with_suffix('')}"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DaemonLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
