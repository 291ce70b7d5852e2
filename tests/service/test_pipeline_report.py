"""The weighted pipeline and speed to lead: the arithmetic, and from a real hand-off (a call that
booked a meeting) to the executive's first stage, through the database and the report's output."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from engine.basics.outcomes import Outcome
from engine.basics.stages import DEFAULT_WIN_RATES
from engine.cli import main
from engine.prospects.sales import set_grade, set_stage
from engine.service.pipeline import (
    Deal,
    LeadWait,
    build_pipeline,
    deals,
    lead_waits,
    render_csv,
    render_table,
    speed_to_lead,
    to_dict,
)
from engine.store.db import upgrade
from engine.store.models import Account, AccountGrade, AccountStage
from engine.tasks.recording import record_outcome
from tests.tasks.support import EXECUTIVES, build

S = AccountStage
T = datetime(2025, 6, 3, 12, tzinfo=UTC)


def test_the_weighted_pipeline_by_stage_grade_and_owner() -> None:
    pipeline = build_pipeline(
        [
            Deal("a.example", S.TARGET_IDENTIFIED, "C", "ada", 50_000),
            Deal("b.example", S.NEGOTIATION, "A", "ada", 100_000),
            Deal("c.example", S.DEMO, "-", "unassigned", 20_000),
            Deal("d.example", S.LOST, "D", "ben", 10_000),
        ],
        DEFAULT_WIN_RATES,
    )
    by_stage = {row.key: row for row in pipeline.by_stage}
    assert [row.key for row in pipeline.by_stage] == [
        "opportunity",
        "target-identified",
        "demo",
        "key-people",
        "negotiation",
        "won",
        "paid",
        "lost",
    ]
    assert by_stage["negotiation"].weighted == pytest.approx(70_000)
    assert by_stage["target-identified"].win_rate == pytest.approx(0.10)
    assert by_stage["lost"].count == 1 and by_stage["lost"].weighted == 0
    assert pipeline.total.count == 4 and pipeline.total.deal_size == 180_000
    assert pipeline.total.weighted == pytest.approx(5_000 + 70_000 + 6_000)
    assert [(r.key, r.weighted) for r in pipeline.by_grade] == [
        ("A", pytest.approx(70_000)),
        ("C", pytest.approx(5_000)),
        ("D", 0),
        ("-", pytest.approx(6_000)),
    ]
    assert [(r.key, r.count) for r in pipeline.by_owner] == [
        ("ada", 2),
        ("ben", 1),
        ("unassigned", 1),
    ]


def test_speed_to_lead_against_the_target() -> None:
    waits = [
        LeadWait("a", "ada", T, T + timedelta(hours=1)),
        LeadWait("b", "ada", T, T + timedelta(hours=30)),
        LeadWait("c", "ben", T, None),
        LeadWait("d", "ben", T + timedelta(hours=47), None),
    ]
    speed = speed_to_lead(waits, 24, now=T + timedelta(hours=48))
    assert (speed.leads, speed.acted_on, speed.within_target) == (4, 2, 1)
    assert (speed.waiting, speed.overdue) == (2, 1)  # d has waited one hour only
    assert speed.median_hours == pytest.approx(15.5)
    assert speed.within_target_rate == pytest.approx(0.25)


def test_a_call_hand_off_and_the_executives_first_stage(db_engine: Engine) -> None:
    world = build(db_engine)
    world.planner.plan_due()
    called = datetime(2025, 6, 3, 11, 30, tzinfo=UTC)
    world.clock.set(called)
    with Session(db_engine, expire_on_commit=False) as db:
        record_outcome(db, 1, Outcome.TARGET, world.config, now=called, actor="robin")
        db.commit()
    with Session(db_engine, expire_on_commit=False) as db:
        account = db.exec(select(Account)).one()
        assert account.owner == EXECUTIVES[0] and account.stage is S.TARGET_IDENTIFIED
        set_stage(
            db, account, S.DEMO, now=called + timedelta(hours=3), actor="ada", deal_size=40_000
        )
        set_grade(db, account, AccountGrade.C, now=called + timedelta(hours=5), actor="ada")
        db.commit()
        pipeline = build_pipeline(deals(db, world.config), world.config.pipeline.win_rates)
        waits = lead_waits(db, called - timedelta(days=1), called + timedelta(days=1))
    speed = speed_to_lead(waits, world.config.pipeline.speed_to_lead_hours, called)
    assert [(r.key, r.count, r.weighted) for r in pipeline.by_stage if r.count] == [
        ("demo", 1, pytest.approx(12_000))
    ]
    assert [(r.key, r.deal_size) for r in pipeline.by_owner] == [(EXECUTIVES[0], 40_000)]
    assert [w.first_action_at for w in waits] == [called + timedelta(hours=3)]  # the first one
    assert (speed.leads, speed.within_target, speed.median_hours) == (1, 1, pytest.approx(3))

    document = to_dict(pipeline, speed)
    assert document["speed_to_lead"]["within_target_rate"] == 1.0
    table = render_table(pipeline, speed)
    assert "demo" in table and "12,000" in table and "median hours to first action" in table
    rows = list(csv.reader(io.StringIO(render_csv(pipeline, speed))))
    assert ["demo", "1", "40000", "30%", "12000"] in rows


def test_spear_report_shows_the_pipeline_in_every_format(tmp_path: Path) -> None:
    (tmp_path / "spear.yaml").write_text(
        "database: sqlite:///spear.db\n"
        "deal_size: 10000\n"
        "pipeline: {win_rates: {demo: 0.25}, deal_sizes: {A: 90000}, speed_to_lead_hours: 4}\n"
    )
    (tmp_path / "p.csv").write_text("Email,Company\nann@acme.com,Acme\nbo@beta.io,Beta\n")
    upgrade(f"sqlite:///{tmp_path / 'spear.db'}")

    def spear(*args: str) -> str:
        result = CliRunner().invoke(main, ["--config", str(tmp_path / "spear.yaml"), *args])
        assert result.exit_code == 0, result.output
        return result.output

    spear("import", str(tmp_path / "p.csv"))
    spear("account", "stage", "acme.com", "demo")
    spear("account", "stage", "beta.io", "negotiation")
    spear("account", "grade", "beta.io", "A")
    document = json.loads(spear("report", "--format", "json"))
    by_stage = {row["key"]: row for row in document["pipeline"]["by_stage"]}
    assert by_stage["demo"]["weighted"] == pytest.approx(2_500)  # the team's rate
    assert by_stage["negotiation"]["deal_size"] == 90_000  # grade A's deal size
    assert document["speed_to_lead"]["target_hours"] == 4
    assert "rows" in document and "forecast" in document  # the funnel is still there
    assert "Weighted pipeline" in spear("report")
    assert "speed to lead,value" in spear("report", "--format", "csv")
