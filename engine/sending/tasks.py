"""A due task step becomes a task for a rep, due in the prospect's window like an email.

The planner hands a due step here when it is a call, LinkedIn or other task step. The task is
booked at the next moment inside the prospect's send windows (the same arithmetic as an email's,
`engine.basics.windows`), with its instructions rendered like an email's template. A task is not
subject to a mailbox's caps: nothing is sent. The enrollment then waits for the outcome a person
records (`engine.tasks.recording`), which decides what comes next; the `(enrollment_id,
step_id)` unique key means a step becomes a task at most once.

A call step for someone whose phone turned out to be wrong is skipped: the cadence goes on. No
task is made for someone suppressed (an address, a domain, a forgotten person): no means no on
every channel, so the enrollment stops.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from engine.basics.windows import SendRules, due_after, next_slot, window_end
from engine.cadences.model import Cadence, Step, StepType
from engine.cadences.templates import context_for, render_step
from engine.config import MailboxConfig
from engine.prospects.lifecycle import Direct, stop_enrollment
from engine.prospects.suppression import is_suppressed
from engine.store.events import EventKind
from engine.store.models import (
    Account,
    Enrollment,
    EnrollmentStatus,
    Event,
    Prospect,
    StopCause,
    Task,
    TaskStatus,
)

log = logging.getLogger(__name__)


def open_task(session: Session, enrollment_id: int) -> Task | None:
    """The enrollment's task still waiting for its outcome, if any: its next step waits too."""
    return session.exec(
        select(Task).where(Task.enrollment_id == enrollment_id, Task.status == TaskStatus.OPEN)
    ).first()


def task_owner(
    prospect: Prospect, thread_mailbox: MailboxConfig | None, sender: MailboxConfig
) -> str | None:
    """The rep who does the task: whoever owns the mailbox the prospect has been written from,
    else the prospect's own owner, else the owner of the mailbox that would write."""
    if thread_mailbox is not None and thread_mailbox.owner:
        return thread_mailbox.owner
    return prospect.owner or sender.owner


def plan_task(
    session: Session,
    *,
    cadence: Cadence,
    step: Step,
    enrollment: Enrollment,
    prospect: Prospect,
    account: Account | None,
    sender: MailboxConfig,
    thread_mailbox: MailboxConfig | None,
    tz: ZoneInfo,
    not_before: datetime,
    now: datetime,
) -> str:
    """Create the task for `step` (or skip a call nobody can make); returns what happened.

    Raises `TemplateRenderError` when the instructions do not render.
    """
    rules = cadence.schedule.rules
    following = cadence.step_after(step.id)
    suppressed = is_suppressed(session, prospect.email)
    if suppressed is not None:
        why = f"suppressed: {suppressed}"
        stop_enrollment(enrollment, StopCause.SUPPRESSED, why, now, Direct(session))
        _event(
            session,
            EventKind.TASK_SKIPPED,
            enrollment,
            now,
            {"step_id": step.id, "reason": "suppressed"},
        )
        return "skipped"
    if step.type is StepType.CALL and prospect.phone_invalid:
        _advance(enrollment, following, now, tz, rules, now)
        _event(
            session,
            EventKind.TASK_SKIPPED,
            enrollment,
            now,
            {"step_id": step.id, "reason": "phone invalid"},
        )
        return "skipped"
    referrer = session.get(Prospect, enrollment.referrer_id) if enrollment.referrer_id else None
    rendered = render_step(cadence, step, context_for(prospect, account, sender, referrer))
    due = next_slot(not_before, tz, rules)
    task = Task(
        enrollment_id=enrollment.id or 0,
        prospect_id=prospect.id or 0,
        step_id=step.id,
        kind=str(step.type),
        owner=task_owner(prospect, thread_mailbox, sender),
        instructions=rendered.body,
        due_at=due,
        due_before=window_end(due, tz, rules),
        status=TaskStatus.OPEN,
        created_at=now,
    )
    session.add(task)
    session.flush()
    # The next step waits for the outcome: `recording` sets when it is due.
    enrollment.next_step = following.id if following else None
    enrollment.next_due_at = None
    enrollment.updated_at = now
    _event(
        session,
        EventKind.TASK_PLANNED,
        enrollment,
        now,
        {"task_id": task.id, "step_id": step.id, "kind": task.kind, "due_at": due.isoformat()},
    )
    log.info(
        "enrollment %d step %s: %s task %d for %s due %s (%s local)",
        enrollment.id,
        step.id,
        task.kind,
        task.id,
        task.owner or "no owner",
        due.isoformat(),
        due.astimezone(tz).isoformat(),
    )
    return "planned"


def _advance(
    enrollment: Enrollment,
    following: Step | None,
    after: datetime,
    tz: ZoneInfo,
    rules: SendRules,
    now: datetime,
) -> None:
    enrollment.next_step = following.id if following else None
    enrollment.next_due_at = due_after(after, following.wait, tz, rules) if following else None
    if following is None:
        enrollment.status = EnrollmentStatus.COMPLETED
    enrollment.updated_at = now


def _event(
    session: Session,
    kind: EventKind,
    enrollment: Enrollment,
    now: datetime,
    data: dict[str, object],
) -> None:
    session.add(
        Event(
            at=now,
            kind=kind,
            actor="planner",
            prospect_id=enrollment.prospect_id,
            enrollment_id=enrollment.id,
            data=data,
        )
    )


__all__ = ["open_task", "plan_task", "task_owner"]
