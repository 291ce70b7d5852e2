"""`spear tasks` and `spear task done|undo|outcomes` on a folder made like a user's."""

from __future__ import annotations

import json
import random
from pathlib import Path

from click.testing import CliRunner
from sqlmodel import Session, select

from engine.cli import main
from engine.clock import FixedClock
from engine.config import load_config
from engine.sending.planner import Planner
from engine.store.db import make_engine, upgrade
from engine.store.models import Enrollment, EnrollmentStatus, Prospect

from .support import CADENCE, T0, TEMPLATES

CONFIG = """\
database: sqlite:///spear.db
timezone: America/New_York
mailboxes:
  - name: robin
    address: robin@spear.example
    owner: robin
    smtp: {host: 127.0.0.1, port: 2525, tls: none}
tasks:
  outcome_names: {"N/A": "no pickup", "C target": "meeting"}
"""
PROSPECTS = (
    "Email,First Name,Company,Phone,LinkedIn,Time Zone\n"
    "pat@acme.example,Pat,Acme,+1 212 555 0100,https://www.linkedin.com/in/pat-example,"
    "America/New_York\n"
)


def run(folder: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, ["--config", str(folder / "spear.yaml"), *args])
    assert result.exit_code == code, result.output
    return result.output


def test_a_rep_lists_todays_calls_and_records_outcomes(tmp_path: Path) -> None:
    (tmp_path / "spear.yaml").write_text(CONFIG)
    (tmp_path / "cadences").mkdir()
    (tmp_path / "templates").mkdir()
    (tmp_path / "cadences" / "call-first.yaml").write_text(CADENCE.replace("ON_OUTCOME", ""))
    for name, text in TEMPLATES.items():
        (tmp_path / "templates" / f"{name}.txt.j2").write_text(text)
    (tmp_path / "p.csv").write_text(PROSPECTS)
    upgrade(f"sqlite:///{tmp_path / 'spear.db'}")
    run(tmp_path, "cadence", "check")
    run(tmp_path, "import", str(tmp_path / "p.csv"))
    run(tmp_path, "enroll", "call-first", "--prospect", "pat@acme.example", "--start", "2025-06-03")
    engine = make_engine(f"sqlite:///{tmp_path / 'spear.db'}")
    Planner(
        engine, load_config(tmp_path / "spear.yaml"), FixedClock(T0), random.Random(1)
    ).plan_due()

    listed = run(tmp_path, "tasks", "--owner", "robin", "--date", "2025-06-03")
    assert "#1 call Tue 2025-06-03 07:" in listed
    assert "Call Pat on +1 212 555 0100." in listed
    assert "linkedin.com/in/pat-example" in listed
    assert run(tmp_path, "tasks", "--owner", "sam", "--date", "2025-06-03").strip() == "0 tasks"
    [item] = json.loads(run(tmp_path, "tasks", "--format", "json", "--date", "2025-06-03"))
    assert item["kind"] == "call" and item["owner"] == "robin"

    assert "tasks due: 1 (spear tasks)" in run(tmp_path, "status")
    assert "Also 1 task due: spear tasks" in run(tmp_path, "queue")  # the rep's other queue

    outcomes = run(tmp_path, "task", "outcomes")
    assert "no pickup" in outcomes and "meeting" in outcomes and "W/N" in outcomes

    # The team's name for N/A is accepted, and so is the code; an unknown one is a usage error.
    assert "unknown outcome" in run(tmp_path, "task", "done", "1", "--outcome", "maybe", code=2)
    line = run(tmp_path, "task", "done", "1", "--outcome", "no pickup", "--note", "voicemail")
    assert line.startswith("task 1: no pickup -> continue; enrollment active, next step due")
    assert "spear task undo 1" in run(tmp_path, "task", "done", "1", "--outcome", "r/j", code=1)
    assert "outcome undone" in run(tmp_path, "task", "undo", "1")
    line = run(tmp_path, "task", "done", "1", "--outcome", "rejected")
    assert "-> stop; enrollment stopped" in line
    with Session(engine) as db:
        enrollment = db.exec(select(Enrollment)).one()
        assert enrollment.status is EnrollmentStatus.STOPPED
        assert db.exec(select(Prospect)).one().phone == "+1 212 555 0100"
    exported = json.loads(run(tmp_path, "export", "pat@acme.example"))
    assert [t["outcome"] for t in exported["tasks"]] == ["rejected"]
    assert {"task.planned", "task.done"} <= {e["kind"] for e in exported["events"]}
    run(tmp_path, "forget", "pat@acme.example", "--yes")
    assert run(tmp_path, "tasks", "--all", "--date", "2025-06-03").strip() == "0 tasks"
