"""`spear account list|show|pause|resume|status` end to end, and what the planner does after."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from engine.cadences.loader import parse_cadence
from engine.cli import main
from engine.clock import FixedClock, SystemClock, utc
from engine.config import Config, load_config
from engine.prospects.account_control import find_account, pause_by_hand, resume_account
from engine.prospects.enrollment import enroll
from engine.prospects.pauses import pause_account
from engine.sending.planner import Planner
from engine.store.db import make_engine, session_scope, upgrade
from engine.store.models import (
    Account,
    AccountStatus,
    Enrollment,
    EnrollmentStatus,
    Event,
    OutboundMessage,
    OutboundStatus,
    Prospect,
)

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
audience: {one_per_account: false}
schedule: {timezone: UTC, windows: ["07:00-09:00"], weekdays: [mon, tue, wed, thu, fri, sat, sun]}
steps:
  - {id: first, subject: Hello, template: ask-1}
  - {id: bump, wait: 2 days, template: ask-2}
"""
PROSPECTS = (
    "Email,First Name,Title,Company\n"
    "ann@acme.com,Ann,CEO,Acme\n"
    "bea@acme.com,Bea,VP Sales,Acme\n"
    "cal@acme.com,Cal,CFO,Acme\n"
    "dee@acme.com,Dee,CTO,Acme\n"
    "eve@beta.io,Eve,CEO,Beta\n"
)

Spear = Callable[..., str]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "spear.yaml").write_text(CONFIG)
    (tmp_path / "cadences").mkdir()
    (tmp_path / "templates").mkdir()
    (tmp_path / "cadences" / "ask.yaml").write_text(CADENCE)
    (tmp_path / "templates" / "ask-1.txt.j2").write_text("Hi {{ prospect.first_name }}, who?\n")
    (tmp_path / "templates" / "ask-2.txt.j2").write_text("Any pointer?\n")
    (tmp_path / "p.csv").write_text(PROSPECTS)
    upgrade(f"sqlite:///{tmp_path / 'spear.db'}")
    return tmp_path


@pytest.fixture
def spear(folder: Path) -> Spear:
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(main, ["--config", str(folder / "spear.yaml"), *args])
        assert result.exit_code == code, result.output
        return result.output

    return run


@pytest.fixture
def engine(folder: Path) -> Engine:
    return make_engine(f"sqlite:///{folder / 'spear.db'}")


def enrollments(engine: Engine) -> dict[str, Enrollment]:
    """Each prospect's enrollment in `ask`, by address."""
    with Session(engine) as session:
        rows = session.exec(
            select(Prospect.email, Enrollment).join(
                Enrollment, col(Enrollment.prospect_id) == col(Prospect.id)
            )
        ).all()
    return {email: enrollment for email, enrollment in rows}


def events(engine: Engine, kind: str) -> list[Event]:
    with Session(engine) as session:
        return list(session.exec(select(Event).where(Event.kind == kind)).all())


