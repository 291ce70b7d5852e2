"""Classification within a time budget, in a worker process that can be stopped.

`check_limits` bounds what a message may hold, but a few hundred regular expressions run over
what is left, and a thread cannot be stopped once it runs away. So the daemon classifies in one
long-lived child process: a message that takes longer than its budget gets its worker killed (a
fresh one starts for the next message) and comes back as `UnreadableMessage(CLASSIFY_TIMEOUT)`.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from multiprocessing.pool import Pool

from engine.classify import Classification, classify_message
from engine.classify.parse import Unreadable, UnreadableMessage

CLASSIFY_SECONDS = 10.0


class BudgetedClassifier:
    """`classify_message` with a time budget per message; call `close()` when done."""

    def __init__(self, seconds: float = CLASSIFY_SECONDS) -> None:
        self.seconds = seconds
        self._pool: Pool | None = None
        self._lock = threading.Lock()  # one message at a time: the pool has one worker

    def start(self) -> None:
        """Start the worker now rather than on the first message: it takes a moment of CPU to
        import the classifier, better spent when the daemon starts than while it sends."""
        with self._lock:
            self._started()

    def __call__(self, raw: bytes, *, threshold: float) -> Classification:
        with self._lock:
            pool = self._started()
            pending = pool.apply_async(classify_message, (raw,), {"threshold": threshold})
            try:
                return pending.get(self.seconds)
            except multiprocessing.TimeoutError:
                self._stop()
                raise UnreadableMessage(
                    Unreadable.CLASSIFY_TIMEOUT, f"classification took over {self.seconds:g} s"
                ) from None
            except Exception as error:  # the worker died (out of memory, killed)
                self._stop()
                raise UnreadableMessage(
                    Unreadable.CLASSIFY_FAILED, f"{type(error).__name__}: {error}"
                ) from None

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _started(self) -> Pool:
        if self._pool is None:
            # spawn, not fork: the daemon has threads and open connections to leave behind.
            context = multiprocessing.get_context("spawn")
            self._pool = context.Pool(1, initializer=_load_classifier)
        return self._pool

    def _stop(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.terminate()
            pool.join()


def _load_classifier() -> None:
    # Ctrl-C reaches the whole process group: the daemon shuts down and stops its worker; the
    # worker itself must not die of it (the pool would only start another one).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import engine.classify.classifier  # noqa: F401 (compiles the rules once, in the worker)
