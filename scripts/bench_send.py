"""Benchmark the send path and the due-work queries.

1. 20,000 queued outbox rows go through the full dispatch path (claim, last-moment checks,
   `sending` commit, SMTP, `sent` commit) into a local aiosmtpd sink; in the same run a bare
   aiosmtplib loop sends the same messages over one connection to the same sink. The two take
   turns a slice at a time (`--slice`, 500 messages: one dispatcher batch), alternating which goes
   first, so that whatever else the machine is doing weighs on both alike. Prints both rates over
   the whole run, their ratio (target: the full path at least 0.6 of the bare loop) and the
   spread of the slices' ratios.
2. The time to find due work with 10,000 and 1,000,000 active enrollments in SQLite (target: under
   50 ms at 1,000,000 and at most 3x the 10,000 figure), and the outbox's due query likewise,
   with the query plans showing the indexes used.

Usage: python scripts/bench_send.py [--messages N] [--slice N] [--small N] [--big N]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosmtplib
import sqlalchemy as sa
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.engine import Engine
from sqlmodel import Session as DbSession
from sqlmodel import SQLModel

from engine.clock import SystemClock
from engine.config import MAX_DAILY_CAP, Config, MailboxConfig, ServerSettings, TlsMode
from engine.sending.compose import Sender, compose, message_bytes, new_message_id
from engine.sending.dispatcher import DUE_STATUSES, Dispatcher
from engine.sending.planner import due_enrollment_ids
from engine.store.db import make_engine, upgrade

TABLES = SQLModel.metadata.tables
SENDER = "bench@spear.example"
DUE_ROWS = 1_000  # due enrollments and due outbox rows, at every scale


class CountingSink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.count += 1
        return "250 OK"


async def start_sink(sink: CountingSink) -> tuple[asyncio.Server, int]:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(sink, hostname="sink.localhost", loop=loop), host="127.0.0.1", port=0
    )
    return server, int(server.sockets[0].getsockname()[1])


class SinkProcess:
    """The sink in a process of its own, as a real SMTP server is: its work then weighs on the
    machine, not on the event loop and the interpreter lock of the code under test."""

    def __init__(self) -> None:
        self._count = multiprocessing.Value("q", 0)
        self._port = multiprocessing.Value("i", 0)
        self._ready = multiprocessing.Event()
        self._process = multiprocessing.Process(target=self._serve, daemon=True)

    def __enter__(self) -> int:
        self._process.start()
        if not self._ready.wait(30):
            raise SystemExit("the SMTP sink did not start")
        return int(self._port.value)

    def __exit__(self, *_exc: object) -> None:
        self._process.kill()
        self._process.join(10)

    @property
    def count(self) -> int:
        return int(self._count.value)

    def _serve(self) -> None:
        async def serve() -> None:
            sink = SharedCountingSink(self._count)
            _server, self._port.value = await start_sink(sink)
            self._ready.set()
            await asyncio.Event().wait()

        asyncio.run(serve())


class SharedCountingSink(CountingSink):
    def __init__(self, shared: Any) -> None:
        super().__init__()
        self._shared = shared

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._shared.get_lock():
            self._shared.value += 1
        return "250 OK"


def database(folder: Path, name: str) -> tuple[str, Engine]:
    url = f"sqlite:///{folder / name}"
    upgrade(url)
    return url, make_engine(url)


def prospect_row(n: int, address: str) -> dict[str, Any]:
    return {"id": n, "email": address, "custom": {}, "email_status": "unknown"}


def seed_outbox(engine: Engine, count: int, when: datetime) -> list[tuple[str, bytes]]:
    """`count` prospects, enrollments and planned outbox rows, inserted in bulk."""
    messages = []
    prospects, enrollments, outbox = [], [], []
    for n in range(1, count + 1):
        address = f"person{n}@prospect.example"
        message_id = new_message_id("spear.example")
        raw = message_bytes(
            compose(
                sender=Sender(SENDER, "Bench Rep"),
                to_address=address,
                to_name=f"Person {n}",
                subject="Who handles logistics?",
                body=f"Hi Person {n},\n\nWho is the right person for logistics?\n\nBench\n",
                message_id=message_id,
                date=when,
            )
        )
        messages.append((address, raw))
        prospects.append(prospect_row(n, address))
        enrollments.append(
            {
                "id": n,
                "prospect_id": n,
                "cadence": "bench",
                "cadence_version": "v1",
                "status": "active",
                "variant_seed": 0,
                "steps_sent": 0,
            }
        )
        outbox.append(
            {
                "enrollment_id": n,
                "prospect_id": n,
                "step_id": "ask",
                "mailbox": "bench",
                "message_id": message_id,
                "to_address": address,
                "subject": "Who handles logistics?",
                "raw": raw,
                "status": "planned",
                "scheduled_at": when,
                "send_before": when + timedelta(hours=2),
                "created_at": when,
                "attempts": 0,
            }
        )
    with engine.begin() as db:
        db.execute(TABLES["prospect"].insert(), prospects)
        db.execute(TABLES["enrollment"].insert(), enrollments)
        db.execute(TABLES["outbound_message"].insert(), outbox)
    return messages


def bench_dispatcher(engine: Engine, port: int) -> Dispatcher:
    config = Config(
        mailboxes=[
            MailboxConfig(
                name="bench",
                address=SENDER,
                smtp=ServerSettings(host="127.0.0.1", port=port, tls=TlsMode.NONE),
                # The highest caps the config allows: the dispatcher still counts against them,
                # and --messages stays within them so the whole run fits in one day.
                daily_cap=MAX_DAILY_CAP,
                hourly_cap=MAX_DAILY_CAP,
                # No pacing: the rows are all due at once, and this measures the send path.
                min_gap_seconds=0,
                jitter_seconds=0,
            )
        ]
    )
    return Dispatcher(engine, config, SystemClock())


async def full_slice(dispatcher: Dispatcher, size: int) -> float:
    """Seconds for the dispatcher to send the next `size` due rows: one `dispatch_due` batch."""
    started = time.perf_counter()
    stats = await dispatcher.dispatch_due(limit=size)
    elapsed = time.perf_counter() - started
    assert stats.sent == stats.claimed == size, stats
    return elapsed


async def bare_slice(client: aiosmtplib.SMTP, messages: list[tuple[str, bytes]]) -> float:
    """Seconds for a bare aiosmtplib loop to send `messages` over an open connection."""
    started = time.perf_counter()
    for address, raw in messages:
        await client.sendmail(SENDER, [address], raw)
    return time.perf_counter() - started


async def bench_sending(folder: Path, count: int, size: int, same_loop: bool) -> None:
    """Both paths over the same messages and the same sink, taking turns a slice at a time."""
    _url, engine = database(folder, "send.db")
    print(f"seeding {count:,} outbox rows ...", flush=True)
    messages = seed_outbox(engine, count, datetime.now(UTC) - timedelta(minutes=1))
    if same_loop:
        sink = CountingSink()
        server, port = await start_sink(sink)
        full, bare, ratios = await send_both(engine, port, messages, size)
        server.close()
        received = sink.count
    else:
        process = SinkProcess()
        with process as port:
            full, bare, ratios = await send_both(engine, port, messages, size)
            received = process.count
    assert received == 2 * count, received
    with engine.connect() as db:
        outbox = TABLES["outbound_message"]
        unsent = db.scalar(sa.select(sa.func.count()).where(outbox.c.status != "sent"))
    engine.dispose()
    assert unsent == 0, f"{unsent} outbox rows not sent"
    where = "on the benchmark's own event loop" if same_loop else "in a process of its own"
    print(f"the SMTP sink runs {where}")
    low, middle, high = statistics.quantiles(ratios, n=4)
    print(f"full dispatch path: {count / full:8.0f} messages/s")
    print(f"bare aiosmtplib:    {count / bare:8.0f} messages/s")
    print(f"ratio full/bare:    {bare / full:8.2f}   (target >= 0.6)")
    print(
        f"  the {len(ratios)} slices' ratios: min {min(ratios):.2f}, "
        f"quartiles {low:.2f} / {middle:.2f} / {high:.2f}, max {max(ratios):.2f}"
    )


async def send_both(
    engine: Engine, port: int, messages: list[tuple[str, bytes]], size: int
) -> tuple[float, float, list[float]]:
    """Seconds of the full path, of the bare loop, and each slice's ratio."""
    dispatcher = bench_dispatcher(engine, port)
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
    await client.connect()
    started = time.perf_counter()
    await asyncio.to_thread(dispatcher.recover_in_flight)  # `run_once` does it first
    full = time.perf_counter() - started
    bare = 0.0
    ratios = []
    for index, start in enumerate(range(0, len(messages), size)):
        chunk = messages[start : start + size]
        if index % 2 == 0:
            full_time = await full_slice(dispatcher, len(chunk))
            bare_time = await bare_slice(client, chunk)
        else:
            bare_time = await bare_slice(client, chunk)
            full_time = await full_slice(dispatcher, len(chunk))
        full += full_time
        bare += bare_time
        ratios.append(bare_time / full_time)
    await client.quit()
    await dispatcher.close()
    return full, bare, ratios