def test_resume_restores_exactly_what_the_account_pause_paused(
    spear: Spear, folder: Path, engine: Engine
) -> None:
    spear("import", str(folder / "p.csv"))
    everyone = [f"{name}@acme.com" for name in ("ann", "bea", "cal", "dee")] + ["eve@beta.io"]
    assert "Enrolled 5 in ask" in spear("enroll", "ask", *[f"--prospect={e}" for e in everyone])
    now = SystemClock().now()
    with session_scope(engine) as session:
        acme = find_account(session, "acme.com")
        by_email = {
            p.email: p for p in session.exec(select(Prospect).where(Prospect.account_id == acme.id))
        }
        rows = {e.prospect_id: e for e in session.exec(select(Enrollment))}
        # Dee's first step could not be rendered: the planner parked it, for another reason.
        dee = rows[by_email["dee@acme.com"].id or 0]
        dee.status = EnrollmentStatus.PAUSED
        dee.stop_reason = "step first cannot be rendered: 'x' is undefined"
        session.add(dee)
        # Ann replies: her own action stops her; the account pause holds Bea and Cal.
        ann = rows[by_email["ann@acme.com"].id or 0]
        ann.status = EnrollmentStatus.STOPPED
        ann.stop_reason = "replied: interest"
        session.add(ann)
        paused = pause_account(session, acme.id or 0, by_email["ann@acme.com"].id, now)
    before = enrollments(engine)
    assert sorted(paused) == sorted([before["bea@acme.com"].id, before["cal@acme.com"].id])

    listed = spear("account", "list", "--paused").splitlines()
    assert listed == [
        "acme.com (Acme): prospecting, PAUSED, 4 contacts, enrollments 0 active, 3 paused",
        "1 account",
    ]
    shown = spear("account", "show", "ACME.com")
    assert "ann@acme.com | Ann | CEO\n    #1 ask: stopped (replied: interest), 0 sent" in shown
    replier = before["ann@acme.com"].prospect_id
    assert f"ask: paused (account paused: reply from prospect {replier})" in shown
    assert "ask: paused (step first cannot be rendered" in shown

    assert spear("account", "resume", "https://www.Acme.com/") == (
        "acme.com: resumed; 2 enrollments active again\n"
    )
    after = enrollments(engine)
    assert {email: e.status for email, e in after.items()} == {
        "ann@acme.com": EnrollmentStatus.STOPPED,
        "bea@acme.com": EnrollmentStatus.ACTIVE,
        "cal@acme.com": EnrollmentStatus.ACTIVE,
        "dee@acme.com": EnrollmentStatus.PAUSED,  # still parked: not the account's pause
        "eve@beta.io": EnrollmentStatus.ACTIVE,
    }
    assert after["bea@acme.com"].stop_reason is None
    assert after["dee@acme.com"].stop_reason == dee.stop_reason
    [resumed] = events(engine, "account-resumed")
    assert resumed.actor == "cli"
    assert sorted(resumed.data["enrollments"]) == sorted(paused)
    with Session(engine) as session:
        assert not find_account(session, "acme.com").paused

    assert spear("account", "resume", "acme.com") == "acme.com: not paused; nothing changed\n"
    assert len(events(engine, "account-resumed")) == 1

    # By hand: every active enrollment waits, and resuming brings back those and only those.
    assert spear("account", "pause", "acme.com", "--reason", "AE on it") == (
        "acme.com: paused; 2 enrollments paused\n"
    )
    held = enrollments(engine)
    assert held["bea@acme.com"].stop_reason == "account paused: by hand: AE on it"
    assert held["eve@beta.io"].status is EnrollmentStatus.ACTIVE
    assert spear("account", "pause", "acme.com") == "acme.com: already paused; nothing changed\n"
    assert "acme.com: resumed; 2 enrollments active again" in spear("account", "resume", "acme.com")
    assert enrollments(engine)["dee@acme.com"].status is EnrollmentStatus.PAUSED


def test_dead_account_stops_enrollments_cancels_the_outbox_and_is_never_enrolled(
    spear: Spear, folder: Path, engine: Engine
) -> None:
    spear("import", str(folder / "p.csv"))
    spear("enroll", "ask", "--prospect", "ann@acme.com", "--prospect", "bea@acme.com")
    spear("enroll", "ask", "--prospect", "eve@beta.io")
    stats = Planner(engine, load_config(folder / "spear.yaml"), SystemClock()).plan_due()
    assert stats.planned == 3

    out = spear("account", "status", "Acme.com", "dead", "--reason", "went bust")
    assert out == (
        "acme.com: prospecting -> dead (went bust); 2 enrollments stopped, "
        "2 waiting messages cancelled\n"
    )
    with Session(engine) as session:
        acme = find_account(session, "acme.com")
        assert (acme.status, acme.status_reason) == (AccountStatus.DEAD, "went bust")
        outbox = {r.to_address: r for r in session.exec(select(OutboundMessage))}
    assert outbox["ann@acme.com"].status is OutboundStatus.CANCELLED
    assert outbox["ann@acme.com"].error == "account is dead: went bust"
    assert outbox["eve@beta.io"].status is OutboundStatus.PLANNED  # another account
    stopped = enrollments(engine)
    assert stopped["bea@acme.com"].status is EnrollmentStatus.STOPPED
    assert stopped["bea@acme.com"].stop_reason == "account is dead: went bust"
    [event] = events(engine, "account-status")
    assert (event.data["from"], event.data["to"], event.actor) == ("prospecting", "dead", "cli")
    assert len(event.data["outbound_cancelled"]) == 2

    plan = spear("enroll", "ask", "--prospect", "cal@acme.com", "--prospect", "ann@acme.com")
    assert "Enrolled 0 in ask; 2 excluded." in plan
    assert "cal@acme.com: account-ruled-out: account acme.com is dead (went bust)" in plan

    dead = json.loads(spear("account", "list", "--status", "DEAD", "--json"))
    assert [(a["domain"], a["active_enrollments"], a["contacts"]) for a in dead] == [
        ("acme.com", 0, 4)
    ]
    shown = json.loads(spear("account", "show", "acme.com", "--json"))
    assert shown["summary"]["status_reason"] == "went bust"
    assert {c["email"]: len(c["enrollments"]) for c in shown["contacts"]}["ann@acme.com"] == 1

    # Another status by hand changes the status only.
    assert spear("account", "status", "beta.io", "engaged") == (
        "beta.io: prospecting -> engaged (set by hand)\n"
    )
    assert enrollments(engine)["eve@beta.io"].status is EnrollmentStatus.ACTIVE


