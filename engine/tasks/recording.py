"""A rep records a task's outcome; the cadence does what its `on_outcome` says, undoably.

`record_outcome` closes the task and carries out the outcome's action (`engine.basics.outcomes`):

- continue: the next step becomes due its wait after now (the last step done: complete);
- invalid-phone: the phone is marked invalid (later call steps are skipped), then continue;
- not-now: the next step waits until the resume date (`--resume`, else `tasks.call_back_days`);
- stop: the enrollment ends;
- suppress: it ends and the address is suppressed;
- hand-off: it ends, the account is handed to an executive (routed as for an interested reply,
  stage at least target identified) and a hand-off email is queued for the daemon to send.

The person's own effects (phone, suppression, hand-off) apply even when the enrollment ended
meanwhile (a reply came); what the cadence does next applies only to an enrollment still active.
Every change goes through one `ChangeLog` stored in the `task.done` event, so `undo_outcome`
puts everything back (and an unsent hand-off email never goes out).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session

from engine.basics.outcomes import Outcome, OutcomeAction, outcome_names
from engine.basics.windows import due_after
from engine.cadences.model import Cadence
from engine.cadences.versions import pinned_cadence
from engine.config import Config
from engine.errors import NotFoundError, SpearError
from engine.prospects.history import LINKED_EVENTS, latest, record, undo
from engine.prospects.lifecycle import stop_enrollment
from engine.prospects.suppression import add_suppression
from engine.replies.routing import (
    choose_executive,
    hand_off_account,
    handed_off_data,
    handoff_email_data,
)
from engine.sending.planner import recipient_zone
from engine.store.changes import ChangeLog
from engine.store.events import EventKind
from engine.store.models import (
    Account,
    Enrollment,
    EnrollmentStatus,
    Event,
    Prospect,
    StopCause,
    SuppressionSource,
    Task,
    TaskStatus,
)


class TaskError(SpearError):
    """A task cannot take this outcome (it is done already, or undone twice)."""


@dataclass(frozen=True)
class OutcomeResult:
    task_id: int
    outcome: Outcome
    action: OutcomeAction
    enrollment_status: EnrollmentStatus
    next_due_at: datetime | None
    executive: str | None  # the hand-off went to this address
    event_id: int

    def summary(self, outcome_name: str) -> str:
        """One line for the rep: what the outcome did to the cadence (CLI and web inbox)."""
        line = (
            f"task {self.task_id}: {outcome_name} -> {self.action}; "
            f"enrollment {self.enrollment_status}"
        )
        if self.next_due_at is not None and self.enrollment_status == EnrollmentStatus.ACTIVE:
            line += f", next step due {self.next_due_at:%Y-%m-%d %H:%MZ}"
        if self.executive:
            line += f"; handed off to {self.executive}"
        elif self.action is OutcomeAction.HAND_OFF:
            line += "; no hand_off.account_executives configured: tell an executive yourself"
        return line


def record_outcome(
    session: Session,
    task_id: int,
    outcome: Outcome,
    config: Config,
    *,
    now: datetime,
    actor: str,
    note: str | None = None,
    resume_on: date | None = None,
) -> OutcomeResult:
    """Close task `task_id` with `outcome` and do what the task's cadence maps it to."""
    task = session.get(Task, task_id)
    if task is None:
        raise NotFoundError(f"no task {task_id}")
    if task.status is not TaskStatus.OPEN:
        raise TaskError(
            f"task {task_id} is {task.status} (outcome {task.outcome or 'none'}): "
            f"`spear task undo {task_id}` first to record another outcome"
        )
    enrollment = session.get(Enrollment, task.enrollment_id)
    prospect = session.get(Prospect, task.prospect_id)
    if enrollment is None or prospect is None:
        raise NotFoundError(f"task {task_id}: its enrollment or prospect is gone")
    account = session.get(Account, prospect.account_id) if prospect.account_id else None
    cadence = pinned_cadence(session, enrollment.cadence, enrollment.cadence_version)
    action = cadence.outcome_action(outcome)
    name = outcome_names(config.tasks.outcome_names)[outcome]

    changes = ChangeLog(session)
    changes.set(task, "status", TaskStatus.DONE)
    changes.set(task, "outcome", outcome.value)
    changes.set(task, "note", note)
    changes.set(task, "resume_on", resume_on)
    changes.set(task, "done_at", now)
    changes.set(task, "done_by", actor)
    run = _Outcome(session, changes, config, cadence, enrollment, prospect, account, now)
    linked: list[int] = []
    executive = None
    if action is OutcomeAction.INVALID_PHONE:
        changes.set(prospect, "phone_invalid", True)
        changes.set(prospect, "updated_at", now)
        run.go_on(now)
    elif action is OutcomeAction.CONTINUE:
        run.go_on(now)
    elif action is OutcomeAction.NOT_NOW:
        resume = resume_on or (now + timedelta(days=config.tasks.call_back_days)).date()
        # Stored in UTC, as every time is (SQLite would drop the zone).
        run.go_on(datetime.combine(resume, time(), tzinfo=run.tz).astimezone(UTC), wait=False)
    elif action is OutcomeAction.STOP:
        run.stop(f"{task.kind} outcome: {name}")
    elif action is OutcomeAction.SUPPRESS:
        run.stop(f"{task.kind} outcome: {name}")
        entry, new = add_suppression(
            session, prospect.email, now=now, reason=name, source=SuppressionSource.TASK
        )
        if new:
            changes.created_row(entry)
    elif action is OutcomeAction.HAND_OFF:
        run.stop(f"{task.kind} outcome: {name}")
        executive, linked = run.hand_off(task, name, note)
    event = record(
        session,
        EventKind.TASK_DONE,
        changes,
        now=now,
        actor=actor,
        prospect_id=prospect.id,
        enrollment_id=enrollment.id,
        data={
            "task_id": task_id,
            "step_id": task.step_id,
            "outcome": outcome.value,
            "action": action.value,
            "note": note,
            LINKED_EVENTS: linked,
        },
    )
    assert event.id is not None
    return OutcomeResult(
        task_id,
        outcome,
        action,
        enrollment.status,
        enrollment.next_due_at,
        executive,
        event.id,
    )


