"""Scale-out on PostgreSQL: several real `spear run` daemons on one database share the outbox.

Three daemons send 3,000 due messages to a loopback aiosmtpd sink: each message arrives exactly
once and each daemon does a real share. Then one daemon is killed with SIGKILL while sending:
the other two hand its claimed rows back, leave what it had in flight `uncertain` (never re-sent)
and finish the rest. Finally the IMAP polling lease: one holder per mailbox at a time, and a
daemon that dies lets go of it.
"""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlmodel import Session as DbSession

from engine.config import MailboxConfig
from engine.sending.compose import Sender, compose, message_bytes, new_message_id
from engine.service.runtime import mailbox_lease
from engine.store.db import make_engine, upgrade
from engine.store.models import Account, Enrollment, OutboundMessage, Prospect

from .conftest import smtp_sink

pytestmark = pytest.mark.postgres

COUNT = 3000
WORKERS = ("worker-a", "worker-b", "worker-c")
MAILBOX = "sales"
SENDER = "rep@spear.example"
# Tuesday 24 November 2026, 07:30 in New York: the daemons' clocks start here.
NOW = datetime(2026, 11, 24, 12, 30, tzinfo=UTC)
# Simulated seconds per real second: the dispatch job runs every 5 s / SPEED of real time. The
# window below stays open for far longer than a run takes even at this speed.
SPEED = 10.0
WINDOW_END = NOW + timedelta(hours=4)
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>]+>)", re.IGNORECASE | re.MULTILINE)
TEMPLATE_ADDRESS = "template@prospect.example"
IMAP = {"host": "imap.spear.example", "port": 993, "user": "rep@spear.example", "tls": "implicit"}


@dataclass
class CountingSink:
    """Accepts every message at once and records its Message-ID (aiosmtpd's thread appends)."""

    message_ids: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        found = MESSAGE_ID.search(envelope.original_content or b"")
        self.message_ids.append(found.group(1).decode() if found else "")
        return "250 OK queued"


@pytest.fixture
def sink() -> Iterator[tuple[CountingSink, int]]:
    handler = CountingSink()
    with smtp_sink(handler) as port:
        yield handler, port


def seed_due_outbox(url: str, count: int) -> None:
    """`count` prospects, each enrolled with its first step planned, due now, inside its window.

    Inserted in bulk: one flush per table, which SQLAlchemy sends as batched multi-row INSERTs.
    """
    upgrade(url)
    engine = make_engine(url)
    scheduled = NOW - timedelta(minutes=30)
    try:
        with DbSession(engine) as db:
            account = Account(domain="prospect.example", name="Prospect Inc")
            db.add(account)
            db.flush()
            prospects = [
                Prospect(
                    email=f"person{n}@prospect.example", first_name=f"P{n}", account_id=account.id
                )
                for n in range(count)
            ]
            db.add_all(prospects)
            db.flush()
            enrollments = [
                Enrollment(prospect_id=p.id, cadence="intro", cadence_version="v1", next_step=None)
                for p in prospects
                if p.id is not None
            ]
            db.add_all(enrollments)
            db.flush()
            # One message composed, then copied per prospect: composing 3,000 takes seconds.
            template_id = new_message_id("spear.example")
            template = message_bytes(
                compose(
                    sender=Sender(SENDER, "Robin Rep"),
                    to_address=TEMPLATE_ADDRESS,
                    to_name="",
                    subject="Who handles logistics?",
                    body="Hi,\n\nWho runs logistics there?\n\nRobin\n",
                    message_id=template_id,
                    date=scheduled,
                )
            )
            rows = []
            for prospect, enrollment in zip(prospects, enrollments, strict=True):
                assert prospect.id is not None and enrollment.id is not None
                message_id = new_message_id("spear.example")
                raw = template.replace(template_id.encode(), message_id.encode()).replace(
                    TEMPLATE_ADDRESS.encode(), prospect.email.encode()
                )
                rows.append(
                    OutboundMessage(
                        enrollment_id=enrollment.id,
                        prospect_id=prospect.id,
                        step_id="intro",
                        mailbox=MAILBOX,
                        message_id=message_id,
                        to_address=prospect.email,
                        subject="Who handles logistics?",
                        raw=raw,
                        scheduled_at=scheduled,
                        send_before=WINDOW_END,
                        created_at=scheduled,
                    )
                )
            db.add_all(rows)
            db.commit()
    finally:
        engine.dispose()


