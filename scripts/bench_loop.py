"""Benchmark: how long the daemon's event loop stalls while replies pour in and sends are due.

    .venv/bin/python scripts/bench_loop.py [--mailboxes 50] [--replies 10000] [--max-seconds 600]

Runs `spear run`'s daemon in this process (the real runtime: planner, dispatcher, one IMAP syncer
per mailbox with IDLE, intake) against the local mail harness in a subprocess (`spear harness`,
SMTP and IMAP on loopback), with a temporary SQLite database. The harness has one user per
mailbox; prospects are enrolled so that first emails fall due while the replies arrive. Once every
syncer is connected, a thread delivers the replies, spread over the mailboxes, into the harness's
Maildir, as mail arriving from outside.

A probe task asks to wake up every 10 ms and records how late it wakes: everything the loop runs
without yielding (database work, classification, pymap's answers being parsed) shows up as lag,
and while the loop is stalled no other mailbox is served and no send goes out. Prints the lag's
percentiles and the share of the time it was stalled (one long stall is one sample of many, so
the percentiles alone understate it), and the intake rate (replies stored per second, first
delivery to last stored).
Stops by itself when every reply is stored or after --max-seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from engine.clock import FastClock
from engine.config import load_config
from engine.demo.prospects import as_csv, fictional_prospects
from engine.demo.world import import_and_enrol
from engine.harness.mailstore import MailStore
from engine.harness.ports import free_port
from engine.service.daemon import Daemon
from engine.service.runtime import RuntimeOptions, build_runtime
from engine.shipped import copy_files, starter_files
from engine.store.db import make_engine

DOMAIN = "example-sender.com"
PASSWORD = "bench-password"  # the harness's own, on loopback
PROBE_EVERY = 0.010  # seconds
STALL = 0.050  # a wake-up later than this: the loop was stalled
# Simulated time runs this much faster than the wall clock, so that jittered first emails fall
# due within the run; the jobs keep their real intervals.
CLOCK_SPEED = 300.0
BODIES = (
    "Thanks, but we are not interested.",
    "Please talk to Jane Smith (jane.smith@{domain}), she owns this.",
    "Not right now, get back to me in 3 months.",
    "Sounds interesting, can we set up a call next week?",
    "Please remove me from your list.",
    "Hmm.",
)


def reply(number: int, prospect: str, mailbox: str) -> bytes:
    body = BODIES[number % len(BODIES)].format(domain=prospect.rsplit("@", 1)[-1])
    return (
        f"From: {prospect}\r\nTo: {mailbox}@{DOMAIN}\r\nSubject: Re: Quick question\r\n"
        f"Message-ID: <bench-{number}@replies.example>\r\n"
        f"Date: Tue, 02 Jun 2026 10:00:00 +0000\r\n\r\nHi,\r\n\r\n{body}\r\n\r\nRegards\r\n\r\n"
        "> Hi, who looks after sales tooling at your company?\r\n"
    ).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mailboxes", type=int, default=50)
    parser.add_argument("--replies", type=int, default=10_000)
    parser.add_argument("--prospects", type=int, default=250)  # the demo's generator makes ~250
    parser.add_argument("--max-seconds", type=float, default=600.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="spear-bench-loop-") as tmp:
        asyncio.run(
            bench(Path(tmp), args.mailboxes, args.replies, args.prospects, args.max_seconds)
        )


async def bench(
    workdir: Path, mailboxes: int, replies: int, prospects: int, max_seconds: float
) -> None:
    names = [f"rep{n:02d}" for n in range(mailboxes)]
    smtp_port, imap_port = free_port(), free_port()
    harness = _start_harness(workdir / "mail", names, smtp_port, imap_port)
    try:
        await _wait_listening(imap_port)
        await _wait_listening(smtp_port)
        # 09:00 in New York on a Tuesday: the cadence's sending window opens.
        start = datetime(2026, 6, 2, 13, 0, tzinfo=UTC)
        emails = _world(workdir, names, smtp_port, imap_port, prospects, start)
        await _run(workdir, names, emails, replies, start, max_seconds)
    finally:
        harness.terminate()
        harness.wait(30)


def _start_harness(
    store: Path, names: list[str], smtp_port: int, imap_port: int
) -> subprocess.Popen[bytes]:
    users = [arg for name in names for arg in ("--user", f"{name}@{DOMAIN}")]
    command = [sys.executable, "-m", "engine", "harness", "--store", str(store)]
    command += ["--smtp-port", str(smtp_port), "--imap-port", str(imap_port)]
    return subprocess.Popen(
        [*command, *users, "--password", PASSWORD],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _world(
    workdir: Path,
    names: list[str],
    smtp_port: int,
    imap_port: int,
    prospects: int,
    now: datetime,
) -> list[str]:
    """spear.yaml, the shipped cadences, prospects imported and enrolled as the demo does them;
    returns the prospects' addresses."""
    copy_files([c for c in starter_files(workdir) if c[1].name != "spear.yaml"])
    (workdir / "mailbox-password").write_text(PASSWORD)
    server = "host: 127.0.0.1, tls: none, password: {file: mailbox-password}"
    entries = "".join(
        f"  - name: {name}\n    address: {name}@{DOMAIN}\n"
        f"    smtp: {{port: {smtp_port}, user: {name}@{DOMAIN}, {server}}}\n"
        f"    imap: {{port: {imap_port}, user: {name}@{DOMAIN}, {server}}}\n"
        "    min_gap_seconds: 5\n    jitter_seconds: 5\n"
        for name in names
    )
    (workdir / "spear.yaml").write_text(
        "database: sqlite:///spear.db\ntimezone: America/New_York\n"
        f"mailboxes:\n{entries}"
        "segments:\n  executives: {seniority: [c-level, vp, director]}\n"
    )
    people = fictional_prospects(prospects, 11)
    (workdir / "prospects.csv").write_text(as_csv(people))
    config = load_config(workdir / "spear.yaml")
    import_and_enrol(config, workdir / "prospects.csv", now)
    engine = make_engine(config.database_url)
    with engine.connect() as db:
        emails = [str(e) for e in db.scalars(sa.text("SELECT email FROM prospect ORDER BY id"))]
    engine.dispose()
    return emails