def seed_enrollments(engine: Engine, count: int, now: datetime) -> None:
    """`count` enrollments (90% active): DUE_ROWS due now, the rest due within 30 days.

    The due set is the same size at every scale, so the figures compare the cost of finding the
    work, not the amount of it.
    """
    rng = random.Random(7)
    with engine.begin() as db:
        db.execute(
            TABLES["prospect"].insert(),
            [prospect_row(n, f"p{n}@x.example") for n in range(1, 1001)],
        )
        batch: list[dict[str, Any]] = []
        for n in range(1, count + 1):
            due = n <= DUE_ROWS * 10 // 9 + 1
            offset = -rng.uniform(0, 3600) if due else rng.uniform(60, 30 * 86400)
            batch.append(
                {
                    "prospect_id": 1 + n % 1000,
                    "cadence": "bench",
                    "cadence_version": "v1",
                    "status": "active" if n % 10 else "completed",
                    "next_step": "bump",
                    "next_due_at": now + timedelta(seconds=offset),
                    "variant_seed": 0,
                    "steps_sent": 0,
                }
            )
            if len(batch) == 50_000:
                db.execute(TABLES["enrollment"].insert(), batch)
                batch = []
        if batch:
            db.execute(TABLES["enrollment"].insert(), batch)


def seed_outbox_history(engine: Engine, count: int, now: datetime) -> None:
    """`count` outbox rows: DUE_ROWS planned and due, 4% planned later, the rest sent."""
    rng = random.Random(8)
    with engine.begin() as db:
        batch: list[dict[str, Any]] = []
        for n in range(1, count + 1):
            due = n <= DUE_ROWS
            status = "planned" if due or rng.random() < 0.04 else "sent"
            offset = -rng.uniform(0, 3600) if due else rng.uniform(1, 30) * 86400
            if status == "sent":
                offset = -rng.uniform(1, 90) * 86400
            batch.append(
                {
                    "enrollment_id": 1 + n % 1000,
                    "prospect_id": 1 + n % 1000,
                    "step_id": f"s{n}",
                    "mailbox": "bench",
                    "message_id": f"<{n}@bench.example>",
                    "to_address": "x@x.example",
                    "subject": "s",
                    "raw": b"x",
                    "status": status,
                    "scheduled_at": now + timedelta(seconds=offset),
                    "send_before": now + timedelta(seconds=offset + 7200),
                    "attempts": 0,
                }
            )
            if len(batch) == 50_000:
                db.execute(TABLES["outbound_message"].insert(), batch)
                batch = []
        if batch:
            db.execute(TABLES["outbound_message"].insert(), batch)
        db.execute(sa.text("ANALYZE"))


