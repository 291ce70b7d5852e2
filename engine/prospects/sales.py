"""Where a sale stands, set by hand: an account's stage and grade, a contact's buyer role, and the
account executive's acknowledgement of a lead; with their history, and undo.

Each change is one event (`account.stage`, `account.grade`, `lead.acknowledged`, `prospect.role`)
holding who made it, when, and its change log (`engine.prospects.history`), so `spear account
history` shows who set what when, and `undo_last` reverses the newest one. An executive's first
stage, grade or acknowledgement after a hand-off is the lead's first action: speed to lead counts
to it (`engine.service.pipeline`).

`sales_view` puts the grade a person set beside the one Spear suggests from the roles engaged and
the stage (`engine.basics.stages.suggested_grade`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from engine.basics.outcomes import ENGAGED_OUTCOMES
from engine.basics.stages import STAGE_NAMES, suggested_grade
from engine.classify.result import ReplyLabel
from engine.errors import NotFoundError
from engine.prospects.history import latest, record, undo
from engine.store.changes import ChangeLog
from engine.store.events import EventKind
from engine.store.models import (
    Account,
    AccountGrade,
    AccountStage,
    BuyerRole,
    Event,
    InboundMessage,
    OutboundMessage,
    OutboundStatus,
    Prospect,
    Task,
    TaskStatus,
)
from engine.store.payloads import (
    Acknowledged,
    GradeChange,
    HandedOff,
    RoleChange,
    StageChange,
    read,
)

# What an account executive does about a lead: the first one after a hand-off ends its wait.
FIRST_ACTIONS = (EventKind.ACCOUNT_STAGE, EventKind.ACCOUNT_GRADE, EventKind.LEAD_ACKNOWLEDGED)
ACCOUNT_EVENTS = (*FIRST_ACTIONS,)
# A reply that shows a key person engaging: they answered and the sale moved.
ENGAGED_LABELS = frozenset({ReplyLabel.INTEREST, ReplyLabel.REFERRAL, ReplyLabel.NOT_NOW})


@dataclass(frozen=True)
class SalesView:
    domain: str
    stage: AccountStage
    grade: AccountGrade | None
    suggested_grade: AccountGrade | None
    owner: str | None
    deal_size: float | None
    roles: dict[str, str]  # address -> eb/ub/tb
    engaged: list[str]  # the roles engaged, eb/ub/tb


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    kind: str
    actor: str
    change: str
    undone: bool


def set_stage(
    session: Session,
    account: Account,
    stage: AccountStage,
    *,
    now: datetime,
    actor: str,
    deal_size: float | None = None,
) -> Event:
    changes = ChangeLog(session)
    before = account.stage
    changes.set(account, "stage", stage)
    if deal_size is not None:
        changes.set(account, "deal_size", deal_size)
    changes.set(account, "updated_at", now)
    data: StageChange = {
        "account_id": account.id,
        "domain": account.domain,
        "from": before.value,
        "to": stage.value,
        "deal_size": deal_size,
    }
    return record(session, EventKind.ACCOUNT_STAGE, changes, now=now, actor=actor, data=data)


def set_grade(
    session: Session, account: Account, grade: AccountGrade, *, now: datetime, actor: str
) -> Event:
    changes = ChangeLog(session)
    before = account.grade
    changes.set(account, "grade", grade)
    changes.set(account, "updated_at", now)
    data: GradeChange = {
        "account_id": account.id,
        "domain": account.domain,
        "from": before.value if before else None,
        "to": grade.value,
    }
    return record(session, EventKind.ACCOUNT_GRADE, changes, now=now, actor=actor, data=data)


def acknowledge(session: Session, account: Account, *, now: datetime, actor: str) -> Event:
    """The account executive took the lead (a webhook's acknowledgement, or by hand)."""
    data: Acknowledged = {"account_id": account.id, "domain": account.domain}
    return record(
        session,
        EventKind.LEAD_ACKNOWLEDGED,
        ChangeLog(session),
        now=now,
        actor=actor,
        data=data,
    )


def set_role(
    session: Session, prospect: Prospect, role: BuyerRole | None, *, now: datetime, actor: str
) -> Event:
    changes = ChangeLog(session)
    before = prospect.buyer_role
    changes.set(prospect, "buyer_role", role)
    changes.set(prospect, "updated_at", now)
    data: RoleChange = {
        "account_id": prospect.account_id,
        "email": prospect.email,
        "from": before.value if before else None,
        "to": role.value if role else None,
    }
    return record(
        session,
        EventKind.PROSPECT_ROLE,
        changes,
        now=now,
        actor=actor,
        prospect_id=prospect.id,
        data=data,
    )


def undo_last(session: Session, account: Account, *, now: datetime, actor: str) -> Event:
    """Undo the newest stage, grade, acknowledgement or role change at the account."""
    event = latest(session, (*ACCOUNT_EVENTS, EventKind.PROSPECT_ROLE), account_id=account.id)
    if event is None:
        raise NotFoundError(f"{account.domain}: nothing set by hand to undo")
    undo(session, event, now=now, actor=actor)
    return event


def history(session: Session, account: Account) -> list[HistoryLine]:
    """Every stage, grade, acknowledgement and role change at the account, oldest first."""
    events = session.exec(
        select(Event)
        .where(
            col(Event.kind).in_(
                [*ACCOUNT_EVENTS, EventKind.PROSPECT_ROLE, EventKind.ACCOUNT_HANDED_OFF]
            )
        )
        .order_by(col(Event.id))
    ).all()
    mine = [e for e in events if e.data.get("account_id") == account.id]
    return [
        HistoryLine(
            e.at or datetime.min.replace(tzinfo=UTC),
            e.kind,
            e.actor,
            _describe(e),
            e.undone_at is not None,
        )
        for e in mine
    ]


def sales_view(session: Session, account: Account) -> SalesView:
    prospects = session.exec(select(Prospect).where(Prospect.account_id == account.id)).all()
    with_role = {p.id: p for p in prospects if p.buyer_role is not None}
    contacted = {with_role[i].buyer_role for i in _contacted(session, list(with_role))}
    engaged = {with_role[i].buyer_role for i in _engaged(session, list(with_role))}
    return SalesView(
        domain=account.domain,
        stage=account.stage,
        grade=account.grade,
        suggested_grade=suggested_grade(
            {r for r in contacted if r}, {r for r in engaged if r}, account.stage
        ),
        owner=account.owner,
        deal_size=account.deal_size,
        roles={p.email: p.buyer_role.value for p in with_role.values() if p.buyer_role},
        engaged=sorted(r.value for r in engaged if r),
    )


def _contacted(session: Session, ids: list[int | None]) -> set[int]:
    sent = session.exec(
        select(OutboundMessage.prospect_id).where(
            col(OutboundMessage.prospect_id).in_(ids),
            OutboundMessage.status == OutboundStatus.SENT,
        )
    ).all()
    called = session.exec(
        select(Task.prospect_id).where(
            col(Task.prospect_id).in_(ids), Task.status == TaskStatus.DONE
        )
    ).all()
    return set(sent) | set(called)


def _engaged(session: Session, ids: list[int | None]) -> set[int]:
    replied = session.exec(
        select(InboundMessage.prospect_id).where(
            col(InboundMessage.prospect_id).in_(ids),
            col(InboundMessage.label).in_([label.value for label in ENGAGED_LABELS]),
        )
    ).all()
    answered = session.exec(
        select(Task.prospect_id).where(
            col(Task.prospect_id).in_(ids),
            col(Task.outcome).in_([o.value for o in ENGAGED_OUTCOMES]),
        )
    ).all()
    return {i for i in (*replied, *answered) if i is not None}


def _describe(event: Event) -> str:
    if event.kind == EventKind.ACCOUNT_STAGE:
        stage = read(event, StageChange)
        names = {s.value: STAGE_NAMES[s] for s in AccountStage}
        before, after = stage["from"], stage["to"]
        text = f"stage {names.get(before, before)} -> {names.get(after, after)}"
        deal_size = stage.get("deal_size")
        return text + (f", deal size {deal_size:,.0f}" if deal_size else "")
    if event.kind == EventKind.ACCOUNT_GRADE:
        grade = read(event, GradeChange)
        return f"grade {grade['from'] or '-'} -> {grade['to']}"
    if event.kind == EventKind.PROSPECT_ROLE:
        role = read(event, RoleChange)
        return f"{role['email']}: role {role['from'] or '-'} -> {role['to'] or '-'}"
    if event.kind == EventKind.LEAD_ACKNOWLEDGED:
        return "lead acknowledged"
    return f"handed off to {read(event, HandedOff).get('owner') or 'no executive'}"
