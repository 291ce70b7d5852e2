"""A dispatcher killed with SIGKILL mid-transaction and restarted sends nothing twice."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.engine import Engine

from .support import T0, Sink, seed_outbox, sink_in_thread, statuses

CHILD = Path(__file__).with_name("dispatch_child.py")
KILL_AT = 12  # the message during whose transaction the dispatcher dies


class StallingSink(Sink):
    """Receives message KILL_AT, then stalls before answering it: the moment to kill."""

    stall = threading.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        if len(self.messages) == KILL_AT and not self.stall.is_set():
            self.stall.set()
            await asyncio.sleep(5)
        return answer


def run_child(url: str, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), url, str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_killed_dispatcher_restarted_sends_nothing_twice(
    sqlite_url: str, db_engine: Engine
) -> None:
    ids = seed_outbox(db_engine, 30, scheduled_at=T0)
    sink = StallingSink()
    with sink_in_thread(sink) as port:
        first = run_child(sqlite_url, port)
        assert sink.stall.wait(15), first.communicate(timeout=5)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert first.returncode == -signal.SIGKILL

        second = run_child(sqlite_url, port)
        _out, err = second.communicate(timeout=30)
        assert second.returncode == 0, err.decode()

    received = Counter(sink.message_ids())
    assert received and max(received.values()) == 1, "a message was received twice"
    final = statuses(db_engine)
    assert set(final) == set(ids)
    assert Counter(final.values()) == {"sent": len(ids) - 1, "uncertain": 1}
    # The uncertain one is the message in flight at the kill; every sent one arrived once.
    assert len(received) == len(ids)