def undo_outcome(session: Session, task_id: int, *, now: datetime, actor: str) -> list[str]:
    """Put back everything recording the task's outcome changed; the task is open again."""
    event = latest(session, [EventKind.TASK_DONE], task_id=task_id)
    if event is None:
        raise TaskError(f"task {task_id} has no recorded outcome to undo")
    return undo(session, event, now=now, actor=actor)


class _Outcome:
    """What an outcome does to the enrollment and the account, through one change log."""

    def __init__(
        self,
        session: Session,
        changes: ChangeLog,
        config: Config,
        cadence: Cadence,
        enrollment: Enrollment,
        prospect: Prospect,
        account: Account | None,
        now: datetime,
    ) -> None:
        self.session, self.changes, self.config = session, changes, config
        self.cadence, self.enrollment = cadence, enrollment
        self.prospect, self.account = prospect, account
        self.now = now
        self.tz = recipient_zone(cadence, prospect, account, config.timezone)
        self.active = enrollment.status is EnrollmentStatus.ACTIVE

    def go_on(self, start: datetime, *, wait: bool = True) -> None:
        """The next step is due its wait after `start` (or at `start`); none left: complete."""
        if not self.active:
            return
        following = self.enrollment.next_step
        if following is None:
            self.changes.set(self.enrollment, "status", EnrollmentStatus.COMPLETED)
        else:
            step = self.cadence.step(following)
            rules = self.cadence.schedule.rules
            due = due_after(start, step.wait, self.tz, rules) if wait else start
            self.changes.set(self.enrollment, "next_due_at", due)
        self.changes.set(self.enrollment, "updated_at", self.now)

    def stop(self, reason: str) -> None:
        if not self.active:
            return
        stop_enrollment(self.enrollment, StopCause.TASK_OUTCOME, reason, self.now, self.changes)

    def hand_off(self, task: Task, name: str, note: str | None) -> tuple[str | None, list[int]]:
        """Hand the account off; returns the executive's address and the events it recorded."""
        executive = choose_executive(
            self.session, self.config.hand_off, self.config.segments, self.prospect, self.account
        )
        account_changes = ChangeLog(self.session)
        if self.account is not None:
            reason = f"{task.kind} with {self.prospect.email}: {name}"
            hand_off_account(account_changes, self.account, executive, reason, self.now)
        # Into the task's log (one undo for the whole outcome); the event marks the hand-off.
        self.changes.fields += account_changes.fields
        linked = [
            self._event(
                EventKind.ACCOUNT_HANDED_OFF, handed_off_data(self.account, executive, self.now)
            )
        ]
        if executive is None:
            return None, linked
        text = f"{name} on a {task.kind}" + (f": {note}" if note else "")
        mailbox = (
            self.enrollment.mailbox
            or self.config.hand_off.from_mailbox
            or next((m.name for m in self.config.mailboxes), None)
        )
        data = handoff_email_data(self.prospect, self.account, executive, mailbox, text)
        linked.append(self._event(EventKind.HANDOFF_EMAIL, data))
        return executive.address, linked

    def _event(self, kind: EventKind, data: Mapping[str, object]) -> int:
        event = Event(
            at=self.now,
            kind=kind,
            actor="spear",
            prospect_id=self.prospect.id,
            enrollment_id=self.enrollment.id,
            data=dict(data),
        )
        self.session.add(event)
        self.session.flush()
        assert event.id is not None
        return event.id
