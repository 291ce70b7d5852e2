"""PostgreSQL parity for the everyday path: import, one `spear enroll`, `spear run --once`.

Real imported prospects, enrolled by the command users run: their variant seeds are unsigned
32-bit numbers, about half of them beyond a signed INTEGER, so every one must fit the column.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.smtp import SMTP, Envelope, Session

from engine.store.db import make_engine

from .conftest import smtp_sink

pytestmark = pytest.mark.postgres

COUNT = 40
# Tuesday 24 November 2026, 07:30 in New York: inside the play's morning window.
IN_WINDOW = "2026-11-24T12:30:00"


class Sink:
    def __init__(self) -> None:
        self.recipients: list[str] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await asyncio.sleep(0)
        self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler = Sink()
    with smtp_sink(handler) as port:
        yield handler, port


def spear(workdir: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "engine", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout + result.stderr


def test_forty_imported_prospects_enrol_plan_and_send_on_postgres(
    tmp_path: Path, postgres_url: str, sink: tuple[Sink, int]
) -> None:
    handler, port = sink
    spear(tmp_path, "init", ".")
    (tmp_path / "spear.yaml").write_text(
        f"""\
database: {postgres_url}
timezone: America/New_York
mailboxes:
  - name: alex
    address: alex@example-sender.com
    smtp: {{host: 127.0.0.1, port: {port}, tls: none, timeout: 10}}
    daily_cap: 100
    hourly_cap: 100
    min_gap_seconds: 0
    jitter_seconds: 0
segments:
  executives: {{seniority: [c-level, vp, director]}}
"""
    )
    rows = [
        f"person{i}@company{i}.example,Pat,Lee{i},VP Sales,Company {i},America/New_York,US"
        for i in range(COUNT)
    ]
    (tmp_path / "prospects.csv").write_text(
        "email,first_name,last_name,title,company,timezone,country\n" + "\n".join(rows) + "\n"
    )
    spear(tmp_path, "db", "upgrade")
    assert f"{COUNT} imported" in spear(tmp_path, "import", "prospects.csv")
    out = spear(tmp_path, "enroll", "referral-ask", "--start", "2026-11-24T12:00:00")
    assert f"Enrolled {COUNT} in referral-ask; 0 excluded." in out
    spear(tmp_path, "run", "--once", "--now", IN_WINDOW)

    engine = make_engine(postgres_url)
    with engine.connect() as db:
        seeds = list(db.scalars(sa.text("SELECT variant_seed FROM enrollment")))
        statuses = dict(
            db.execute(
                sa.text("SELECT status, count(*) FROM outbound_message GROUP BY status")
            ).all()
        )
    engine.dispose()
    assert len(seeds) == COUNT and any(seed >= 2**31 for seed in seeds)
    assert sum(statuses.values()) == COUNT, statuses
    assert statuses.get("sent", 0) >= 1 and set(statuses) <= {"planned", "sent"}, statuses
    assert len(handler.recipients) == statuses["sent"]
    # Enrolling again takes nobody: they are all in the cadence now.
    again = spear(tmp_path, "enroll", "referral-ask", "--dry-run")
    assert f"Would enrol 0 in referral-ask; {COUNT} excluded." in again
