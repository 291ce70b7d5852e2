"""The demo: the daemon on SQLite against the local mail harness, in fast time.

A newcomer runs `scripts/demo.sh` and watches three weeks of the play pass in about a minute:
emails go out only inside the recipients' morning and evening windows, simulated prospects
answer (about 9%), replies are classified, referrals enrolled, bounced addresses pruned and what
Spear is unsure about waits in the review queue. Ctrl-C (or SIGTERM) stops it early and cleanly;
the summary is printed either way, and the folder stays for `spear queue`, `spear review` and
`spear report`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from engine.clock import FastClock, SystemClock
from engine.demo.checks import Check, run_checks
from engine.demo.executives import work_the_leads
from engine.demo.world import World, open_world
from engine.service import pipeline
from engine.service.daemon import Daemon
from engine.service.logs import configure_logging
from engine.service.report import load_report, period_bounds, render_table
from engine.service.runtime import RuntimeOptions, build_runtime
from engine.store.db import make_engine

# Real seconds between two passes of each job, whatever the speed: at 6 simulated hours a
# second, dispatch looks for due mail every 18 simulated minutes.
PLAN_EVERY, DISPATCH_EVERY, POLL_EVERY, HOUSEKEEPING_EVERY = 0.1, 0.05, 0.5, 1.0


async def run_demo(
    workdir: Path,
    *,
    days: float,
    hours_per_second: float,
    prospects: int,
    seed: int,
    echo: Callable[[str], None],
    verbose: bool = False,
) -> list[Check]:
    # Progress lines, not every send, on the screen (--verbose: the daemon's log as well).
    configure_logging(level=logging.INFO if verbose else logging.WARNING, verbose=verbose)
    speed = hours_per_second * 3600
    start = SystemClock().now().replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(days=days)
    clock = FastClock(start, speed)
    world = await open_world(
        workdir, clock, prospects=prospects, seed=seed, poll_interval_seconds=POLL_EVERY * speed
    )
    echo(
        f"Demo in {workdir}: {prospects} fictional prospects, 2 rep mailboxes, local mail harness "
        f"(SMTP {world.harness.smtp_port}, IMAP {world.harness.imap_port}).\n"
        f"Simulating {days:g} days from {start:%a %d %b %H:%M} UTC at {hours_per_second:g} "
        "simulated hours per second. Ctrl-C stops early.\n"
    )
    options = RuntimeOptions(
        clock=clock,
        worker_id="demo",
        speed=speed,
        plan_every=PLAN_EVERY * speed,
        dispatch_every=DISPATCH_EVERY * speed,
        housekeeping_every=HOUSEKEEPING_EVERY * speed,
    )
    daemon = Daemon(
        lambda: build_runtime(world.config_path, options),
        shutdown_grace=5,
        stopping=options.stopping,
    )
    engine = make_engine(world.config().database_url)
    background = [
        asyncio.create_task(world.responder.run()),
        asyncio.create_task(_watch(engine, clock, start, end, daemon, echo)),
    ]
    try:
        await daemon.run()
    finally:
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await world.harness.stop()
    echo("")
    work_the_leads(engine, clock.now(), seed)
    _summarise(engine, world, start, echo)
    checks = run_checks(engine, world.config())
    engine.dispose()
    for check in checks:
        mark = "ok  " if check.ok else "FAIL"
        echo(f"  [{mark}] {check.name} ({check.checked} checked)")
        for failure in check.failures[:5]:
            echo(f"         {failure}")
    spear = spear_command()
    echo(
        f"\nExplore it: {spear} --config {world.config_path} queue | review | report | status\n"
        f"            {spear} harness messages --store {world.harness.store_path}"
    )
    if spear != "spear":
        echo(f"(`spear` is not on your PATH: use {spear}, or first `source {activate_script()}`.)")
    return checks


def spear_command() -> str:
    """How to run `spear` from here: its name when it is on PATH, else its path."""
    installed = Path(sys.argv[0]).resolve().parent / "spear"
    if not installed.exists():
        installed = Path(sys.executable).parent / "spear"
    on_path = shutil.which("spear")
    if on_path is not None and Path(on_path).resolve() == installed.resolve():
        return "spear"
    return _relative(installed)


def activate_script() -> str:
    return _relative(Path(sys.executable).parent / "activate")


def _relative(path: Path) -> str:
    try:
        return str(path.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path.absolute())


async def _watch(
    engine: Engine,
    clock: FastClock,
    start: datetime,
    end: datetime,
    daemon: Daemon,
    echo: Callable[[str], None],
) -> None:
    """A progress line every simulated six hours; stop the daemon at the end."""
    next_line = start
    while clock.now() < end:
        if clock.now() >= next_line:
            echo(_progress(engine, clock.now(), start))
            next_line += timedelta(hours=6)
        await asyncio.sleep(0.1)
    echo(_progress(engine, clock.now(), start))
    daemon.request_stop()


def _progress(engine: Engine, now: datetime, start: datetime) -> str:
    with engine.connect() as db:
        sent = _count(db, "SELECT count(*) FROM outbound_message WHERE status = 'sent'")
        labels: dict[str, int] = dict(
            db.execute(
                sa.text(
                    "SELECT label, count(*) FROM inbound_message WHERE label IS NOT NULL "
                    "GROUP BY label ORDER BY count(*) DESC"
                )
            ).all()
        )
        pruned = _count(db, "SELECT count(*) FROM prospect WHERE email_status = 'invalid'")
        queue = _count(db, "SELECT count(*) FROM inbound_message WHERE status = 'review'")
    replies = ", ".join(f"{label} {n}" for label, n in labels.items()) or "none yet"
    day = (now - start).days + 1
    return (
        f"day {day:2d} {now:%a %H:%M}Z  sent {sent:4d}  replies: {replies}  "
        f"pruned {pruned}  review queue {queue}"
    )


def _count(db: sa.Connection, sql: str) -> int:
    return int(db.execute(sa.text(sql)).scalar_one())


def _summarise(engine: Engine, world: World, start: datetime, echo: Callable[[str], None]) -> None:
    config = world.config()
    now = world.clock.now()  # simulated time, days ahead of the wall clock
    with Session(engine) as session:
        report = load_report(
            session,
            since=start.date(),
            until=now.date(),  # the days the run simulated, not a fixed month
            by=("cadence", "step"),
            deal_size=config.deal_size,
        )
        deals = pipeline.build_pipeline(pipeline.deals(session, config), config.pipeline.win_rates)
        first, last = period_bounds(start.date(), now.date())  # the same days as the funnel
        waits = pipeline.lead_waits(session, first, last)
    speed = pipeline.speed_to_lead(waits, config.pipeline.speed_to_lead_hours, now)
    echo(render_table(report))
    echo("")
    echo(pipeline.render_table(deals, speed))
    echo("\nWhat the run shows:")


def main_sync(
    workdir: Path,
    *,
    days: float,
    hours_per_second: float,
    prospects: int,
    seed: int,
    verbose: bool = False,
) -> bool:
    checks: list[Check] = []

    async def go() -> None:
        checks.extend(
            await run_demo(
                workdir,
                days=days,
                hours_per_second=hours_per_second,
                prospects=prospects,
                seed=seed,
                echo=lambda line: print(line, flush=True),
                verbose=verbose,
            )
        )

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(go())
    return all(check.ok for check in checks)