def outbox_due_query(now: datetime, limit: int) -> sa.Select[Any]:
    outbox = TABLES["outbound_message"]
    return (
        sa.select(outbox.c.id)
        .where(
            outbox.c.status.in_(DUE_STATUSES),
            outbox.c.scheduled_at <= now,
            sa.or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now),
            sa.or_(outbox.c.claimed_by.is_(None), outbox.c.claimed_at < now),
        )
        .order_by(outbox.c.scheduled_at)
        .limit(limit)
    )


def timed_ms(run: Any, repeat: int = 30) -> float:
    run()  # warm the page cache
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def bench_due_queries(folder: Path, size: int) -> tuple[float, float]:
    now = datetime.now(UTC)
    _url, engine = database(folder, f"due-{size}.db")
    print(f"seeding {size:,} enrollments and {size:,} outbox rows ...", flush=True)
    seed_enrollments(engine, size, now)
    seed_outbox_history(engine, size, now)

    def enrollments() -> None:
        with DbSession(engine) as session:
            due_enrollment_ids(session, now, 500)

    def outbox() -> None:
        with engine.connect() as db:
            db.execute(outbox_due_query(now, 500)).all()

    enrollment_ms, outbox_ms = timed_ms(enrollments), timed_ms(outbox)
    print(f"  {size:>9,}: due enrollments {enrollment_ms:6.2f} ms")
    print(f"  {size:>9,}: due outbox      {outbox_ms:6.2f} ms")
    engine.dispose()
    return enrollment_ms, outbox_ms


