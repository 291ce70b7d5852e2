"""Stages, grades and buyer roles: the pure rules, and `spear account stage|grade|history|undo`,
`spear prospect role` and `enroll --stage/--grade` on a folder made like a user's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session, col, select

from engine.basics.segments import SegmentFilter
from engine.basics.stages import at_least, parse_stage, suggested_grade
from engine.cli import main
from engine.prospects.segments import matches
from engine.store.db import make_engine, upgrade
from engine.store.models import (
    Account,
    AccountGrade,
    AccountStage,
    BuyerRole,
    Enrollment,
    InboundMessage,
    Prospect,
)

EB, UB, TB = BuyerRole.ECONOMIC, BuyerRole.USER, BuyerRole.TECHNICAL


@pytest.mark.parametrize(
    ("contacted", "engaged", "stage", "grade"),
    [
        (set(), set(), AccountStage.OPPORTUNITY, None),
        ({EB}, set(), AccountStage.OPPORTUNITY, AccountGrade.D),
        ({EB}, {EB}, AccountStage.OPPORTUNITY, AccountGrade.D),  # engaged, nothing confirmed
        ({EB}, {EB}, AccountStage.TARGET_IDENTIFIED, AccountGrade.C),
        ({EB, UB}, {EB, UB}, AccountStage.TARGET_IDENTIFIED, AccountGrade.C),
        ({EB, UB}, {EB, UB}, AccountStage.DEMO, AccountGrade.B),
        ({EB, UB, TB}, {EB, UB, TB}, AccountStage.KEY_PEOPLE, AccountGrade.B),
        ({EB, UB, TB}, {EB, UB, TB}, AccountStage.NEGOTIATION, AccountGrade.A),
        ({EB, UB, TB}, {EB, UB, TB}, AccountStage.WON, AccountGrade.A),
        ({EB, UB, TB}, {EB, UB, TB}, AccountStage.LOST, None),
    ],
)
def test_suggested_grade_follows_the_roles_engaged_and_the_stage(
    contacted: set[BuyerRole],
    engaged: set[BuyerRole],
    stage: AccountStage,
    grade: AccountGrade | None,
) -> None:
    assert suggested_grade(contacted, engaged, stage) is grade


def test_a_hand_off_raises_the_stage_but_never_lowers_it() -> None:
    floor = AccountStage.TARGET_IDENTIFIED
    assert at_least(AccountStage.OPPORTUNITY, floor) is floor
    assert at_least(AccountStage.LOST, floor) is floor  # a lost account's new lead reopens it
    assert at_least(AccountStage.NEGOTIATION, floor) is AccountStage.NEGOTIATION


def test_stages_are_named_by_code_or_name() -> None:
    assert parse_stage("Demo and support") is AccountStage.DEMO
    assert parse_stage("key_people") is AccountStage.KEY_PEOPLE
    assert parse_stage("TARGET identified") is AccountStage.TARGET_IDENTIFIED
    with pytest.raises(ValueError, match="unknown stage 'closing'"):
        parse_stage("closing")


def test_segments_filter_on_stage_and_grade() -> None:
    account = Account(domain="acme.example", stage=AccountStage.DEMO, grade=AccountGrade.B)
    person = Prospect(email="pat@acme.example")
    assert matches(SegmentFilter.model_validate({"stage": "demo"}), person, account)
    assert matches(SegmentFilter.model_validate({"grade": ["a", "b"]}), person, account)
    assert not matches(SegmentFilter.model_validate({"grade": "C"}), person, account)
    assert not matches(SegmentFilter.model_validate({"stage": ["won"]}), person, None)


CONFIG = """\
database: sqlite:///spear.db
timezone: UTC
mailboxes:
  - name: sales
    address: rep@spear.example
    smtp: {host: 127.0.0.1, port: 2525, tls: none}
"""
CADENCE = """\
name: ask
audience: {one_per_account: false, filter: {}}
schedule: {timezone: UTC, windows: ["07:00-09:00"], weekdays: [mon, tue, wed, thu, fri, sat, sun]}
steps:
  - {id: first, subject: Hello, template: ask-1}
