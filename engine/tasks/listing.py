"""The tasks a rep has to do: open, of an enrollment still running, due by the end of a day, for
someone not suppressed since (the list is checked when it is read, as the dispatcher checks it
before each send)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from engine.prospects.addresses import normalise_email
from engine.prospects.suppression import suppression_reasons
from engine.store.models import Account, Enrollment, EnrollmentStatus, Prospect, Task, TaskStatus


@dataclass(frozen=True)
class TaskLine:
    id: int
    kind: str
    step_id: str
    cadence: str
    owner: str | None
    due_at: datetime
    due_before: datetime | None
    status: str
    outcome: str | None
    email: str
    name: str
    title: str | None
    company: str
    phone: str | None
    phone_invalid: bool
    instructions: str


def end_of_day(day: date, zone: str) -> datetime:
    """The first instant of the next day in `zone`, in UTC."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=ZoneInfo(zone)).astimezone(
        ZoneInfo("UTC")
    )


def due_tasks(
    session: Session, *, until: datetime, owner: str | None = None, include_done: bool = False
) -> list[TaskLine]:
    """Open tasks due before `until` (overdue ones too), of active enrollments, oldest first;
    with `include_done`, every task due in that time, done or not, whatever became of its
    enrollment."""
    query = (
        select(Task, Enrollment, Prospect, Account)
        .join(Enrollment, col(Task.enrollment_id) == col(Enrollment.id))
        .join(Prospect, col(Task.prospect_id) == col(Prospect.id))
        .join(Account, col(Prospect.account_id) == col(Account.id), isouter=True)
        .where(col(Task.due_at) < until)
        .order_by(col(Task.due_at), col(Task.id))
    )
    if not include_done:
        query = query.where(
            Task.status == TaskStatus.OPEN, Enrollment.status == EnrollmentStatus.ACTIVE
        )
    if owner is not None:
        query = query.where(Task.owner == owner)
    rows = session.exec(query).all()
    if include_done:
        return [_line(*row) for row in rows]
    suppressed = suppression_reasons(session, [prospect.email for _, _, prospect, _ in rows])
    return [_line(*row) for row in rows if normalise_email(row[2].email) not in suppressed]


def count_due_tasks(session: Session, now: datetime) -> int:
    """Open tasks of active enrollments due by `now`: what `spear status` and the metrics count."""
    return session.exec(
        select(func.count())
        .select_from(Task)
        .join(Enrollment, col(Enrollment.id) == col(Task.enrollment_id))
        .where(Task.status == TaskStatus.OPEN, Enrollment.status == EnrollmentStatus.ACTIVE)
        .where(col(Task.due_at) <= now)
    ).one()


def task_line(session: Session, task: Task) -> TaskLine:
    enrollment = session.get(Enrollment, task.enrollment_id)
    prospect = session.get(Prospect, task.prospect_id)
    assert enrollment is not None and prospect is not None
    account = session.get(Account, prospect.account_id) if prospect.account_id else None
    return _line(task, enrollment, prospect, account)


def _line(
    task: Task, enrollment: Enrollment, prospect: Prospect, account: Account | None
) -> TaskLine:
    assert task.id is not None and task.due_at is not None
    return TaskLine(
        id=task.id,
        kind=task.kind,
        step_id=task.step_id,
        cadence=enrollment.cadence,
        owner=task.owner,
        due_at=task.due_at,
        due_before=task.due_before,
        status=str(task.status),
        outcome=task.outcome,
        email=prospect.email,
        name=" ".join(p for p in (prospect.first_name, prospect.last_name) if p),
        title=prospect.title,
        company=(account.name or account.domain) if account else "",
        phone=prospect.phone,
        phone_invalid=prospect.phone_invalid,
        instructions=task.instructions,
    )
