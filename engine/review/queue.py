"""The review queue: which inbound messages need a person, as one query.

A message needs a person when the actions left it in `REVIEW`: unclear replies, anything below
the confidence threshold, referrals without an address, auto-replies naming an alternate contact,
unmatched messages and messages that failed to parse. `include_applied_days` adds what was acted
on automatically in the last N days, for spot checks.

`list_queue` is one SELECT with outer joins to the prospect, account, outbound message and
enrollment (no query per row), reading only the columns a listing shows: never the raw message.
The reply snippet comes from the stored classification's `reply_text`; older rows without one get
theirs from `reply_text`, computed only for the item a person is looking at.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col

from engine.classify import ReplyLabel
from engine.errors import NotFoundError
from engine.store.models import (
    Account,
    Enrollment,
    InboundMessage,
    InboundStatus,
    OutboundMessage,
    Prospect,
)

SNIPPET_LENGTH = 80

_Query = TypeVar("_Query", bound=sa.Select[*tuple[Any, ...]])


@dataclass(frozen=True)
class QueueFilter:
    """What `spear queue` narrows the queue to; every field left empty matches everything."""

    labels: tuple[str, ...] = ()
    mailbox: str | None = None
    cadence: str | None = None
    account: str | None = None  # the account's domain
    since: datetime | None = None  # received at or after
    until: datetime | None = None  # received before
    include_applied_days: int | None = None  # also what was auto-applied in the last N days


@dataclass(frozen=True)
class QueueItem:
    """One row of the queue: what a person needs to decide, without the raw message."""

    id: int
    received_at: datetime | None
    from_address: str | None
    subject: str | None
    label: str | None
    confidence: float | None
    best_guess: str | None
    reason: str | None
    status: str
    mailbox: str
    prospect_email: str | None
    account: str | None  # domain
    account_name: str | None
    cadence: str | None
    step: str | None
    reply_text: str | None  # the stripped reply as stored; None for rows stored without one

    @property
    def snippet(self) -> str:
        """The reply on one short line (empty when the stored record has no reply text)."""
        text = " ".join((self.reply_text or "").split())
        if len(text) <= SNIPPET_LENGTH:
            return text
        return text[: SNIPPET_LENGTH - 1].rstrip() + "…"

    @property
    def proposed_label(self) -> str:
        return proposed_label(self.label, self.best_guess)


def proposed_label(label: str | None, best_guess: str | None) -> str:
    """The label accepting a reply applies: the best guess of an unclear reply, if any."""
    if label in (None, ReplyLabel.UNCLEAR) and best_guess:
        return best_guess
    return label or str(ReplyLabel.UNCLEAR)


def list_queue(
    session: Session,
    queue_filter: QueueFilter,
    now: datetime,
    *,
    offset: int = 0,
    limit: int | None = None,
) -> list[QueueItem]:
    """The items matching `queue_filter`, oldest first (a page of them with `offset`/`limit`)."""
    query = _items_query().where(_wanted(queue_filter, now), *_conditions(queue_filter))
    query = query.order_by(col(InboundMessage.received_at), col(InboundMessage.id))
    if offset or limit is not None:
        query = query.offset(offset).limit(limit)
    return [_item(row) for row in session.execute(query)]


def queue_ids(session: Session, queue_filter: QueueFilter, now: datetime) -> list[int]:
    """The ids of the items matching `queue_filter`, in queue order (cheap: no row is read)."""
    query = _joined(sa.select(col(InboundMessage.id)))
    query = query.where(_wanted(queue_filter, now), *_conditions(queue_filter))
    query = query.order_by(col(InboundMessage.received_at), col(InboundMessage.id))
    return list(session.execute(query).scalars())


def count_by_label(session: Session, queue_filter: QueueFilter, now: datetime) -> dict[str, int]:
    """How many items match `queue_filter` under each label (its own label filter ignored); the
    messages no label was given (they failed to parse) count under ""."""
    every_label = replace(queue_filter, labels=())
    label = col(InboundMessage.label)
    query = _joined(sa.select(label, sa.func.count()))
    query = query.where(_wanted(every_label, now), *_conditions(every_label)).group_by(label)
    return {name or "": int(count) for name, count in session.execute(query)}


def _wanted(queue_filter: QueueFilter, now: datetime) -> sa.ColumnElement[bool]:
    wanted = col(InboundMessage.status) == InboundStatus.REVIEW
    if queue_filter.include_applied_days is not None:
        recent = now - timedelta(days=queue_filter.include_applied_days)
        wanted = sa.or_(
            wanted,
            sa.and_(
                col(InboundMessage.status) == InboundStatus.APPLIED,
                col(InboundMessage.received_at) >= recent,
            ),
        )
    return wanted


def get_item(session: Session, item_id: int) -> QueueItem:
    """One inbound message as a queue item, whatever its status."""
    row = session.execute(_items_query().where(col(InboundMessage.id) == item_id)).first()
    if row is None:
        raise NotFoundError(f"no inbound message {item_id}")
    return _item(row)


def reply_text(session: Session, item: QueueItem) -> str:
    """The stripped reply: as stored, else extracted from the raw message now."""
    if item.reply_text is not None:
        return item.reply_text
    raw = session.execute(
        sa.select(col(InboundMessage.raw)).where(col(InboundMessage.id) == item.id)
    ).scalar_one()
    # Imported here, for the item on screen only: listing the queue needs no parser.
    from engine.classify.parse import body_text, parse_message
    from engine.classify.quotes import split_reply

    try:
        return split_reply(body_text(parse_message(raw))).reply
    except Exception:  # a message too broken to read: the raw view still shows its bytes
        return ""


def raw_text(session: Session, item_id: int) -> str:
    """The raw message as text, for a person to read (undecodable bytes replaced)."""
    raw = session.execute(
        sa.select(col(InboundMessage.raw)).where(col(InboundMessage.id) == item_id)
    ).scalar_one_or_none()
    if raw is None:
        raise NotFoundError(f"no inbound message {item_id}")
    return bytes(raw).decode("utf-8", errors="replace")


# --- the query ----------------------------------------------------------------------------------


def _classification_field(name: str) -> sa.ColumnElement[str]:
    classification: sa.ColumnElement[Any] = sa.type_coerce(
        col(InboundMessage.classification), sa.JSON
    )
    field: sa.ColumnElement[str] = classification[name].as_string()
    return field


def _cadence_column() -> sa.ColumnElement[str]:
    """The cadence of the email answered, else (matched by sender) the prospect's latest one."""
    latest = (
        sa.select(col(Enrollment.cadence))
        .where(col(Enrollment.prospect_id) == col(InboundMessage.prospect_id))
        .order_by(col(Enrollment.id).desc())
        .limit(1)
        .correlate(InboundMessage)
        .scalar_subquery()
    )
    return sa.func.coalesce(col(Enrollment.cadence), latest)