"""
PROSPECTS = (
    "Email,First Name,Title,Company\n"
    "ann@acme.com,Ann,CEO,Acme\n"
    "bea@acme.com,Bea,VP Sales,Acme\n"
    "eve@beta.io,Eve,CEO,Beta\n"
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "spear.yaml").write_text(CONFIG)
    (tmp_path / "cadences").mkdir()
    (tmp_path / "templates").mkdir()
    (tmp_path / "cadences" / "ask.yaml").write_text(CADENCE)
    (tmp_path / "templates" / "ask-1.txt.j2").write_text("Hi {{ prospect.first_name }}, who?\n")
    (tmp_path / "p.csv").write_text(PROSPECTS)
    upgrade(f"sqlite:///{tmp_path / 'spear.db'}")
    return tmp_path


def spear(folder: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, ["--config", str(folder / "spear.yaml"), *args])
    assert result.exit_code == code, result.output
    return result.output


def test_stage_grade_and_roles_by_hand_with_history_and_undo(folder: Path) -> None:
    spear(folder, "import", str(folder / "p.csv"))
    assert spear(folder, "account", "stage", "ACME.com", "demo and support", "--by", "kim") == (
        "acme.com: stage opportunity -> demo\n"
    )
    spear(
        folder, "account", "stage", "acme.com", "negotiation", "--deal-size", "80000", "--by", "kim"
    )
    spear(folder, "prospect", "role", "ann@acme.com", "eb", "--by", "sam")
    spear(folder, "prospect", "role", "bea@acme.com", "UB", "--by", "sam")
    assert spear(folder, "account", "grade", "acme.com", "b", "--by", "kim").startswith(
        "acme.com: grade B"
    )
    assert "unknown stage" in spear(folder, "account", "stage", "acme.com", "closing", code=2)

    # Ann and Bea replied with interest: two key people engaged, at negotiation -> B suggested.
    engine = make_engine(f"sqlite:///{folder / 'spear.db'}")
    with Session(engine) as db:
        wanted = ["ann@acme.com", "bea@acme.com"]
        people = db.exec(select(Prospect).where(col(Prospect.email).in_(wanted))).all()
        for uid, prospect in enumerate(people, start=1):
            reply = InboundMessage(
                mailbox="sales", uid=uid, raw=b"", prospect_id=prospect.id, label="interest"
            )
            db.add(reply)
        db.commit()
    shown = spear(folder, "account", "show", "acme.com")
    assert "stage negotiation, grade B (suggested B), owner -" in shown
    assert "roles: eb ann@acme.com, ub bea@acme.com" in shown
    sales = json.loads(spear(folder, "account", "show", "acme.com", "--json"))["sales"]
    assert sales["engaged"] == ["eb", "ub"] and sales["deal_size"] == 80000

    history = spear(folder, "account", "history", "acme.com").splitlines()
    assert [line.split(" ", 2)[2] for line in history] == [
        "kim: stage opportunity -> demo and support",
        "kim: stage demo and support -> negotiation, deal size 80,000",
        "sam: ann@acme.com: role - -> eb",
        "sam: bea@acme.com: role - -> ub",
        "kim: grade - -> B",
    ]

    assert spear(folder, "account", "undo", "acme.com").startswith("undone: account.grade")
    spear(folder, "account", "undo", "acme.com")  # Bea's role
    with Session(engine) as db:
        account = db.exec(select(Account).where(Account.domain == "acme.com")).one()
        bea = db.exec(select(Prospect).where(Prospect.email == "bea@acme.com")).one()
        assert (account.grade, account.stage, bea.buyer_role) == (
            None,
            AccountStage.NEGOTIATION,
            None,
        )
    assert spear(folder, "account", "history", "acme.com").count("(undone)") == 2
    exported = json.loads(spear(folder, "export", "ann@acme.com"))
    assert [e["kind"] for e in exported["events"]] == ["prospect.role"]

    # enroll narrows to accounts at a stage or grade.
    spear(folder, "account", "grade", "beta.io", "c")
    out = spear(folder, "enroll", "ask", "--grade", "C", "--dry-run", "--verbose")
    assert "Would enrol 1 in ask" in out and "eve@beta.io" in out
    out = spear(folder, "enroll", "ask", "--stage", "negotiation")
    assert "Enrolled 0 in ask; 2 excluded.\n  excluded 2: replied" in out  # Ann and Bea replied
    out = spear(folder, "enroll", "ask", "--stage", "negotiation", "--again")  # a person means it
    assert "Enrolled 2 in ask" in out
    with Session(engine) as db:
        assert len(db.exec(select(Enrollment)).all()) == 2
