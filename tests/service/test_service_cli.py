"""`spear status` and `spear report` from the command line, on a real configuration and database."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.engine import Engine

from engine.cli.context import AppContext
from engine.cli.service import commands, report, status
from engine.store.db import make_engine, session_scope
from engine.store.models import (
    Enrollment,
    InboundMessage,
    InboundStatus,
    OutboundMessage,
    OutboundStatus,
    Prospect,
)


@pytest.fixture
def config_file(tmp_path: Path, sqlite_url: str) -> str:
    path = tmp_path / "spear.yaml"
    path.write_text(
        f"database: {sqlite_url}\n"
        "mailboxes:\n"
        "  - name: alice\n"
        "    address: alice@example.com\n"
        "    daily_cap: 40\n"
        "    smtp: {host: 127.0.0.1, port: 2525, tls: none}\n"
        "deal_size: 20000\n"
    )
    engine = make_engine(sqlite_url)
    populate(engine)
    engine.dispose()
    return str(path)


def populate(engine: Engine) -> None:
    sent_at = datetime(2025, 3, 4, 8, tzinfo=UTC)
    with session_scope(engine) as session:
        prospect = Prospect(email="p@example.org")
        session.add(prospect)
        session.flush()
        enrollment = Enrollment(prospect_id=prospect.id or 0, cadence="ceo", cadence_version="v")
        session.add(enrollment)
        session.flush()
        message = OutboundMessage(
            enrollment_id=enrollment.id or 0,
            prospect_id=prospect.id or 0,
            step_id="step1",
            mailbox="alice",
            message_id="<1@example.com>",
            to_address="p@example.org",
            subject="Who?",
            raw=b"",
            status=OutboundStatus.SENT,
            scheduled_at=sent_at,
            sent_at=sent_at,
        )
        session.add(message)
        session.flush()
        session.add(
            InboundMessage(
                mailbox="alice",
                raw=b"",
                prospect_id=prospect.id,
                outbound_id=message.id,
                label="interest",
                status=InboundStatus.REVIEW,
                received_at=datetime(2025, 3, 5, 9, tzinfo=UTC),
            )
        )


def run(command: object, config_file: str, *args: str) -> Result:
    result = CliRunner().invoke(command, list(args), obj=AppContext(config_file))  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output
    return result


def test_commands_are_exported() -> None:
    assert [c.name for c in commands] == ["status", "report"]


def test_status_text_and_json(config_file: str) -> None:
    text = run(status, config_file).output
    assert "review queue: 1 waiting for a person" in text
    assert "alice: active" in text
    document = json.loads(run(status, config_file, "--format", "json").output)
    older = json.loads(run(status, config_file, "--json").output)  # the older spelling
    assert older.keys() == document.keys() and older["sent_total"] == 1
    assert document["sent_total"] == 1
    assert document["review_queue"] == 1
    assert document["replies_by_label"] == {"interest": 1}
    assert document["mailboxes"][0]["daily_cap"] == 40


def test_report_formats(config_file: str) -> None:
    period = ("--since", "2025-03-03", "--until", "2025-03-09")
    table = run(report, config_file, *period).output
    assert "Funnel of messages sent 2025-03-03 to 2025-03-09" in table
    assert "20,000" in table  # the config's deal size

    rows = list(
        csv.reader(io.StringIO(run(report, config_file, *period, "--format", "csv").output))
    )
    assert rows[0][:4] == ["cadence", "step", "variant", "sent"]
    assert rows[1][:4] == ["ceo", "step1", "-", "1"]

    document = json.loads(
        run(
            report, config_file, *period, "--format", "json", "--by", "mailbox", "--deal-size", "7"
        ).output
    )
    assert document["rows"] == [
        {"mailbox": "alice", **document["total"]},
    ]
    assert document["total"]["interest"] == 1
    # The period counts from the first send (March 4th): six days, not seven.
    assert document["forecast"]["pipeline_per_month"] == pytest.approx(30 / 6 * 7)


def test_report_rejects_an_unknown_dimension(config_file: str) -> None:
    result = CliRunner().invoke(report, ["--by", "colour"], obj=AppContext(config_file))
    assert result.exit_code == 2  # a usage error
    assert "unknown report dimension colour" in result.output
