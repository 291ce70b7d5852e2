"""`spear run` as users run it: a real process, real signals, a real SMTP server on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.smtp import SMTP, Envelope, Session

from engine.service.daemon import Daemon, Job, Runtime
from engine.store.db import make_engine

from .conftest import smtp_sink

# Tuesday 24 November 2026, 07:30 in New York: inside the play's morning window.
IN_WINDOW = "2026-11-24T12:30:00"
LATER_IN_WINDOW = "2026-11-24T12:45:00"
A_MINUTE_LATER = "2026-11-24T12:46:00"
PROSPECTS = """email,first_name,last_name,title,company,domain,timezone,country
ada.park@northwind.example,Ada,Park,VP Sales,Northwind,northwind.example,America/New_York,US
ben.okafor@southwind.example,Ben,Okafor,COO,Southwind,southwind.example,America/New_York,US
"""


class SlowSink:
    """Accepts every message, taking `delay` seconds to answer DATA: a send to interrupt."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.messages: list[bytes] = []
        self.data_started = threading.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.data_started.set()
        await asyncio.sleep(self.delay)
        self.messages.append(envelope.original_content or b"")
        return "250 OK"


@pytest.fixture
def sink() -> Iterator[tuple[SlowSink, int]]:
    handler = SlowSink(delay=2.0)
    with smtp_sink(handler) as port:
        yield handler, port


def spear(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )


def start_daemon(workdir: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "engine", "run", *args],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def make_workdir(tmp_path: Path, smtp_port: int, jitter_seconds: float = 0) -> Path:
    """A working folder from `spear init` with one loopback mailbox and two enrolled prospects."""
    assert spear(tmp_path, "init", ".").returncode == 0
    (tmp_path / "spear.yaml").write_text(
        f"""\
database: sqlite:///spear.db
timezone: America/New_York
mailboxes:
  - name: alex
    address: alex@example-sender.com
    display_name: Alex Rivera
    smtp: {{host: 127.0.0.1, port: {smtp_port}, tls: none, timeout: 10}}
    min_gap_seconds: {jitter_seconds}
    jitter_seconds: {jitter_seconds}
segments:
  executives: {{seniority: [c-level, vp, director]}}
"""
    )
    (tmp_path / "prospects.csv").write_text(PROSPECTS)
    for command in (["db", "upgrade"], ["import", "prospects.csv"]):
        result = spear(tmp_path, *command)
        assert result.returncode == 0, result.stderr
    result = spear(tmp_path, "enroll", "referral-ask", "--start", "2026-11-24T12:00:00")
    assert result.returncode == 0, result.stderr
    return tmp_path


@contextmanager
def daemon_output(workdir: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """A running daemon and its output lines as they come; stopped with SIGTERM after, exit 0."""
    daemon = start_daemon(workdir, *args)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(daemon.stdout.readline, "")))  # type: ignore[union-attr]
    reader.start()
    try:
        yield daemon, lines
        assert daemon.poll() is None, "".join(lines)
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)
    finally:
        if daemon.poll() is None:
            daemon.kill()
        reader.join(5)
    assert daemon.returncode == 0, "".join(lines)


def outbox(workdir: Path) -> list[tuple[str, str, str]]:
    engine = make_engine(f"sqlite:///{workdir / 'spear.db'}")
    with engine.connect() as db:
        rows = db.execute(
            sa.text(
                "SELECT to_address, step_id, status, scheduled_at FROM outbound_message "
                "ORDER BY to_address"
            )
        ).all()
    engine.dispose()
    return [(r[0], r[1], r[2], str(r[3])) for r in rows]