async def _run(
    workdir: Path,
    names: list[str],
    emails: list[str],
    replies: int,
    start: datetime,
    max_seconds: float,
) -> None:
    os.chdir(workdir)  # spear.yaml names its files relative to itself, as `spear run` finds them
    options = RuntimeOptions(clock=FastClock(start, CLOCK_SPEED), worker_id="bench")
    daemon = Daemon(lambda: build_runtime(workdir / "spear.yaml", options), shutdown_grace=10)
    engine = make_engine(f"sqlite:///{workdir / 'spear.db'}")
    lags: list[float] = []
    running = asyncio.create_task(daemon.run())
    probe = asyncio.create_task(_probe(lags))
    loop = asyncio.get_running_loop()
    began = loop.time()
    try:
        # Every syncer connected and through its first (empty) sync: then the mail arrives.
        while await asyncio.to_thread(_count, engine, "imap_folder_state") < len(names):
            if loop.time() - began > max_seconds or running.done():
                raise SystemExit("the daemon did not connect every mailbox in time")
            await asyncio.sleep(0.2)
        connected = loop.time() - began
        lags.clear()  # measure the steady state, not the start-up
        # Timed by a thread of its own: a stalled loop must not stall the measurement too.
        watch = Intake(engine, replies, max_seconds)
        threading.Thread(target=watch.run, daemon=True).start()
        threading.Thread(
            target=_deliver, args=(MailStore(workdir / "mail"), names, emails, replies), daemon=True
        ).start()
        await asyncio.to_thread(watch.done.wait)
        measured = list(lags)  # not the shutdown
        elapsed = time.monotonic() - watch.started
        sent = _count_sent(engine)
    finally:
        daemon.request_stop()
        await asyncio.wait_for(running, 60)
        probe.cancel()
        engine.dispose()
    measured.sort()
    stalled = sum(lag for lag in measured if lag > STALL)
    print(
        f"{len(names)} mailboxes connected in {connected:.1f}s; {watch.stored} of {replies} "
        f"replies stored in {elapsed:.0f}s; {sent} emails sent meanwhile"
    )
    print(f"intake:    {watch.rate:.0f} messages/s (first delivery to last stored)")
    print(
        f"loop lag:  p50 {_ms(measured, 0.50)} ms, p99 {_ms(measured, 0.99)} ms, "
        f"max {measured[-1] * 1000:.0f} ms over {len(measured)} wake-ups asked every "
        f"{PROBE_EVERY * 1000:.0f} ms; stalled (> {STALL * 1000:.0f} ms) "
        f"{stalled / elapsed:.0%} of the time"
    )


class Intake:
    """Counts stored replies from a thread until all are in or time is up."""

    def __init__(self, engine: sa.Engine, expected: int, max_seconds: float) -> None:
        self.engine, self.expected, self.max_seconds = engine, expected, max_seconds
        self.started = time.monotonic()
        self.stored = 0
        self.last_stored_at = self.started
        self.done = threading.Event()

    def run(self) -> None:
        while self.stored < self.expected and time.monotonic() - self.started < self.max_seconds:
            count = _count(self.engine, "inbound_message")
            if count != self.stored:
                self.stored, self.last_stored_at = count, time.monotonic()
            time.sleep(0.2)
        self.done.set()

    @property
    def rate(self) -> float:
        return self.stored / max(self.last_stored_at - self.started, 1e-9)


async def _probe(lags: list[float]) -> None:
    """Ask to wake every PROBE_EVERY seconds; record how much later than asked it woke."""
    loop = asyncio.get_running_loop()
    while True:
        expected = loop.time() + PROBE_EVERY
        await asyncio.sleep(PROBE_EVERY)
        lags.append(max(0.0, loop.time() - expected))


def _deliver(store: MailStore, names: list[str], emails: list[str], replies: int) -> None:
    for number in range(replies):
        mailbox = names[number % len(names)]
        store.deliver(f"{mailbox}@{DOMAIN}", reply(number, emails[number % len(emails)], mailbox))


def _count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as db:
        return int(db.scalar(sa.text(f"SELECT count(*) FROM {table}")) or 0)


def _count_sent(engine: sa.Engine) -> int:
    with engine.connect() as db:
        query = "SELECT count(*) FROM outbound_message WHERE status = 'sent'"
        return int(db.scalar(sa.text(query)) or 0)


def _ms(ordered: list[float], quantile: float) -> str:
    return f"{ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] * 1000:.1f}"


async def _wait_listening(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"the harness did not listen on port {port}") from None
            await asyncio.sleep(0.1)


if __name__ == "__main__":
    main()