def write_config(workdir: Path, url: str, smtp_port: int) -> None:
    (workdir / "cadences").mkdir()
    (workdir / "templates").mkdir()
    (workdir / "spear.yaml").write_text(
        f"""\
database: "{url}"
timezone: America/New_York
mailboxes:
  - name: {MAILBOX}
    address: {SENDER}
    display_name: Robin Rep
    smtp: {{host: 127.0.0.1, port: {smtp_port}, tls: none, timeout: 10}}
    daily_cap: 10000
    hourly_cap: 10000
    min_gap_seconds: 0
    jitter_seconds: 0
"""
    )


@dataclass
class Daemon:
    worker_id: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def start_daemons(workdir: Path) -> list[Daemon]:
    daemons = []
    for worker_id in WORKERS:
        log = workdir / f"{worker_id}.log"
        with log.open("wb") as out:  # a file, not a pipe: 3,000 log lines would fill a pipe
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "engine",
                    "run",
                    "--now",
                    NOW.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "--speed",
                    str(SPEED),
                    "--worker-id",
                    worker_id,
                    "--shutdown-grace",
                    "10",
                ],
                cwd=workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        daemons.append(Daemon(worker_id, process, log))
    return daemons


def stop(daemons: list[Daemon]) -> None:
    """SIGTERM every live daemon and wait for it; kill only what would not stop."""
    for daemon in daemons:
        if daemon.process.poll() is None:
            daemon.process.send_signal(signal.SIGTERM)
    for daemon in daemons:
        try:
            daemon.process.wait(30)
        except subprocess.TimeoutExpired:
            daemon.process.kill()
            daemon.process.wait(10)


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@dataclass(frozen=True)
class Row:
    message_id: str
    status: str
    claimed_by: str | None


def outbox(url: str) -> list[Row]:
    engine = make_engine(url)
    try:
        with engine.connect() as db:
            result = db.execute(
                sa.text("SELECT message_id, status, claimed_by FROM outbound_message")
            )
            return [Row(*r) for r in result]
    finally:
        engine.dispose()


def unsent_claims(url: str, worker_id: str) -> list[str]:
    """Message-IDs of the rows `worker_id` holds (claimed or in flight) and has not sent."""
    engine = make_engine(url)
    try:
        with engine.connect() as db:
            query = sa.text(
                "SELECT message_id FROM outbound_message "
                "WHERE claimed_by = :worker AND status IN ('planned', 'retry', 'sending')"
            )
            return list(db.scalars(query, {"worker": worker_id}))
    finally:
        engine.dispose()


def nothing_waiting(url: str) -> bool:
    """No row is left to send or in flight: the daemons are done."""
    return not any(r.status in ("planned", "retry", "sending") for r in outbox(url))


def test_three_daemons_share_3000_messages_each_sent_once(
    postgres_url: str, sink: tuple[CountingSink, int], tmp_path: Path
) -> None:
    handler, port = sink
    seed_due_outbox(postgres_url, COUNT)
    write_config(tmp_path, postgres_url, port)
    started = time.monotonic()
    daemons = start_daemons(tmp_path)
    try:
        done = wait_for(lambda: nothing_waiting(postgres_url), 120)
        assert done, [d.output() for d in daemons]
    finally:
        stop(daemons)
    elapsed = time.monotonic() - started
    for daemon in daemons:
        assert daemon.process.returncode == 0, daemon.output()

    rows = outbox(postgres_url)
    received = Counter(handler.message_ids)
    assert len(handler.message_ids) == COUNT, f"{len(handler.message_ids)} received"
    assert max(received.values()) == 1, "a message was received twice"
    assert set(received) == {r.message_id for r in rows}
    assert Counter(r.status for r in rows) == {"sent": COUNT}
    shares = Counter(r.claimed_by for r in rows)
    assert set(shares) == set(WORKERS), shares
    assert min(shares.values()) >= COUNT // 10, f"load not shared: {shares} in {elapsed:.1f} s"
    print(f"shares {dict(shares)} in {elapsed:.1f} s")


