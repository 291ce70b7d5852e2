"""Stops and pauses carry a code that behaviour keys on; the text beside it is never parsed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from engine.prospects.account_control import resume_account
from engine.prospects.lifecycle import pause_mailbox, paused_for, prune_address, stop_enrollments
from engine.prospects.pauses import pause_account
from engine.replies.polling import paused_for_imap
from engine.store.models import (
    Account,
    CancelCause,
    EmailStatus,
    Enrollment,
    EnrollmentStatus,
    MailboxState,
    OutboundMessage,
    OutboundStatus,
    PauseCause,
    Prospect,
    StopCause,
    Suppression,
    SuppressionSource,
)

NOW = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)


def seed(session: Session, *names: str) -> dict[str, Enrollment]:
    account = Account(domain="acme.example", name="Acme")
    session.add(account)
    session.flush()
    enrollments = {}
    for name in names:
        prospect = Prospect(email=f"{name}@acme.example", account_id=account.id)
        session.add(prospect)
        session.flush()
        assert prospect.id is not None
        enrollment = Enrollment(prospect_id=prospect.id, cadence="outreach", cadence_version="v1")
        session.add(enrollment)
        enrollments[name] = enrollment
    session.flush()
    return enrollments


def test_resuming_an_account_revives_by_cause_not_by_wording(db_engine: Engine) -> None:
    with Session(db_engine) as session:
        people = seed(session, "ann", "bea", "dee")
        ann = session.get(Prospect, people["ann"].prospect_id)
        assert ann is not None and ann.account_id is not None
        account_id = ann.account_id
        pause_account(session, account_id, None, NOW, reason="AE on it")
        # Parked by the planner with words that look like an account pause: it stays parked.
        dee = people["dee"]
        dee.stop_cause, dee.stop_reason = StopCause.PLAN_FAILED, "account paused: a lookalike"
        session.add(dee)
        session.flush()
        assert people["ann"].stop_cause is StopCause.ACCOUNT_PAUSED
        account = session.get(Account, account_id)
        assert account is not None
        resumed = resume_account(session, account, NOW)
        assert sorted(resumed.enrollments) == sorted([people["ann"].id or 0, people["bea"].id or 0])
        assert (dee.status, dee.stop_cause) == (EnrollmentStatus.PAUSED, StopCause.PLAN_FAILED)
        assert (people["ann"].stop_cause, people["ann"].stop_reason) == (None, None)


def test_resuming_an_account_brings_back_the_rows_its_pause_cancelled_by_code(
    db_engine: Engine,
) -> None:
    with Session(db_engine) as session:
        people = seed(session, "ann", "bea")
        session.flush()
        ann = session.get(Prospect, people["ann"].prospect_id)
        assert ann is not None and ann.account_id is not None
        pause_account(session, ann.account_id, None, NOW, reason="AE on it")
        rows = {}
        for name, cause, error in (
            ("ann", CancelCause.ACCOUNT_PAUSED, "cancelled at the last moment"),
            ("bea", CancelCause.SUPPRESSED, "account is paused"),  # words alike, not a pause
        ):
            enrollment = people[name]
            row = OutboundMessage(
                enrollment_id=enrollment.id or 0,
                prospect_id=enrollment.prospect_id,
                step_id="first",
                mailbox="alex",
                message_id=f"<{name}@spear.example>",
                to_address=f"{name}@acme.example",
                subject="s",
                raw=b"x",
                status=OutboundStatus.CANCELLED,
                scheduled_at=NOW - timedelta(hours=1),
                error=error,
                cancel_cause=cause,
            )
            session.add(row)
            rows[name] = row
        session.flush()
        account = session.get(Account, ann.account_id)
        assert account is not None
        resumed = resume_account(session, account, NOW)
        assert resumed.revived == [rows["ann"].id]
        assert (rows["ann"].status, rows["ann"].cancel_cause) == (OutboundStatus.PLANNED, None)
        assert rows["bea"].status is OutboundStatus.CANCELLED


def test_the_imap_pause_is_known_by_its_cause(db_engine: Engine) -> None:
    with Session(db_engine) as session:
        # A person's reason that happens to begin like the poller's: not an IMAP pause.
        assert pause_mailbox(session, "alex", PauseCause.BY_HAND, "IMAP refused: says who", NOW)
        assert pause_mailbox(session, "blake", PauseCause.IMAP_REFUSED, "login refused", NOW)
        # Paused already: the first cause stays, it is what a person has to fix first.
        assert not pause_mailbox(session, "blake", PauseCause.SMTP_REFUSED, "535", NOW)
        session.commit()
        state = session.get(MailboxState, "blake")
        assert state is not None and state.pause_cause is PauseCause.IMAP_REFUSED
        assert paused_for(session, "blake", PauseCause.IMAP_REFUSED)
    assert not paused_for_imap(db_engine, "alex")
    assert paused_for_imap(db_engine, "blake")


def test_pruning_marks_suppresses_and_stops_with_the_bounced_cause(db_engine: Engine) -> None:
    with Session(db_engine) as session:
        people = seed(session, "ann")
        ann = people["ann"]
        done = Enrollment(
            prospect_id=ann.prospect_id,
            cadence="older",
            cadence_version="v1",
            status=EnrollmentStatus.COMPLETED,
        )
        session.add(done)
        session.flush()
        prospect = session.get(Prospect, ann.prospect_id)
        assert prospect is not None
        stopped = prune_address(session, prospect, "hard bounce: " + "x" * 600, NOW)
        assert stopped == [ann.id]
        assert prospect.email_status is EmailStatus.INVALID
        assert (ann.status, ann.stop_cause) == (EnrollmentStatus.STOPPED, StopCause.BOUNCED)
        assert ann.stop_reason is not None and len(ann.stop_reason) == 500  # bounded detail
        assert done.status is EnrollmentStatus.COMPLETED and done.stop_cause is None
        [entry] = session.exec(select(Suppression)).all()
        assert (entry.value, entry.source) == ("ann@acme.example", SuppressionSource.BOUNCE)
        # Stopping again changes nothing: only open enrollments stop.
        again = stop_enrollments(
            session, StopCause.REPLIED, "replied", NOW, prospect_id=prospect.id
        )
        assert again == [] and ann.stop_cause is StopCause.BOUNCED
