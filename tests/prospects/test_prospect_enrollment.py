"""Enrolment: who goes in, who is left out and why, with a real cadence file."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from engine.cadences import Cadence, load_cadences
from engine.clock import utc
from engine.config import RedFlags
from engine.prospects.contact_state import (
    ContactState,
    EnrolPath,
    Exclusion,
    contact_state,
    load_contact_facts,
    why_not_mail,
)
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
    InboundMessage,
    InboundStatus,
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
    assert {x.email: (why, detail) for x, why, detail in plan.excluded} == {
        "bea@acme.com": (
            Exclusion.ACCOUNT_BUSY,
            "one contact per account: ann@acme.com is in a cadence (enrolled in this run)",
        ),
        "cal@beta.io": (Exclusion.UNSUBSCRIBED, "suppressed domain beta.io: asked us to stop"),
        "dan@dead.com": (Exclusion.ACCOUNT_RULED_OUT, "account dead.com is dead"),
        "eve@gone.com": (Exclusion.BOUNCED, "address bounced (invalid)"),
        "fay@client.com": (Exclusion.ACCOUNT_RULED_OUT, "account client.com is customer"),
    }
    assert plan.counts() == {
        Exclusion.UNSUBSCRIBED: 1,
        Exclusion.BOUNCED: 1,
        Exclusion.ACCOUNT_RULED_OUT: 2,
        Exclusion.ACCOUNT_BUSY: 1,
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
    assert {x.email: (why, detail) for x, why, detail in again.excluded} == {
        "ann@acme.com": (Exclusion.IN_THIS_CADENCE, "already in ask (active)"),
        "bea@acme.com": (
            Exclusion.ACCOUNT_BUSY,
            "one contact per account: ann@acme.com is in a cadence (ask)",
        ),
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
    assert [why for _, why, _ in without.excluded] == [Exclusion.ACCOUNT_PAUSED]

    referred = plan_enrollment(session, cadence, [p["bea"]], now, path=EnrolPath.REFERRAL)
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
    plan = plan_enrollment(session, cadence, others, now, path=EnrolPath.REFERRAL)
    assert plan.enrol == []
    assert {x.email: why for x, why, _ in plan.excluded} == {
        "cal@beta.io": Exclusion.UNSUBSCRIBED,
        "dan@dead.com": Exclusion.ACCOUNT_RULED_OUT,
        "eve@gone.com": Exclusion.BOUNCED,
        "fay@client.com": Exclusion.ACCOUNT_RULED_OUT,
        "gus@free.com": Exclusion.IN_THIS_CADENCE,
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

    # --again: an engaged account is otherwise held back for another reason.
    plan = plan_enrollment(
        session, cadence, [p["ann"], p["cal"], p["gus"]], now, path=EnrolPath.AGAIN, red_flags=flags
    )
    assert [x.email for x in plan.enrol] == ["cal@beta.io", "gus@free.com"]
    [(left_out, code, reason)] = plan.excluded
    assert left_out.email == "ann@acme.com" and code is Exclusion.ACCOUNT_RULED_OUT
    assert "acme.com" in reason and "not-fit" in reason and "competitor" in reason
    enrolled = enroll(session, cadence, [p["ann"], p["bea"]], now=now, red_flags=flags)
    assert enrolled == []
    # Without the flags (as before), the same prospects go in.
    assert len(plan_enrollment(session, cadence, [p["ann"]], now).enrol) == 1


def test_replied_or_enrolled_before_only_again_and_never_past_no(
    tmp_path: Path, session: Session, now: datetime
) -> None:
    """The issue's re-run: whoever replied, was in the cadence before, or is at a handed-off
    account is left out; --again takes them, but never the unsubscribed or bounced."""
    cadence = make_cadence(tmp_path, one_per_account=False)
    p = people(session, tmp_path, now)
    [ann, cal, gus] = enroll(session, cadence, [p["ann"], p["cal"], p["gus"]], now=now)
    for enrollment in (ann, cal, gus):
        enrollment.status = EnrollmentStatus.STOPPED
    # ann answered (not-interested); bea's account was handed off; cal's cadence just ended.
    stored_reply(session, p["ann"], "not-interested", now, InboundStatus.APPLIED)
    # An out-of-office note is not a reply.
    stored_reply(session, p["cal"], "auto-reply", now, InboundStatus.APPLIED)
    acme = session.exec(select(Account).where(Account.domain == "acme.com")).one()
    acme.status = AccountStatus.HANDED_OFF
    add_suppression(session, "gus@free.com", now=now, reason="unsubscribe")
    session.flush()

    later = now + timedelta(days=30)
    plan = plan_enrollment(session, cadence, [p["ann"], p["bea"], p["cal"], p["gus"]], later)
    assert plan.enrol == []
    assert {x.email: why for x, why, _ in plan.excluded} == {
        "ann@acme.com": Exclusion.REPLIED,
        "bea@acme.com": Exclusion.ACCOUNT_HANDED_OFF,
        "cal@beta.io": Exclusion.WAS_IN_THIS_CADENCE,
        "gus@free.com": Exclusion.UNSUBSCRIBED,
    }
    acme.status = AccountStatus.ENGAGED
    session.flush()
    plan = plan_enrollment(session, cadence, [p["ann"], p["bea"]], later)
    [(_, why, detail), (_, colleague, _)] = plan.excluded
    assert why is Exclusion.REPLIED and detail.startswith("replied not-interested on 2025-03-04")
    assert colleague is Exclusion.ACCOUNT_ENGAGED  # someone at acme.com replied: no cold note

    again = plan_enrollment(session, cadence, p.values(), later, path=EnrolPath.AGAIN)
    assert {x.email for x in again.enrol} >= {"ann@acme.com", "bea@acme.com", "cal@beta.io"}
    assert "gus@free.com" in {x.email for x, _, _ in again.excluded}
    # Their own reply may start a cadence (not-now -> nurture) without --again.
    assert plan_enrollment(session, cadence, [p["ann"]], later, path=EnrolPath.REPLY).enrol


def test_contact_states(tmp_path: Path, session: Session, now: datetime) -> None:
    cadence = make_cadence(tmp_path, one_per_account=False)
    p = people(session, tmp_path, now)
    [ann, cal] = enroll(session, cadence, [p["ann"], p["cal"]], now=now)
    cal.status = EnrollmentStatus.COMPLETED
    p["eve"].email_status = EmailStatus.INVALID
    add_suppression(session, "dan@dead.com", now=now, reason="unsubscribe")
    stored_reply(session, p["gus"], "wrong-person", now, InboundStatus.APPLIED)
    session.flush()
    facts = load_contact_facts(session, p.values())
    states = {p[name].email: contact_state(facts[p[name].id or 0]).state for name in p}
    assert states == {
        "ann@acme.com": ContactState.IN_CADENCE,
        "bea@acme.com": ContactState.NEVER_CONTACTED,
        "cal@beta.io": ContactState.CONTACTED,
        "dan@dead.com": ContactState.UNSUBSCRIBED,
        "eve@gone.com": ContactState.BOUNCED,
        "fay@client.com": ContactState.NEVER_CONTACTED,
        "gus@free.com": ContactState.REPLIED,
    }
    assert contact_state(facts[p["gus"].id or 0]).label == "wrong-person"
    # A reply after ann's enrollment started stops her cadence at the planner.
    assert why_not_mail(facts[p["ann"].id or 0], ann.id or 0) is None
    stored_reply(session, p["ann"], "unclear", now + timedelta(hours=1), InboundStatus.REVIEW)
    session.flush()
    blocked = why_not_mail(load_contact_facts(session, [p["ann"]])[p["ann"].id or 0], ann.id or 0)
    assert blocked is not None and blocked[0] is Exclusion.REPLIED


def stored_reply(
    session: Session, prospect: Prospect, label: str, at: datetime, status: InboundStatus
) -> None:
    """A reply as the intake stores it once classified (the reply actions are not under test)."""
    uid = len(session.exec(select(InboundMessage)).all()) + 1
    session.add(
        InboundMessage(
            mailbox="m",
            uid=uid,
            raw=b"",
            prospect_id=prospect.id,
            label=label,
            received_at=at,
            status=status,
        )
    )
    session.flush()