def test_an_unknown_domain_is_one_line_and_exit_1(spear: Spear, folder: Path) -> None:
    spear("import", str(folder / "p.csv"))
    for command in (["show"], ["pause"], ["resume"], ["status", "--reason", "x"]):
        args = [*command, "NOPE.com"] + (["dead"] if command[0] == "status" else [])
        assert spear("account", *args, code=1) == "Error: no account with domain 'NOPE.com'\n"
    assert "'gone' is not one of" in spear("account", "status", "acme.com", "gone", code=2)
    listed = json.loads(spear("account", "list", "--json"))
    assert [a["domain"] for a in listed] == ["acme.com", "beta.io"]


# --- what the planner makes of resumed enrollments ----------------------------------------------


T0 = datetime(2025, 6, 3, 6, 0, tzinfo=UTC)
DAILY_CAP = 2


def planner_config(folder: Path) -> Config:
    path = folder / "capped.yaml"
    path.write_text(CONFIG.replace("    smtp:", f"    daily_cap: {DAILY_CAP}\n    smtp:"))
    return load_config(path)


def test_resumed_steps_are_planned_in_the_next_slots_under_the_caps(
    folder: Path, engine: Engine
) -> None:
    """Steps planned before the pause and cancelled during it come back; steps that fell due
    during it are planned; all at the next allowed slots, never more than the cap a day."""
    cadence = parse_cadence(
        CADENCE, "ask.yaml", {"ask-1": "Hi, who?\n", "ask-2": "Any pointer?\n"}.get
    )
    clock = FixedClock(T0)
    with session_scope(engine) as session:
        acme = Account(domain="acme.com", name="Acme", created_at=T0)
        session.add(acme)
        session.flush()
        people = [Prospect(email=f"p{n}@acme.com", account_id=acme.id) for n in range(5)]
        session.add_all(people)
        session.flush()
        enroll(session, cadence, people[:4], now=T0)
        # Due on the second day, when the account is paused: planned only after the resume.
        enroll(session, cadence, people[4:], now=T0, start=T0 + timedelta(days=1))
    planner = Planner(engine, planner_config(folder), clock)
    assert planner.plan_due().planned == 4  # two a day: today and tomorrow

    with session_scope(engine) as session:
        paused = pause_by_hand(session, find_account(session, "acme.com"), T0, "AE on it")
    assert len(paused.enrollments) == 5

    # Ten days pass: every planned row misses its window and is cancelled, as paused.
    clock.fast_forward(days=10)
    stats = planner.plan_due()
    assert (stats.cancelled, stats.planned) == (4, 0)

    resume_at = clock.now()
    with session_scope(engine) as session:
        resumed = resume_account(session, find_account(session, "acme.com"), resume_at)
    assert (len(resumed.enrollments), len(resumed.revived)) == (5, 4)

    stats = planner.plan_due()
    assert (stats.reslotted, stats.planned) == (4, 1)
    with Session(engine) as session:
        rows = session.exec(select(OutboundMessage)).all()
    assert [r.step_id for r in rows] == ["first"] * 5  # each first step once, none skipped
    assert {r.status for r in rows} == {OutboundStatus.PLANNED}
    slots = sorted(utc(r.scheduled_at) for r in rows if r.scheduled_at is not None)
    assert all(slot >= resume_at and 7 <= slot.hour < 9 for slot in slots)
    per_day = Counter(slot.date() for slot in slots)
    assert max(per_day.values()) == DAILY_CAP and sum(per_day.values()) == 5
    assert min(per_day) == resume_at.date()  # resumed at 06:00: that morning's window
