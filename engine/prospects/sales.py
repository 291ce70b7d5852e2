"""Where a sale stands, set by hand: an account's stage and grade, a contact's buyer role, and the
account executive's acknowledgement of a lead; with their history, and undo.

Each change is one event (`account.stage`, `account.grade`, `lead.acknowledged`, `prospect.role`)
holding who made it, when, and its change log (`engine.prospects.history`), so `spear account
history` shows who set what when, and `undo_last` reverses the newest one. An executive's first
stage, grade or acknowledgement after a hand-off is the lead's first action: speed to lead counts
to it (`engine.service.pipeline`).

`sales_view` puts the grade a person set beside the one Spear suggests from the roles engaged and
the stage (`engine.prospects.stages.suggested_grade`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from engine.classify.result import ReplyLabel
from engine.errors import NotFoundError
from engine.prospects.history import latest, record, undo
from engine.prospects.stages import STAGE_NAMES, suggested_grade
from engine.replies.changes import ChangeLog
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
from engine.tasks.outcomes import ENGAGED_OUTCOMES

STAGE_EVENT = "account.stage"
GRADE_EVENT = "account.grade"
ACKNOWLEDGED_EVENT = "lead.acknowledged"
ROLE_EVENT = "prospect.role"
# What an account executive does about a lead: the first one after a hand-off ends its wait.
FIRST_ACTIONS = (STAGE_EVENT, GRADE_EVENT, ACKNOWLEDGED_EVENT)
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
    data = _about(account) | {"from": before.value, "to": stage.value, "deal_size": deal_size}
    return record(session, STAGE_EVENT, changes, now=now, actor=actor, data=data)


def set_grade(
    session: Session, account: Account, grade: AccountGrade, *, now: datetime, actor: str
) -> Event:
    changes = ChangeLog(session)
    before = account.grade
    changes.set(account, "grade", grade)
    changes.set(account, "updated_at", now)
    data = _about(account) | {"from": before.value if before else None, "to": grade.value}
    return record(session, GRADE_EVENT, changes, now=now, actor=actor, data=data)


def acknowledge(session: Session, account: Account, *, now: datetime, actor: str) -> Event:
    """The account executive took the lead (a webhook's acknowledgement, or by hand)."""
    return record(
        session, ACKNOWLEDGED_EVENT, ChangeLog(session), now=now, actor=actor, data=_about(account)
    )


def set_role(
    session: Session, prospect: Prospect, role: BuyerRole | None, *, now: datetime, actor: str
) -> Event:
    changes = ChangeLog(session)
    before = prospect.buyer_role
    changes.set(prospect, "buyer_role", role)
    changes.set(prospect, "updated_at", now)
    data = {
        "account_id": prospect.account_id,
        "email": prospect.email,
        "from": before.value if before else None,
        "to": role.value if role else None,
    }
    return record(
        session, ROLE_EVENT, changes, now=now, actor=actor, prospect_id=prospect.id, data=data
    )


def undo_last(session: Session, account: Account, *, now: datetime, actor: str) -> Event:
    """Undo the newest stage, grade, acknowledgement or role change at the account."""
    event = latest(session, (*ACCOUNT_EVENTS, ROLE_EVENT), account_id=account.id)
    if event is None:
        raise NotFoundError(f"{account.domain}: nothing set by hand to undo")
    undo(session, event, now=now, actor=actor)
    return event


def history(session: Session, account: Account) -> list[HistoryLine]:
    """Every stage, grade, acknowledgement and role change at the account, oldest first."""
    events = session.exec(
        select(Event)
        .where(col(Event.kind).in_([*ACCOUNT_EVENTS, ROLE_EVENT, "account.handed-off"]))
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


def _about(account: Account) -> dict[str, Any]:
    return {"account_id": account.id, "domain": account.domain}


def _describe(event: Event) -> str:
    data = event.data
    if event.kind == STAGE_EVENT:
        names = {s.value: STAGE_NAMES[s] for s in AccountStage}
        before, after = str(data.get("from")), str(data.get("to"))
        text = f"stage {names.get(before, before)} -> {names.get(after, after)}"
        return text + (f", deal size {data['deal_size']:,.0f}" if data.get("deal_size") else "")
    if event.kind == GRADE_EVENT:
        return f"grade {data.get('from') or '-'} -> {data['to']}"
    if event.kind == ROLE_EVENT:
        return f"{data.get('email')}: role {data.get('from') or '-'} -> {data.get('to') or '-'}"
    if event.kind == ACKNOWLEDGED_EVENT:
        return "lead acknowledged"
    return f"handed off to {data.get('owner') or 'no executive'}"
