"""`spear run`: the daemon, or one pass of it with `--once`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click

from engine.cli.context import AppContext, pass_app
from engine.cli.params import INSTANT, INSTANT_FORMS
from engine.clock import Clock, FastClock, FixedClock, SystemClock
from engine.config import Config, config_path, config_secrets
from engine.errors import SpearError
from engine.sending.liveness import new_worker_id
from engine.service.daemon import Daemon
from engine.service.lock import DaemonLock
from engine.service.logs import configure_logging
from engine.service.metrics import Metrics, database_health, start_http
from engine.service.runtime import RuntimeOptions, build_runtime
from engine.store.db import make_engine, upgrade


@click.command()
@click.option(
    "--once", is_flag=True, help="One pass of every job (poll, plan, dispatch), then exit."
)
@click.option(
    "--now",
    type=INSTANT,
    help=f"Start the clock at this instant ({INSTANT_FORMS}). With --once the clock stands "
    "still there; otherwise it runs on from it.",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    help="Simulated seconds per real second, with --now (the demo and tests fast-forward).",
)
@click.option("--worker-id", help="This daemon's name in claims and logs (default: host:pid).")
@click.option(
    "-v", "--verbose", is_flag=True, help="Also the libraries' own log lines, and debug lines."
)
@click.option(
    "--shutdown-grace",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds that work under way may take to finish after SIGTERM/SIGINT.",
)
@pass_app
def run(
    app: AppContext,
    once: bool,
    now: datetime | None,
    speed: float,
    worker_id: str | None,
    verbose: bool,
    shutdown_grace: float,
) -> None:
    """Run the daemon: plan, send, poll replies and act on them, until SIGTERM or SIGINT.

    SIGHUP reloads the configuration and cadences; an invalid one is refused and the old one
    kept. The database schema is migrated on start. On SQLite one daemon runs per database file;
    on PostgreSQL several share the work.
    """
    config = app.config
    if config.web is not None:  # refuse an unsafe web inbox before anything starts
        from engine.web.access import check_exposure

        check_exposure(config.web.host, config.web)
    configure_logging(
        config.log_format,
        level=logging.DEBUG if verbose else logging.INFO,
        secrets=list(config_secrets(config).values()),
        verbose=verbose,
    )
    upgrade(config.database_url)
    clock = _clock(now, speed, once)
    options = RuntimeOptions(clock=clock, worker_id=worker_id or new_worker_id(), speed=speed)
    path = config_path(app.config_file)
    with (
        DaemonLock(config.database_url),
        _metrics_endpoint(config, clock),
        _web_inbox(app, clock),
    ):
        asyncio.run(_serve(path, options, once, shutdown_grace))


def _clock(now: datetime | None, speed: float, once: bool) -> Clock:
    if now is None:
        if speed != 1.0:
            raise click.UsageError("--speed needs --now: the instant simulated time starts from")
        return SystemClock()
    return FixedClock(now) if once else FastClock(now, speed)


async def _serve(path: Path, options: RuntimeOptions, once: bool, shutdown_grace: float) -> None:
    daemon = Daemon(
        lambda: build_runtime(path, options),
        shutdown_grace=shutdown_grace,
        stopping=options.stopping,
    )
    if once:
        failed = await daemon.run_once()
        if failed:
            # cron mails a failing job's output only when the exit code says so.
            raise SpearError(f"failed in this pass: {', '.join(failed)} (see the log above)")
    else:
        await daemon.run()


@contextmanager
def _metrics_endpoint(config: Config, clock: Clock) -> Iterator[None]:
    """`/metrics` and `/healthz` on a background thread, when `metrics.port` is set; and
    `/acknowledge` for leads, when `pipeline.acknowledge_secret` is set too."""
    from engine.service import acknowledgements

    if not config.metrics.port:
        yield
        return
    engine = make_engine(config.database_url)
    metrics = Metrics(engine, config, clock)
    routes = {}
    secret = config.pipeline.acknowledge_secret
    if secret is not None:
        routes[acknowledgements.PATH] = acknowledgements.acknowledgement_app(
            engine, clock, secret.value
        )
    server = start_http(
        config.metrics.host, config.metrics.port, metrics.registry, database_health(engine), routes
    )
    try:
        yield
    finally:
        server.close()
        engine.dispose()


@contextmanager
def _web_inbox(app: AppContext, clock: Clock) -> Iterator[None]:
    """The web inbox on a background thread, when `web:` is configured."""
    if app.config.web is None:
        yield
        return
    from engine.cli.review import _default_reviewer
    from engine.cli.web import build_inbox
    from engine.web.server import serving_in_background

    inbox = build_inbox(app, _default_reviewer())
    inbox.clock = clock
    with serving_in_background(inbox):
        yield
