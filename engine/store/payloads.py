"""What `Event.data` holds for the kinds one part writes and another reads.

The column stays JSON; these `TypedDict`s are the contract between the writer and the reader, so
a key renamed on one side is a type error on the other. A reader takes the data through `read`,
which checks the event's kind before it trusts the shape.

Only the keys named here are part of a contract. The change log of an undoable action
(`engine.store.changes`) is stored beside them in the same dict.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict, TypeVar, cast

from engine.store.events import EventKind, WebhookEvent
from engine.store.models import Event

# Functional syntax: "from" is a keyword. From and to are the `AccountStage`, `AccountGrade` or
# `BuyerRole` values before and after.
StageChange = TypedDict(
    "StageChange",
    {"account_id": int | None, "domain": str, "from": str, "to": str, "deal_size": float | None},
)
GradeChange = TypedDict(
    "GradeChange", {"account_id": int | None, "domain": str, "from": str | None, "to": str}
)
RoleChange = TypedDict(
    "RoleChange", {"account_id": int | None, "email": str, "from": str | None, "to": str | None}
)


class Acknowledged(TypedDict):
    """`lead.acknowledged`: the account executive took the lead at this account."""

    account_id: int | None
    domain: str


class HandedOff(TypedDict, total=False):
    """`account.handed-off`: for the weighted pipeline and speed to lead.

    Spear writes every key; events from versions before stages and grades have none of them,
    so a reader asks with `.get`.
    """

    account_id: int | None
    owner: str | None  # the account executive, None when none is configured
    interest_at: str  # ISO time of the interest that caused the hand-off


class HandoffPerson(TypedDict):
    email: str
    name: str
    title: str | None


class HandoffEmail(TypedDict):
    """`handoff.email`: the email to the account executive; the sender adds its progress."""

    status: str  # pending, sending, sent or failed (`engine.replies.handoff`)
    to: str
    mailbox: str | None
    subject: str
    prospect: HandoffPerson
    reply_text: str
    message_id: NotRequired[str]  # fixed at the first attempt, so a retry is the same email


class WebhookPayload(TypedDict):
    """What a receiver gets under `data`: the reply that caused the event."""

    inbound_id: int | None
    prospect: str | None
    classification: dict[str, Any] | None
    at: str


class WebhookRequest(TypedDict):
    """`webhook.pending` as the replies write it; the sender adds its progress beside it."""

    event: WebhookEvent
    payload: WebhookPayload


class ReplyApplied(TypedDict):
    """`reply.applied`: the label acted on, and why a person must still look (if so)."""

    label: str | None
    review: list[str]
    steps: NotRequired[list[str]]  # the plan's step kinds (`engine.replies.plan.StepKind`)


class SoftBounce(TypedDict):
    """`bounce.soft`: counted toward `replies.soft_bounce_limit`."""

    reason: str


class BlockBounce(TypedDict):
    """`bounce.block`: counted against the mailbox for its block alarm."""

    mailbox: str
    reason: str


_SHAPES: dict[EventKind, type[Any]] = {
    EventKind.ACCOUNT_STAGE: StageChange,
    EventKind.ACCOUNT_GRADE: GradeChange,
    EventKind.PROSPECT_ROLE: RoleChange,
    EventKind.LEAD_ACKNOWLEDGED: Acknowledged,
    EventKind.ACCOUNT_HANDED_OFF: HandedOff,
    EventKind.HANDOFF_EMAIL: HandoffEmail,
    EventKind.WEBHOOK_PENDING: WebhookRequest,
    EventKind.REPLY_APPLIED: ReplyApplied,
    EventKind.BOUNCE_SOFT: SoftBounce,
    EventKind.BOUNCE_BLOCK: BlockBounce,
}


T = TypeVar("T")


def read(event: Event, shape: type[T]) -> T:
    """`event.data` as `shape`; a `ValueError` if the event is of a kind that holds another."""
    if _SHAPES.get(event.kind) is not shape:
        raise ValueError(f"event {event.id} of kind {event.kind} does not hold {shape.__name__}")
    return cast(T, event.data)