def wait_for(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_once_is_deterministic_with_the_fixed_clock(
    tmp_path: Path, sink: tuple[SlowSink, int]
) -> None:
    handler, port = sink
    handler.delay = 0
    first, second = tmp_path / "a", tmp_path / "b"
    results = []
    for workdir in (first, second):
        workdir.mkdir()
        make_workdir(workdir, port, jitter_seconds=30)
        # The first pass plans (with jitter); the second, a quarter of an hour on, sends the
        # first message and holds the second (now overdue) for the gap; the third sends it.
        for now in (IN_WINDOW, LATER_IN_WINDOW, A_MINUTE_LATER):
            result = spear(workdir, "run", "--once", "--now", now)
            assert result.returncode == 0, result.stderr
        results.append(outbox(workdir))
    assert results[0] == results[1]
    assert [status for _, _, status, _ in results[0]] == ["sent", "sent"]
    assert len(handler.messages) == 4


def test_sigterm_during_a_send_finishes_it_and_exits_0(
    tmp_path: Path, sink: tuple[SlowSink, int]
) -> None:
    handler, port = sink
    workdir = make_workdir(tmp_path, port)
    daemon = start_daemon(workdir, "--now", IN_WINDOW)
    try:
        assert handler.data_started.wait(30), "the daemon never started a send"
        daemon.send_signal(signal.SIGTERM)
        output, _ = daemon.communicate(timeout=30)
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0, output
    assert len(handler.messages) == 1, "the transaction under way was not finished"
    statuses = sorted(status for _, _, status, _ in outbox(workdir))
    # The message in flight was recorded as sent; the other one was never started.
    assert statuses == ["planned", "sent"], output
    assert "daemon stopped" in output


def test_sighup_with_a_broken_cadence_keeps_the_old_one(
    tmp_path: Path, sink: tuple[SlowSink, int]
) -> None:
    handler, port = sink
    handler.delay = 0
    workdir = make_workdir(tmp_path, port)
    daemon = start_daemon(workdir, "--now", IN_WINDOW)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(daemon.stdout.readline, "")))  # type: ignore[union-attr]
    reader.start()
    try:
        assert wait_for(lambda: any("daemon started" in line for line in lines), 30), lines
        cadence = workdir / "cadences" / "referral-ask.yaml"
        cadence.write_text(cadence.read_text().replace("steps:", "stepz:"))
        daemon.send_signal(signal.SIGHUP)
        assert wait_for(lambda: any("reload refused" in line for line in lines), 30), lines
        refused = next(line for line in lines if "reload refused" in line)
        assert "referral-ask.yaml" in refused
        # Still at work on the old cadences: both prospects get their first email.
        assert wait_for(lambda: len(handler.messages) == 2, 30), lines
        assert daemon.poll() is None
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)
    finally:
        if daemon.poll() is None:
            daemon.kill()
        reader.join(5)
    assert daemon.returncode == 0, "".join(lines)


def test_one_daemon_per_sqlite_file(tmp_path: Path, sink: tuple[SlowSink, int]) -> None:
    _handler, port = sink
    workdir = make_workdir(tmp_path, port)
    first = start_daemon(workdir, "--now", IN_WINDOW)
    try:
        lock = workdir / "spear.db.lock"
        assert wait_for(lambda: lock.exists() and lock.read_text() == f"pid {first.pid}", 30)
        second = spear(workdir, "run", "--now", IN_WINDOW)
        assert second.returncode == 1
        assert "another daemon" in second.stderr
        assert f"pid {first.pid}" in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(30)
    assert first.returncode == 0
    assert os.path.exists(workdir / "spear.db.lock")  # kept; the kernel lock is what counts


async def test_run_once_names_the_jobs_that_failed() -> None:
    """cron mails a job's output only on a non-zero exit: a failed pass must say so."""
    ran: list[str] = []

    async def fine() -> None:
        ran.append("plan")

    async def broken() -> None:
        raise RuntimeError("the SMTP relay said no")

    async def runtime() -> Runtime:
        return Runtime(jobs=[], once=[Job("dispatch", 0, broken), Job("plan", 0, fine)])

    assert await Daemon(runtime).run_once() == ["dispatch"]
    assert ran == ["plan"]  # one failure does not stop the pass


def test_sighup_waits_for_the_send_under_way_and_never_moves_the_database(
    tmp_path: Path, sink: tuple[SlowSink, int]
) -> None:
    handler, port = sink
    workdir = make_workdir(tmp_path, port)
    with daemon_output(workdir, "--now", IN_WINDOW) as (daemon, lines):
        # A reload while the server takes its time over the first message's body.
        assert handler.data_started.wait(30), lines
        daemon.send_signal(signal.SIGHUP)
        assert wait_for(lambda: any("configuration reloaded" in line for line in lines), 30), lines
        assert len(handler.messages) >= 1, "the reload did not wait for the send under way"
        assert wait_for(lambda: len(handler.messages) == 2, 30), lines
        # Another database: refused, and the daemon goes on with its own.
        config = workdir / "spear.yaml"
        config.write_text(config.read_text().replace("sqlite:///spear.db", "sqlite:///other.db"))
        daemon.send_signal(signal.SIGHUP)
        assert wait_for(lambda: any("`database:` changed" in line for line in lines), 30), lines
    assert sorted(status for _, _, status, _ in outbox(workdir)) == ["sent", "sent"]
    assert not (workdir / "other.db").exists()


async def test_a_job_cut_short_at_shutdown_is_no_error(caplog: pytest.LogCaptureFixture) -> None:
    """A pass still running when the grace period ends is cancelled quietly, not as a failure."""
    started = asyncio.Event()

    async def slow_plan() -> None:
        started.set()
        await asyncio.sleep(3600)

    async def runtime() -> Runtime:
        return Runtime(jobs=[Job("plan", 60, slow_plan)])

    daemon = Daemon(runtime, shutdown_grace=0.2)
    running = asyncio.create_task(daemon.run())
    await asyncio.wait_for(started.wait(), 10)
    with caplog.at_level("INFO"):
        daemon.request_stop()
        await asyncio.wait_for(running, 10)
    assert "job plan stopped at shutdown" in caplog.text
    assert [r for r in caplog.records if r.levelname == "ERROR"] == []
