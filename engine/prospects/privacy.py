"""Privacy requests: what is held about a person (`export`) and erasing it (`forget`).

Forgetting deletes the prospect row and everything that carries their personal data: their
enrollments, the messages sent to them (with their content), the messages received from them and
the review decisions on those, and their events. Links from other rows (who referred whom) are
cleared. Address entries on the suppression list become one hash entry: the sha256 of the
normalised address, so Spear still refuses to contact them (an import of the same address is
suppressed at enrolment) without keeping who they were. Their company's account stays: it is
company data, not personal data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from engine.errors import NotFoundError
from engine.prospects.addresses import email_hash, normalise_email
from engine.prospects.suppression import add_hash
from engine.store.events import EventKind
from engine.store.models import (
    Account,
    Enrollment,
    Event,
    InboundMessage,
    OutboundMessage,
    Prospect,
    ReviewDecision,
    Suppression,
    SuppressionSource,
    Task,
)


def export_person(session: Session, email: str) -> dict[str, Any]:
    """Everything held about the person at `email`, as plain JSON-ready data."""
    address = normalise_email(email)
    prospect = session.exec(select(Prospect).where(Prospect.email == address)).first()
    suppressions = _suppressions_of(session, address)
    if prospect is None and not suppressions:
        raise NotFoundError(f"nothing is held about {address}")
    held: dict[str, Any] = {
        "email": address,
        "prospect": _plain(prospect) if prospect else None,
        "suppressions": [_plain(s) for s in suppressions],
    }
    if prospect is None:
        return held
    account = session.get(Account, prospect.account_id) if prospect.account_id else None
    held["account"] = _plain(account) if account else None
    held["enrollments"] = [
        _plain(e)
        for e in session.exec(select(Enrollment).where(Enrollment.prospect_id == prospect.id))
    ]
    held["messages_sent"] = [
        {k: v for k, v in _plain(m).items() if k != "raw"}
        for m in session.exec(
            select(OutboundMessage).where(OutboundMessage.prospect_id == prospect.id)
        )
    ]
    held["messages_received"] = [
        {k: v for k, v in _plain(m).items() if k != "raw"}
        for m in session.exec(select(InboundMessage).where(_inbound_of(prospect)))
    ]
    held["tasks"] = [
        _plain(t) for t in session.exec(select(Task).where(Task.prospect_id == prospect.id))
    ]
    held["events"] = [
        _plain(e) for e in session.exec(select(Event).where(Event.prospect_id == prospect.id))
    ]
    return held


def forget_person(session: Session, email: str, *, now: datetime) -> bool:
    """Erase the person at `email` and suppress their hash; False when no prospect was held.

    The hash entry is written either way, so a forget request for someone not (yet) imported
    still keeps them from ever being contacted.
    """
    address = normalise_email(email)
    prospect = session.exec(select(Prospect).where(Prospect.email == address)).first()
    for entry in session.exec(select(Suppression).where(Suppression.value == address)):
        session.delete(entry)
    add_hash(
        session, address, now=now, reason="forgotten on request", source=SuppressionSource.FORGET
    )
    session.add(Event(at=now, kind=EventKind.FORGOTTEN, data={"hash": email_hash(address)}))
    if prospect is None:
        session.flush()
        return False
    _erase(session, prospect)
    return True


def _erase(session: Session, prospect: Prospect) -> None:
    pid = prospect.id
    outbound_ids = select(OutboundMessage.id).where(col(OutboundMessage.prospect_id) == pid)
    inbound = sa.or_(_inbound_of(prospect), col(InboundMessage.outbound_id).in_(outbound_ids))
    inbound_ids = select(InboundMessage.id).where(inbound)
    enrollment_ids = select(Enrollment.id).where(col(Enrollment.prospect_id) == pid)
    statements = [
        sa.delete(ReviewDecision).where(col(ReviewDecision.inbound_id).in_(inbound_ids)),
        sa.delete(Event).where(
            sa.or_(
                col(Event.prospect_id) == pid,
                col(Event.inbound_id).in_(inbound_ids),
                col(Event.outbound_id).in_(outbound_ids),
                col(Event.enrollment_id).in_(enrollment_ids),
            )
        ),
        sa.delete(InboundMessage).where(inbound),
        sa.delete(Task).where(col(Task.prospect_id) == pid),
        sa.delete(OutboundMessage).where(col(OutboundMessage.prospect_id) == pid),
        sa.update(Enrollment).where(col(Enrollment.referrer_id) == pid).values(referrer_id=None),
        sa.delete(Enrollment).where(col(Enrollment.prospect_id) == pid),
        sa.update(Prospect).where(col(Prospect.referred_by_id) == pid).values(referred_by_id=None),
        sa.delete(Prospect).where(col(Prospect.id) == pid),
    ]
    session.flush()
    for statement in statements:
        session.execute(statement)
    session.expunge(prospect)


def _inbound_of(prospect: Prospect) -> sa.ColumnElement[bool]:
    return sa.or_(
        col(InboundMessage.prospect_id) == prospect.id,
        sa.func.lower(InboundMessage.from_address) == prospect.email,
    )


def _suppressions_of(session: Session, address: str) -> list[Suppression]:
    domain = address.rpartition("@")[2]
    values = [address, email_hash(address), domain]
    return list(session.exec(select(Suppression).where(col(Suppression.value).in_(values))))


def _plain(row: SQLModel) -> dict[str, Any]:
    return row.model_dump(mode="json")