def _items_query() -> sa.Select[*tuple[Any, ...]]:
    return _joined(
        sa.select(
            col(InboundMessage.id),
            col(InboundMessage.received_at),
            col(InboundMessage.from_address),
            col(InboundMessage.subject),
            col(InboundMessage.label),
            col(InboundMessage.confidence),
            _classification_field("best_guess").label("best_guess"),
            col(InboundMessage.review_reason),
            col(InboundMessage.status),
            col(InboundMessage.mailbox),
            col(Prospect.email).label("prospect_email"),
            col(Account.domain).label("account"),
            col(Account.name).label("account_name"),
            _cadence_column().label("cadence"),
            col(OutboundMessage.step_id).label("step"),
            _classification_field("reply_text").label("reply_text"),
        )
    )


def _joined(query: _Query) -> _Query:
    """`query` over the inbound rows with the prospect, account, message answered and cadence."""
    return (
        query.select_from(InboundMessage)
        .outerjoin(Prospect, col(Prospect.id) == col(InboundMessage.prospect_id))
        .outerjoin(Account, col(Account.id) == col(Prospect.account_id))
        .outerjoin(OutboundMessage, col(OutboundMessage.id) == col(InboundMessage.outbound_id))
        .outerjoin(Enrollment, col(Enrollment.id) == col(OutboundMessage.enrollment_id))
    )


def _conditions(queue_filter: QueueFilter) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if queue_filter.labels:
        conditions.append(col(InboundMessage.label).in_(queue_filter.labels))
    if queue_filter.mailbox:
        conditions.append(col(InboundMessage.mailbox) == queue_filter.mailbox)
    if queue_filter.cadence:
        conditions.append(_cadence_column() == queue_filter.cadence)
    if queue_filter.account:
        conditions.append(col(Account.domain) == queue_filter.account.lower())
    if queue_filter.since:
        conditions.append(col(InboundMessage.received_at) >= queue_filter.since)
    if queue_filter.until:
        conditions.append(col(InboundMessage.received_at) < queue_filter.until)
    return conditions


def _item(row: sa.Row[*tuple[Any, ...]]) -> QueueItem:
    return QueueItem(
        id=row.id,
        received_at=row.received_at,
        from_address=row.from_address,
        subject=row.subject,
        label=row.label,
        confidence=row.confidence,
        best_guess=row.best_guess,
        reason=row.review_reason,
        status=str(row.status),
        mailbox=row.mailbox,
        prospect_email=row.prospect_email,
        account=row.account,
        account_name=row.account_name,
        cadence=row.cadence,
        step=row.step,
        reply_text=row.reply_text,
    )


__all__ = [
    "QueueFilter",
    "QueueItem",
    "count_by_label",
    "get_item",
    "list_queue",
    "proposed_label",
    "queue_ids",
    "raw_text",
    "reply_text",
]
