"""Templates and configuration are bounded: a runaway template, a wait of ages or an infinite gap
fails `cadence check` or start-up with file and line, and never hangs or stops the planner."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from engine.cadences.loader import parse_cadence
from engine.cli import main
from engine.clock import FixedClock
from engine.config import load_config
from engine.errors import ConfigError
from engine.prospects.enrollment import enroll
from engine.sending.planner import Planner
from engine.store.models import Account, Enrollment, EnrollmentStatus, OutboundMessage, Prospect
from tests.sending.support import T0, two_mailboxes


def check(folder: Path) -> Result:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.delenv("SPEAR_CONFIG", raising=False)
        return CliRunner().invoke(main, ["cadence", "check", "cadences/"])


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.mark.parametrize(
    ("runaway", "why"),
    [
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}.{% endfor %}{% endfor %}",
            "loops ran over",
        ),
        ("{% for a in 'x' * 90000 %}{% for b in 'x' * 90000 %}{% endfor %}{% endfor %}", "loops"),
        ("{{ 'x' * 10**8 }}", "a value over 100000 characters"),
        ("{{ 'x'.ljust(10**8) }}", "a value over 100000 characters"),
        ("{% macro m(n) %}{{ m(n) }}{% endmacro %}{{ m(1) }}", "recursion"),
    ],
)
def test_a_runaway_template_fails_cadence_check_with_file_and_line(
    workdir: Path, runaway: str, why: str
) -> None:
    template = workdir / "templates" / "referral-ask-3.txt.j2"
    lines = template.read_text().splitlines()
    template.write_text("\n".join([lines[0], runaway, *lines[1:]]) + "\n")
    result = check(workdir)
    assert result.exit_code == 1, result.output
    # Reported at the template's own file and line, naming the cadence step that uses it.
    assert "cadences/referral-ask.yaml: steps.2.template" in result.output
    assert why in result.output
    if why != "recursion":
        assert "templates/referral-ask-3.txt.j2:2: error:" in result.output
    else:
        assert "templates/referral-ask-3.txt.j2" in result.output


def test_a_wait_of_ages_fails_cadence_check_with_file_and_line(workdir: Path) -> None:
    cadence = workdir / "cadences" / "referral-ask.yaml"
    cadence.write_text(
        cadence.read_text().replace("wait: 3 business days", "wait: 99999999999999999999 hours")
    )
    result = check(workdir)
    assert result.exit_code == 1
    line = line_of(cadence, "99999999999999999999 hours")
    assert f"referral-ask.yaml:{line}: steps.1.wait" in result.output
    assert "a wait of at most 8784 hours" in result.output


@pytest.mark.parametrize(
    ("key", "value"),
    [("min_gap_seconds", ".inf"), ("jitter_seconds", ".nan"), ("daily_cap", "10000000000")],
)
def test_gaps_and_caps_have_sane_maximums(tmp_path: Path, key: str, value: str) -> None:
    path = tmp_path / "spear.yaml"
    path.write_text(
        "mailboxes:\n  - name: alex\n    address: alex@example-sender.com\n"
        "    smtp: {host: 127.0.0.1, port: 2525, tls: none}\n"
        f"    {key}: {value}\n"
    )
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert str(refused.value).startswith(f"{path}:5: mailboxes.0.{key}")


CADENCE = """
name: {name}
audience: {{one_per_account: false}}
steps:
  - id: ask
    subject: Hello
    template: {name}
"""
# Renders fine for the sample prospect; a real one whose `blob` is long loops past the budget.
RUNAWAY = (
    "Hi\n{% for a in custom.blob | fallback('') %}{% for b in custom.blob | fallback('') %}"
    "{% endfor %}{% endfor %}\nAlex"
)


def test_one_cadences_runaway_template_never_stops_the_planner(db_engine: Engine) -> None:
    templates = {"runaway": RUNAWAY, "fine": "Hi {{ prospect.first_name }}, who runs sales?"}
    runaway = parse_cadence(CADENCE.format(name="runaway"), "runaway.yaml", templates.get)
    fine = parse_cadence(CADENCE.format(name="fine"), "fine.yaml", templates.get)
    clock = FixedClock(T0 - timedelta(hours=2))
    with Session(db_engine) as db:
        account = Account(domain="acme.example", name="Acme", country="US")
        db.add(account)
        db.flush()
        ann = Prospect(
            email="ann@acme.example",
            first_name="Ann",
            account_id=account.id,
            timezone="America/New_York",
            custom={"blob": "x" * 1000},
        )
        bob = Prospect(
            email="bob@acme.example",
            first_name="Bob",
            account_id=account.id,
            timezone="America/New_York",
        )
        db.add_all([ann, bob])
        db.flush()
        enroll(db, runaway, [ann], now=clock.now())
        enroll(db, fine, [bob], now=clock.now())
        db.commit()
    stats = Planner(db_engine, two_mailboxes(2525), clock, random.Random(1)).plan_due()
    assert (stats.planned, stats.parked) == (1, 1)
    with Session(db_engine) as db:
        [planned] = db.exec(select(OutboundMessage)).all()
        parked = db.exec(select(Enrollment).where(Enrollment.cadence == "runaway")).one()
    assert planned.to_address == "bob@acme.example"
    assert parked.status == EnrollmentStatus.PAUSED
    assert parked.stop_reason is not None and "loops ran over" in parked.stop_reason
