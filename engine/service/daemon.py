"""`spear run`: the daemon.

One asyncio loop; APScheduler (3.x, `AsyncIOScheduler`) runs the interval jobs on it (planning,
dispatch, webhooks) beside long-running services (the IMAP pollers waiting in IDLE). The daemon
only knows jobs and services as coroutines; what they do comes from a `Runtime` built from the
configuration (`engine.service.runtime`), so a SIGHUP can build a new one and swap it in, or
refuse it and keep the old. A swap waits for the jobs under way (the SMTP transaction in flight
finishes); a configuration that names another database is refused.

Stopping (SIGTERM/SIGINT): no job starts any more, jobs under way get `shutdown_grace` seconds to
finish (the dispatcher finishes the SMTP transaction it is in and claims nothing new), then what
is left is cancelled and `run()` returns. A job that raises is logged and runs again next time:
one bad pass never stops the daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from engine.errors import SpearError

log = logging.getLogger(__name__)
# A pass that outlasts its interval makes APScheduler skip the next one and warn; with
# max_instances=1 that is the design, not news.
logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)


@dataclass(frozen=True)
class Job:
    name: str
    every: float  # real seconds between two runs
    run: Callable[[], Awaitable[object]]


Service = Callable[[asyncio.Event], Awaitable[None]]


async def _nothing() -> None:
    return None


@dataclass
class Runtime:
    """What one configuration gives the daemon; rebuilt on SIGHUP.

    `jobs` run at their intervals; `services` are long-running coroutines that return once the
    event they are given is set; `once` is the ordered pass of `spear run --once`, which does the
    services' work a single time.
    """

    jobs: list[Job]
    services: list[Service] = field(default_factory=list)
    once: list[Job] = field(default_factory=list)
    close: Callable[[], Awaitable[None]] = _nothing
    # Asked to let go when replaced: jobs under way finish what they are in (the dispatcher its
    # SMTP transaction) and start nothing new.
    retire: Callable[[], None] = lambda: None
    describe: str = ""
    # The database it works on: a reload never moves a running daemon to another one.
    database: str = ""
    # Set when this runtime is replaced or the daemon stops: its services then return.
    retired: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


RuntimeFactory = Callable[[], Awaitable[Runtime]]


class Daemon:
    def __init__(
        self,
        build_runtime: RuntimeFactory,
        *,
        shutdown_grace: float = 30.0,
        stopping: asyncio.Event | None = None,
    ) -> None:
        self._build_runtime = build_runtime
        self.shutdown_grace = shutdown_grace
        # Shared with the jobs: the dispatcher looks at it between two messages.
        self.stopping = stopping or asyncio.Event()
        self._runtime: Runtime | None = None
        self._running: set[asyncio.Task[object]] = set()
        self._scheduler: AsyncIOScheduler | None = None
        self._reloading: asyncio.Task[bool] | None = None

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            raise SpearError("the daemon has not started")
        return self._runtime

    async def run_once(self) -> list[str]:
        """One pass of every job, in order (for cron and tests); returns the jobs that failed."""
        runtime = self._runtime = await self._build_runtime()
        failed: list[str] = []
        try:
            for job in runtime.once or runtime.jobs:
                if not await self._run_job(job):
                    failed.append(job.name)
        finally:
            await runtime.close()
        return failed

    async def run(self) -> None:
        """Run until SIGTERM/SIGINT (or `request_stop()`), then stop within the grace period."""
        loop = asyncio.get_running_loop()
        runtime = self._runtime = await self._build_runtime()
        self._install_signal_handlers(loop)
        self._scheduler = AsyncIOScheduler(event_loop=loop)
        self._scheduler.start()
        self._start(runtime)
        log.info("daemon started: %s", runtime.describe)
        try:
            await self.stopping.wait()
            log.info("stopping: finishing work under way (at most %.0f s)", self.shutdown_grace)
            # Pause first: shutting the scheduler down would cancel the jobs under way.
            self._scheduler.pause()
            self.runtime.retired.set()
            await self._finish([*self._running, *self.runtime.tasks])
        finally:
            self._scheduler.shutdown(wait=False)
            self._remove_signal_handlers(loop)
            await self.runtime.close()
            log.info("daemon stopped")

    def request_stop(self) -> None:
        self.stopping.set()

    def request_reload(self) -> None:
        if self._reloading is None or self._reloading.done():
            self._reloading = asyncio.get_running_loop().create_task(self.reload())

    async def reload(self) -> bool:
        """Build a runtime from the configuration as it is now; keep the old one if it fails."""
        try:
            fresh = await self._build_runtime()
        except SpearError as exc:
            log.error("reload refused, keeping the previous configuration: %s", exc)
            return False
        old = self._runtime
        if old is not None and fresh.database != old.database:
            # The lock, the migrations and the liveness of this daemon belong to its database.
            log.error(
                "reload refused, keeping the previous configuration: `database:` changed; "
                "restart the daemon to use another database"
            )
            await fresh.close()
            return False
        self._runtime = fresh
        if old is not None:
            if self._scheduler is not None:
                self._scheduler.remove_all_jobs()
            old.retire()
            old.retired.set()
            # Jobs under way (all the old runtime's: the new one has not started) finish first:
            # the dispatcher's SMTP transaction is never cut by closing its connection.
            await self._finish([*old.tasks, *self._running])
            await old.close()
        if self._scheduler is not None:
            self._start(fresh)
        log.info("configuration reloaded: %s", fresh.describe)
        return True

    def _start(self, runtime: Runtime) -> None:
        assert self._scheduler is not None
        for job in runtime.jobs:
            self._scheduler.add_job(
                self._run_job,
                "interval",
                args=[job],
                seconds=job.every,
                id=job.name,
                # APScheduler keeps wall-clock time, not Spear's clock: the first run is now.
                next_run_time=datetime.now().astimezone(),
                max_instances=1,  # a slow pass is never overlapped by the next
                coalesce=True,
                misfire_grace_time=None,
            )
        runtime.tasks = [
            asyncio.create_task(self._run_service(service, runtime.retired))
            for service in runtime.services
        ]

    async def _run_job(self, job: Job) -> bool:
        """Run `job` once; False when it failed (logged with its traceback)."""
        if self.stopping.is_set():
            return True
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        started = time.monotonic()
        try:
            await job.run()
            return True
        except asyncio.CancelledError:
            if self.stopping.is_set():
                # Our own shutdown cut it short after the grace period (`_finish` said so): not
                # a failure for APScheduler to report with a traceback.
                log.info("job %s stopped at shutdown", job.name)
                return False
            raise
        except Exception:
            log.exception("job %s failed; it runs again at its next turn", job.name)
            return False
        finally:
            if task is not None:
                self._running.discard(task)
            log.debug(
                "job %s done",
                job.name,
                extra={"job": job.name, "duration_ms": round((time.monotonic() - started) * 1e3)},
            )

    async def _run_service(self, service: Service, retired: asyncio.Event) -> None:
        # A service that fails is restarted after a pause, like a job at its next turn.
        while not retired.is_set():
            try:
                await service(retired)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("service failed; restarting it in 5 s")
                await _wait_or_timeout(retired, 5.0)

    async def _finish(self, tasks: Iterable[asyncio.Task[Any]]) -> None:
        pending = {t for t in tasks if not t.done()}
        if not pending:
            return
        _done, still = await asyncio.wait(pending, timeout=self.shutdown_grace)
        for task in still:
            log.warning("cancelling %s after the grace period", task.get_name())
            task.cancel()
        if still:
            await asyncio.wait(still, timeout=5)

    def _install_signal_handlers(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.add_signal_handler(signal.SIGTERM, self.request_stop)
        loop.add_signal_handler(signal.SIGINT, self.request_stop)
        loop.add_signal_handler(signal.SIGHUP, self.request_reload)

    def _remove_signal_handlers(self, loop: asyncio.AbstractEventLoop) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)


async def _wait_or_timeout(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
