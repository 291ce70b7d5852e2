"""Benchmark: sync and classify a folder of generated replies from a local IMAP server, and the
cost of an idle poll (nothing new).

    .venv/bin/python scripts/bench_poll.py [--messages 10000]

Runs pymap's in-memory server (`pymap dict`, a subprocess on a loopback port) and a temporary
SQLite database. Not the mail harness: pymap's Maildir backend re-reads the whole folder index
for every message it serves, so a 10,000-message folder would measure pymap, not Spear.

Prints three figures: fetching alone (a handler that does nothing), the full intake
(store raw, classify, match, act: what `spear poll` does), and an idle poll on a connected syncer
and with a fresh connection.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aioimaplib
from sqlalchemy.engine import Engine

from engine.clock import SystemClock
from engine.config import ImapSettings, Secret, TlsMode
from engine.harness.ports import free_port
from engine.replies.actions import ReplySettings
from engine.replies.imap import ImapSyncer
from engine.replies.intake import FetchedMessage, Intake
from engine.store.db import make_engine, upgrade

USER = "alex@example-sender.com"
PASSWORD = "bench-password"
BODIES = (
    "Thanks, but we are not interested.",
    "Please talk to Jane Smith (jane.smith@acme{n}.example), she owns this.",
    "Not right now, get back to me in 3 months.",
    "Sounds interesting, can we set up a call next week?",
    "Please remove me from your list.",
    "Hmm.",
)


def generated(number: int) -> bytes:
    body = BODIES[number % len(BODIES)].format(n=number)
    return (
        f"From: Person {number} <person{number}@acme{number}.example>\r\nTo: {USER}\r\n"
        f"Subject: Re: Quick question\r\nMessage-ID: <bench-{number}@acme.example>\r\n"
        f"In-Reply-To: <outreach-{number}@example-sender.com>\r\n"
        f"Date: Tue, 02 Jun 2026 10:00:00 +0000\r\n\r\nHi Alex,\r\n\r\n{body}\r\n\r\n"
        f"Person {number}\r\n\r\n> Hi, who looks after sales tooling at your company?\r\n"
    ).encode()


async def bench(count: int) -> None:
    clock = SystemClock()
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "pymap"),
            "--port",
            str(port),
            "--no-tls",
            "dict",
            "--demo-data",
            "--demo-user",
            USER,
            "--demo-password",
            PASSWORD,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            upgrade(url)
            engine = make_engine(url)
            settings = ImapSettings(
                host="127.0.0.1",
                port=port,
                tls=TlsMode.NONE,
                user=USER,
                password=Secret(PASSWORD),
                timeout=120,
            )
            await _fill(settings, count)
            await _measure(settings, engine, clock)
            engine.dispose()
    finally:
        server.terminate()
        server.wait(10)


async def _fill(settings: ImapSettings, count: int) -> None:
    started = time.perf_counter()
    while True:
        try:
            client = aioimaplib.IMAP4(host=settings.host, port=settings.port, timeout=60)
            await client.wait_hello_from_server()
            break
        except OSError:
            await asyncio.sleep(0.1)
    await client.login(USER, PASSWORD)
    for number in range(count):
        await client.append(generated(number), mailbox="INBOX")
    await client.logout()
    print(f"appended {count} messages in {time.perf_counter() - started:.1f}s")


async def _measure(settings: ImapSettings, engine: Engine, clock: SystemClock) -> None:
    fetched = 0

    async def count_only(_message: FetchedMessage) -> None:
        nonlocal fetched
        fetched += 1

    fetch_only = ImapSyncer("fetch-only", settings, engine, count_only, clock=clock)
    started = time.perf_counter()
    await fetch_only.sync_once()
    seconds = time.perf_counter() - started
    print(f"fetch only:   {fetched} messages in {seconds:.1f}s = {fetched / seconds:.0f}/s")

    intake = Intake(engine, ReplySettings(), clock)
    full = ImapSyncer("alex", settings, engine, intake, clock=clock)
    started = time.perf_counter()
    result = await full.sync_once()
    seconds = time.perf_counter() - started
    print(
        f"full intake:  {result.fetched} messages in {seconds:.1f}s = "
        f"{result.fetched / seconds:.0f}/s (stored {intake.stored}, raw + classify + act)"
    )

    await full.connect()
    rounds = 50
    started = time.perf_counter()
    for _ in range(rounds):
        await full.sync_folders()
    connected = (time.perf_counter() - started) / rounds * 1000
    await full.close()
    started = time.perf_counter()
    for _ in range(5):
        await full.sync_once()
    fresh = (time.perf_counter() - started) / 5 * 1000
    print(f"idle poll:    {connected:.1f} ms connected, {fresh:.1f} ms newly connected")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(bench(args.messages))


if __name__ == "__main__":
    main()
