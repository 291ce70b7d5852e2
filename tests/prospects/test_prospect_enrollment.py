"""Enrolment: who goes in, who is left out and why, with a real cadence file."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from engine.cadences import Cadence, load_cadences
from engine.clock import utc
from engine.config import RedFlags
from engine.prospects.enrollment import enroll, plan_enrollment
from engine.prospects.importer import import_prospects
from engine.prospects.suppression import add_suppression
from engine.store.models import (
    Account,
    AccountStatus,
    EmailStatus,
    Enrollment,
    EnrollmentStatus,
    Event,
    Prospect,
)

CADENCE = """\
name: ask
audience:
  one_per_account: {one}
steps:
  - id: first
    subject: "Quick question"
    template: ask-1
  - id: second
    wait: 3 days
    template: ask-1
"""


def make_cadence(tmp_path: Path, *, one_per_account: bool = True) -> Cadence:
    cadences, templates = tmp_path / "cadences", tmp_path / "templates"
    cadences.mkdir(exist_ok=True)
    templates.mkdir(exist_ok=True)
    (cadences / "ask.yaml").write_text(CADENCE.format(one=str(one_per_account).lower()))
    (templates / "ask-1.txt.j2").write_text("Hi {{ prospect.first_name }}, who runs sales?\n")
    return load_cadences(cadences, templates)["ask"]


def people(session: Session, tmp_path: Path, now: datetime) -> dict[str, Prospect]:
    csv = tmp_path / "p.csv"
    csv.write_text(
        "email\nann@acme.com\nbea@acme.com\ncal@beta.io\ndan@dead.com\neve@gone.com\n"
        "fay@client.com\ngus@free.com\n"
    )
    import_prospects(session, csv, now=now)
    return {p.email.split("@")[0]: p for p in session.exec(select(Prospect))}


def test_plan_says_who_and_why(tmp_path: Path, session: Session, now: datetime) -> None:
    cadence = make_cadence(tmp_path)
    p = people(session, tmp_path, now)
    accounts = {a.domain: a for a in session.exec(select(Account))}
    accounts["client.com"].status = AccountStatus.CUSTOMER
    accounts["dead.com"].status = AccountStatus.DEAD
    p["eve"].email_status = EmailStatus.INVALID
    add_suppression(session, "@beta.io", now=now, reason="asked us to stop")
    session.flush()

    plan = plan_enrollment(session, cadence, p.values(), now)
    assert [x.email for x in plan.enrol] == ["ann@acme.com", "gus@free.com"]
    assert {x.email: why for x, why in plan.excluded} == {
        "bea@acme.com": "another contact at acme.com is in a cadence: "
        "ann@acme.com (enrolled in this run)",
        "cal@beta.io": "suppressed domain beta.io: asked us to stop",
        "dan@dead.com": "account dead.com is dead",
        "eve@gone.com": "address bounced (invalid)",
        "fay@client.com": "account client.com is customer",
    }


def test_enroll_writes_enrollments_and_events(
    tmp_path: Path, session: Session, now: datetime
) -> None:
    cadence = make_cadence(tmp_path)
    p = people(session, tmp_path, now)
    start = now + timedelta(days=1)
    made = enroll(session, cadence, [p["ann"], p["cal"]], now=now, start=start, referrer=p["gus"])
    assert len(made) == 2
    first = made[0]
    assert (first.cadence, first.cadence_version, first.status) == (
        "ask",
        cadence.version,
        EnrollmentStatus.ACTIVE,
    )
    assert (first.next_step, utc(first.next_due_at or now), first.referrer_id) == (
        "first",
        start,
        p["gus"].id,
    )
    assert [e.kind for e in session.exec(select(Event))] == ["enrolled", "enrolled"]

    again = plan_enrollment(session, cadence, [p["ann"], p["bea"]], now)
    assert again.enrol == []
    assert dict((x.email, why) for x, why in again.excluded) == {
        "ann@acme.com": "already in this cadence",
        "bea@acme.com": "another contact at acme.com is in a cadence: ann@acme.com (ask)",
    }


def test_without_one_per_account(tmp_path: Path, session: Session, now: datetime) -> None:
    cadence = make_cadence(tmp_path, one_per_account=False)
    p = people(session, tmp_path, now)
    made = enroll(session, cadence, [p["ann"], p["bea"]], now=now)
    assert len(made) == 2
    assert len(session.exec(select(Enrollment)).all()) == 2


def test_referred_people_skip_the_account_pause_and_one_per_account(
    tmp_path: Path, session: Session, now: datetime
) -> None:
    cadence = make_cadence(tmp_path)  # one_per_account: true
    p = people(session, tmp_path, now)
    enroll(session, cadence, [p["ann"]], now=now)  # ann is in a cadence at acme.com
    acme = session.exec(select(Account).where(Account.domain == "acme.com")).one()
    acme.paused = True  # as a reply from someone at acme.com leaves it
    session.flush()

    without = plan_enrollment(session, cadence, [p["bea"]], now)
    assert [why for _, why in without.excluded] == [
        "account acme.com is paused (someone there replied)"
    ]

    referred = plan_enrollment(session, cadence, [p["bea"]], now, referrer=p["ann"])
    assert referred.enrol == [p["bea"]] and referred.excluded == []
    [made] = enroll(session, cadence, [p["bea"]], now=now, referrer=p["ann"])
    assert made.prospect_id == p["bea"].id and made.referrer_id == p["ann"].id


def test_referred_people_still_meet_the_other_rules(
    tmp_path: Path, session: Session, now: datetime
) -> None:
    cadence = make_cadence(tmp_path)
    p = people(session, tmp_path, now)
    accounts = {a.domain: a for a in session.exec(select(Account))}
    accounts["client.com"].status = AccountStatus.CUSTOMER
    accounts["dead.com"].status = AccountStatus.DEAD
    p["eve"].email_status = EmailStatus.INVALID
    add_suppression(session, "@beta.io", now=now, reason="asked us to stop")
    enroll(session, cadence, [p["gus"]], now=now)
    session.flush()

    others = [p[name] for name in ("cal", "dan", "eve", "fay", "gus")]
    plan = plan_enrollment(session, cadence, others, now, referrer=p["ann"])
    assert plan.enrol == []
    assert {x.email: why for x, why in plan.excluded} == {
        "cal@beta.io": "suppressed domain beta.io: asked us to stop",
        "dan@dead.com": "account dead.com is dead",
        "eve@gone.com": "address bounced (invalid)",
        "fay@client.com": "account client.com is customer",
        "gus@free.com": "already in this cadence",
    }
    assert enroll(session, cadence, others, now=now, referrer=p["ann"]) == []


def test_red_flags_added_since_import_hold_at_enrolment(
    tmp_path: Path, session: Session, now: datetime
) -> None:
    """A competitor listed after the import is still left out; an account the play has touched
    (or a person has set) is not overruled, as at import."""
    cadence = make_cadence(tmp_path, one_per_account=False)
    p = people(session, tmp_path, now)
    beta = session.exec(select(Account).where(Account.domain == "beta.io")).one()
    beta.status = AccountStatus.ENGAGED
    session.add(beta)
    flags = RedFlags(competitor_domains=["acme.com", "beta.io"])

    plan = plan_enrollment(session, cadence, [p["ann"], p["cal"], p["gus"]], now, red_flags=flags)
    assert [x.email for x in plan.enrol] == ["cal@beta.io", "gus@free.com"]
    [(left_out, reason)] = plan.excluded
    assert left_out.email == "ann@acme.com"
    assert "acme.com" in reason and "not-fit" in reason and "competitor" in reason
    enrolled = enroll(session, cadence, [p["ann"], p["bea"]], now=now, red_flags=flags)
    assert enrolled == []
    # Without the flags (as before), the same prospects go in.
    assert len(plan_enrollment(session, cadence, [p["ann"]], now).enrol) == 1