def explain(folder: Path, size: int) -> list[str]:
    """SQLite's plans for both due queries, to show which index each one uses."""
    engine = make_engine(f"sqlite:///{folder / f'due-{size}.db'}")
    now = datetime.now(UTC)
    enrollment = TABLES["enrollment"]
    queries = [
        sa.select(enrollment.c.id)
        .where(enrollment.c.status == "active", enrollment.c.next_due_at <= now)
        .order_by(enrollment.c.next_due_at)
        .limit(500),
        outbox_due_query(now, 500),
    ]
    plans = []
    with engine.connect() as db:
        for query in queries:
            compiled = query.compile(engine, compile_kwargs={"render_postcompile": True})
            rows = db.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + str(compiled),
                tuple(sqlite_value(compiled.params[name]) for name in compiled.positiontup or []),
            ).all()
            plans.append(" | ".join(str(r[-1]) for r in rows))
    engine.dispose()
    return plans


def sqlite_value(value: Any) -> Any:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=MAX_DAILY_CAP)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--slice", type=int, default=500, help="messages per turn of each path")
    parser.add_argument(
        "--sink-on-loop",
        action="store_true",
        help="run the SMTP sink on the benchmark's own event loop, not in a process of its own",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="spear-bench-") as tmp:
        folder = Path(tmp)
        asyncio.run(bench_sending(folder, args.messages, args.slice, args.sink_on_loop))
        print("time to find due work (median of 30, LIMIT 500):")
        small = bench_due_queries(folder, args.small)
        big = bench_due_queries(folder, args.big)
        enrollment_plan, outbox_plan = explain(folder, args.big)
        print(f"  enrollment plan: {enrollment_plan}")
        print(f"  outbox plan:     {outbox_plan}")
        for what, a, b in (("enrollments", small[0], big[0]), ("outbox", small[1], big[1])):
            verdict = "ok" if b < 50 and b <= 3 * max(a, 0.01) else "MISSED"
            print(
                f"  {what}: {args.big:,} / {args.small:,} = {b / a:5.2f}x, "
                f"{b:.2f} ms (target < 50 ms and <= 3x): {verdict}"
            )


if __name__ == "__main__":
    main()