def test_a_killed_daemon_leaves_its_work_to_the_others_without_duplicates(
    postgres_url: str, sink: tuple[CountingSink, int], tmp_path: Path
) -> None:
    handler, port = sink
    seed_due_outbox(postgres_url, COUNT)
    write_config(tmp_path, postgres_url, port)
    daemons = start_daemons(tmp_path)
    victim, survivors = daemons[0], daemons[1:]
    try:
        assert wait_for(lambda: len(handler.message_ids) >= COUNT // 3, 120), [
            d.output() for d in daemons
        ]
        # Kill it mid-batch: holding claims it has not sent yet (between two passes it holds
        # none). A batch sends one message at a time, so it cannot finish these in the moment
        # between this look and the kill.
        held: set[str] = set()

        def victim_holds_a_batch() -> bool:
            held.clear()
            held.update(unsent_claims(postgres_url, victim.worker_id))
            return len(held) >= 20

        assert wait_for(victim_holds_a_batch, 30), victim.output()
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait(10)
        # Promptly: at SPEED the victim's lease (10 simulated minutes) would only run out after
        # 60 s; the survivors see at their next pass that its liveness lock is gone.
        handed_back = wait_for(lambda: not unsent_claims(postgres_url, victim.worker_id), 30)
        assert handed_back, unsent_claims(postgres_url, victim.worker_id)
        done = wait_for(lambda: nothing_waiting(postgres_url), 120)
        left = Counter(r.status for r in outbox(postgres_url))
        assert done, (left, [d.output() for d in survivors])
    finally:
        stop(daemons)
    assert victim.process.returncode == -signal.SIGKILL
    for daemon in survivors:
        assert daemon.process.returncode == 0, daemon.output()

    rows = outbox(postgres_url)
    received = Counter(handler.message_ids)
    assert max(received.values()) == 1, "a message was received twice"
    statuses = Counter(r.status for r in rows)
    assert set(statuses) <= {"sent", "uncertain"}, statuses
    uncertain = [r for r in rows if r.status == "uncertain"]
    # Only what the victim had in flight (one mailbox: one SMTP transaction at a time), and
    # never sent again by anyone.
    assert len(uncertain) <= 2, uncertain
    assert all(r.claimed_by == victim.worker_id for r in uncertain), uncertain
    assert all(received[r.message_id] <= 1 for r in uncertain)
    sent = [r for r in rows if r.status == "sent"]
    assert all(received[r.message_id] == 1 for r in sent), "a `sent` row never arrived"
    assert set(received) <= {r.message_id for r in rows}
    shares = Counter(r.claimed_by for r in sent)
    survivors_sent = sum(shares[d.worker_id] for d in survivors)
    assert survivors_sent + shares[victim.worker_id] + len(uncertain) == COUNT
    assert all(shares[d.worker_id] >= COUNT // 10 for d in survivors), shares
    # The victim died holding claims it never got to: the survivors sent them.
    taken_over = [r for r in sent if r.message_id in held and r.claimed_by != victim.worker_id]
    assert taken_over, f"the victim's {len(held)} claimed rows were not taken over"
    print(f"shares {dict(shares)}, uncertain {len(uncertain)}, taken over {len(taken_over)}")


# -- the IMAP polling lease ---------------------------------------------------------------------

LEASE_HOLDER = """\
import asyncio, sys
from engine.config import MailboxConfig
from engine.service.runtime import mailbox_lease
from engine.store.db import make_engine

async def main() -> None:
    mailbox = MailboxConfig.model_validate_json(sys.argv[2])
    async with mailbox_lease(make_engine(sys.argv[1]), mailbox) as held:
        print("held" if held else "refused", flush=True)
        await asyncio.sleep(600)

asyncio.run(main())
"""


def lease_mailbox() -> MailboxConfig:
    return MailboxConfig.model_validate(
        {
            "name": MAILBOX,
            "address": SENDER,
            "smtp": {"host": "smtp.spear.example", "port": 587},
            "imap": IMAP,
        }
    )


async def lease_free(engine: sa.engine.Engine, mailbox: MailboxConfig) -> bool:
    async with mailbox_lease(engine, mailbox) as held:
        return held


async def test_one_daemon_polls_a_mailbox_and_a_dead_one_lets_go(postgres_url: str) -> None:
    mailbox = lease_mailbox()
    first, second = make_engine(postgres_url), make_engine(postgres_url)
    try:
        async with mailbox_lease(first, mailbox) as held:
            assert held
            assert not await lease_free(second, mailbox)
        assert await lease_free(second, mailbox)

        # A poller that fails (or is cancelled) gives the lease back with its connection.
        with pytest.raises(RuntimeError):
            async with mailbox_lease(first, mailbox) as held:
                assert held
                raise RuntimeError("the IMAP server went away")
        assert await lease_free(second, mailbox)

        # A daemon that dies: its connection closes and the lock goes with it.
        holder = subprocess.Popen(
            [sys.executable, "-c", LEASE_HOLDER, postgres_url, mailbox.model_dump_json()],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None
            line = await asyncio.to_thread(holder.stdout.readline)
            assert line.strip() == "held"
            assert not await lease_free(second, mailbox)
        finally:
            holder.send_signal(signal.SIGKILL)
            holder.wait(10)
        deadline = time.monotonic() + 10
        while not await lease_free(second, mailbox):
            assert time.monotonic() < deadline, "the dead daemon's lease was never released"
            await asyncio.sleep(0.1)
    finally:
        first.dispose()
        second.dispose()
