"""Call steps end to end: the real planner makes a task in the window, each outcome does what its
mapping says (through the real database), and undo puts everything back."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from engine.basics.outcomes import DEFAULT_ON_OUTCOME, Outcome, OutcomeAction
from engine.basics.stages import rank
from engine.basics.windows import in_window
from engine.clock import utc
from engine.errors import SpearError
from engine.prospects.contact_state import ContactState
from engine.prospects.suppression import add_suppression
from engine.store.events import EventKind
from engine.store.models import (
    Account,
    AccountStage,
    AccountStatus,
    Enrollment,
    EnrollmentStatus,
    Event,
    OutboundMessage,
    Prospect,
    Suppression,
    Task,
    TaskStatus,
)
from engine.tasks.listing import due_tasks, end_of_day
from engine.tasks.recording import TaskError, record_outcome, undo_outcome

from .support import EXECUTIVES, World, build, cadence

NEW_YORK = ZoneInfo("America/New_York")


def the_task(world: World) -> Task:
    with Session(world.engine) as db:
        return db.exec(select(Task)).one()


def row(world: World, model: type[Enrollment] | type[Prospect] | type[Account], key: int):  # type: ignore[no-untyped-def]
    with Session(world.engine) as db:
        found = db.get(model, key)
        assert found is not None
        return found


def done(world: World, outcome: Outcome, **kwargs: object):  # type: ignore[no-untyped-def]
    task = the_task(world)
    with Session(world.engine, expire_on_commit=False) as db:
        assert task.id is not None
        result = record_outcome(
            db, task.id, outcome, world.config, now=world.clock.now(), actor="robin", **kwargs
        )
        db.commit()
    return result


def test_a_call_step_becomes_a_task_in_the_prospects_window(db_engine: Engine) -> None:
    world = build(db_engine)
    stats = world.planner.plan_due()
    assert (stats.tasks, stats.planned) == (1, 0)  # a task, not an email
    task = the_task(world)
    due = utc(task.due_at)  # type: ignore[arg-type]
    rules = cadence().schedule.rules
    assert in_window(due, NEW_YORK, rules)
    assert due.astimezone(NEW_YORK).hour == 7  # the first window after 05:00 local
    assert task.due_before is not None and utc(task.due_before) > due
    assert task.kind == "call" and task.owner == "robin"  # the mailbox's owner
    assert "Call Pat on +1 212 555 0100." in task.instructions
    assert "https://www.linkedin.com/in/pat-example" in task.instructions
    with Session(db_engine) as db:
        assert db.exec(select(OutboundMessage)).all() == []  # nothing to send, no cap used
        today = due_tasks(db, until=end_of_day(date(2025, 6, 3), "America/New_York"), owner="robin")
        assert [t.id for t in today] == [task.id]
        assert due_tasks(db, until=end_of_day(date(2025, 6, 3), "UTC"), owner="someone-else") == []

    # Until the outcome is recorded the next step waits, however often the planner runs.
    world.clock.fast_forward(days=5)
    assert world.planner.plan_due().planned == 0
    enrollment = row(world, Enrollment, world.enrollment_id)
    assert enrollment.status is EnrollmentStatus.ACTIVE and enrollment.next_step == "note"


def _next_email_planned(world: World) -> bool:
    world.clock.fast_forward(days=4)
    world.planner.plan_due()
    with Session(world.engine) as db:
        return db.exec(select(OutboundMessage)).first() is not None


@pytest.mark.parametrize("outcome", list(Outcome))
def test_each_outcome_does_what_its_default_mapping_says(
    db_engine: Engine, outcome: Outcome
) -> None:
    world = build(db_engine)
    world.planner.plan_due()
    world.clock.set(T_CALL)
    action = DEFAULT_ON_OUTCOME[outcome]
    resume = date(2025, 6, 20)
    result = done(world, outcome, note="spoke briefly", resume_on=resume)
    assert result.action is action

    task = the_task(world)
    assert (task.status, task.outcome, task.note, task.done_by) == (
        TaskStatus.DONE,
        outcome.value,
        "spoke briefly",
        "robin",
    )
    enrollment = row(world, Enrollment, world.enrollment_id)
    prospect = row(world, Prospect, world.prospect_id)
    account = row(world, Account, world.account_id)
    with Session(db_engine) as db:
        suppressed = db.exec(select(Suppression)).all()
        handoffs = db.exec(select(Event).where(Event.kind == EventKind.HANDOFF_EMAIL)).all()

    if action in (OutcomeAction.CONTINUE, OutcomeAction.INVALID_PHONE):
        assert enrollment.status is EnrollmentStatus.ACTIVE
        # The note step's wait (2 days) counts from the call.
        assert utc(enrollment.next_due_at) >= T_CALL + timedelta(days=2)  # type: ignore[arg-type]
        assert prospect.phone_invalid is (action is OutcomeAction.INVALID_PHONE)
        assert _next_email_planned(world)
    elif action is OutcomeAction.NOT_NOW:
        assert enrollment.status is EnrollmentStatus.ACTIVE
        due = utc(enrollment.next_due_at)  # type: ignore[arg-type]
        assert due.astimezone(NEW_YORK).date() == resume
        assert not _next_email_planned(world)  # four days on: still before the resume date
        world.clock.set(datetime(2025, 6, 22, 12, tzinfo=NEW_YORK))
        world.planner.plan_due()
        with Session(db_engine) as db:
            assert db.exec(select(OutboundMessage)).first() is not None
    elif action in (OutcomeAction.STOP, OutcomeAction.SUPPRESS, OutcomeAction.HAND_OFF):
        assert enrollment.status is EnrollmentStatus.STOPPED
        assert enrollment.stop_reason and "call outcome" in enrollment.stop_reason
        assert not _next_email_planned(world)
    assert [s.value for s in suppressed] == (
        ["pat@acme.example"] if action is OutcomeAction.SUPPRESS else []
    )
    if action is OutcomeAction.HAND_OFF:
        assert account.status is AccountStatus.HANDED_OFF
        assert rank(account.stage) >= rank(AccountStage.TARGET_IDENTIFIED)
        assert account.owner == EXECUTIVES[0]
        [handoff] = handoffs
        assert handoff.data["to"] == EXECUTIVES[0] and handoff.data["status"] == "pending"
        assert "spoke briefly" in handoff.data["reply_text"]
    else:
        assert handoffs == []
        assert account.status is AccountStatus.PROSPECTING
        assert account.stage is AccountStage.OPPORTUNITY


T_CALL = datetime(2025, 6, 3, 11, 30, tzinfo=ZoneInfo("UTC"))  # 07:30 in New York


@pytest.mark.parametrize("outcome", list(Outcome))
def test_undo_puts_back_what_each_outcome_changed(db_engine: Engine, outcome: Outcome) -> None:
    world = build(db_engine)
    world.planner.plan_due()
    world.clock.set(T_CALL)
    before = (
        row(world, Enrollment, world.enrollment_id).model_dump(),
        row(world, Prospect, world.prospect_id).model_dump(),
        row(world, Account, world.account_id).model_dump(),
    )
    done(world, outcome)
    task = the_task(world)
    with Session(db_engine, expire_on_commit=False) as db:
        assert task.id is not None
        undo_outcome(db, task.id, now=world.clock.now(), actor="robin")
        db.commit()
        live_handoffs = db.exec(
            select(Event).where(Event.kind == EventKind.HANDOFF_EMAIL, Event.undone_at == None)  # noqa: E711
        ).all()
        assert db.exec(select(Suppression)).all() == []
    after = (
        row(world, Enrollment, world.enrollment_id).model_dump(),
        row(world, Prospect, world.prospect_id).model_dump(),
        row(world, Account, world.account_id).model_dump(),
    )
    assert after == before
    assert the_task(world).status is TaskStatus.OPEN
    assert live_handoffs == []  # an unsent hand-off email never goes out


def test_a_task_takes_one_outcome_until_undone(db_engine: Engine) -> None:
    world = build(db_engine)
    world.planner.plan_due()
    done(world, Outcome.NO_ANSWER)
    with pytest.raises(TaskError, match="undo"):
        done(world, Outcome.TARGET)


def test_a_cadence_maps_outcomes_its_own_way(db_engine: Engine) -> None:
    world = build(db_engine, on_outcome='on_outcome: {"N/A": stop, target: continue}')
    world.planner.plan_due()
    result = done(world, Outcome.NO_ANSWER)
    assert result.action is OutcomeAction.STOP
    assert row(world, Enrollment, world.enrollment_id).status is EnrollmentStatus.STOPPED


def test_hand_offs_from_calls_go_round_robin(db_engine: Engine) -> None:
    world = build(db_engine)
    with Session(db_engine) as db:
        db.add(Event(kind=EventKind.ACCOUNT_HANDED_OFF, data={}))  # someone had the first turn
        db.commit()
    world.planner.plan_due()
    result = done(world, Outcome.POTENTIAL)
    assert result.executive == EXECUTIVES[1]
    assert row(world, Account, world.account_id).owner == EXECUTIVES[1]


def test_a_call_to_a_wrong_number_is_skipped_later(db_engine: Engine) -> None:
    world = build(db_engine)
    with Session(db_engine) as db:
        prospect = db.get(Prospect, world.prospect_id)
        assert prospect is not None
        prospect.phone_invalid = True
        db.add(prospect)
        db.commit()
    world.planner.plan_due()
    with Session(db_engine) as db:
        assert db.exec(select(Task)).all() == []
        skipped = db.exec(select(Event).where(Event.kind == EventKind.TASK_SKIPPED)).one()
        assert skipped.data["reason"] == "phone invalid"
    assert _next_email_planned(world)


def test_an_unknown_task_is_a_clear_error(db_engine: Engine) -> None:
    world = build(db_engine)
    with Session(db_engine) as db, pytest.raises(SpearError, match="no task 99"):
        record_outcome(db, 99, Outcome.NO_ANSWER, world.config, now=world.clock.now(), actor="x")


def test_a_task_is_not_listed_once_its_prospect_is_suppressed(db_engine: Engine) -> None:
    world = build(db_engine)
    world.planner.plan_due()
    today = end_of_day(date(2025, 6, 3), "America/New_York")
    with Session(db_engine) as db:
        assert len(due_tasks(db, until=today)) == 1
        add_suppression(db, "@acme.example", now=world.clock.now(), reason="asked by legal")
        db.commit()
        assert due_tasks(db, until=today) == []  # the whole domain is off limits now


def test_no_task_is_made_for_someone_suppressed_since_enrolment(db_engine: Engine) -> None:
    world = build(db_engine)
    with Session(db_engine) as db:
        add_suppression(db, "pat@acme.example", now=world.clock.now(), reason="unsubscribed")
        db.commit()
    assert world.planner.plan_due().tasks == 0
    enrollment = row(world, Enrollment, world.enrollment_id)
    assert enrollment.status is EnrollmentStatus.STOPPED
    # The planner asks the contact state, whose code leads the stop reason.
    assert (enrollment.stop_reason or "").startswith(f"{ContactState.UNSUBSCRIBED}:")
    with Session(db_engine) as db:
        assert db.exec(select(Task)).all() == []
