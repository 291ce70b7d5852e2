"""Reviewing in the web inbox, apart from HTTP: queue pages, one reply, decisions.

Everything here reads and decides through the review package, so the browser and `spear review`
see the same queue, describe the same plan (`engine.review.explain.plan_for`) and record the same
decisions (`engine.review.decisions`). What the browser adds is the lease (`engine.review.claims`)
and a check that nobody decided the reply since the page was drawn: a decision names the latest
decision it saw, and is refused when there is a newer one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from engine.classify import ReplyLabel
from engine.classify.parse import body_text, parse_message
from engine.classify.quotes import split_reply
from engine.errors import SpearError
from engine.replies import ReplySettings
from engine.review import claims
from engine.review.decisions import Outcome, accept, relabel, undo_last
from engine.review.explain import plans_for
from engine.review.queue import (
    QueueFilter,
    QueueItem,
    count_by_label,
    get_item,
    list_queue,
    queue_ids,
)
from engine.review.session import parse_edit
from engine.store.models import InboundMessage, InboundStatus, OutboundMessage, ReviewDecision

PAGE_SIZE = 50
MAX_SHOWN_CHARACTERS = 20_000  # longer bodies are cut on the page; the raw view has them all


class Move(StrEnum):
    """What a reviewer asks for on one reply (the keys of `spear review`)."""

    ACCEPT = "accept"  # a
    RELABEL = "relabel"  # r
    EDIT = "edit"  # e


class DecisionRefused(SpearError):
    """A decision the inbox will not record: someone else holds the reply or decided it."""


@dataclass(frozen=True)
class QueuePage:
    items: list[QueueItem]
    holders: dict[int, str]  # reply id -> who is looking at it
    counts: dict[str, int]  # label -> items under the filter (its label ignored)
    total: int  # items under the whole filter
    page: int  # 1-based
    pages: int


@dataclass(frozen=True)
class Shown:
    """A text cut to what a page can carry."""

    text: str
    cut: int  # characters left out

    @classmethod
    def of(cls, text: str) -> Shown:
        return cls(text[:MAX_SHOWN_CHARACTERS], max(0, len(text) - MAX_SHOWN_CHARACTERS))


@dataclass(frozen=True)
class SentStep:
    step: str
    subject: str
    sent_at: datetime | None
    body: Shown


@dataclass(frozen=True)
class ReplyView:
    item: QueueItem
    reply: Shown  # the replier's own words
    whole: Shown  # the body with quotes and signature, folded on the page
    sent: SentStep | None
    extracted: dict[str, Any]  # referrals, resume_after, return_date, alternate_emails, bounce
    why: dict[str, Any]  # review reason, how it was matched, best guess, error
    plan: str  # what accepting does, as `spear review` says it
    plans: dict[str, str]  # what relabelling to each label would do
    holder: str | None  # someone else looking at it
    seen: str  # its `decision_mark` when drawn
    position: int | None  # 1-based place in the filtered queue; None when no longer in it
    total: int
    decided: bool


def queue_page(
    session: Session, queue_filter: QueueFilter, page: int, reviewer: str, now: datetime
) -> QueuePage:
    counts = count_by_label(session, queue_filter, now)
    total = (
        sum(counts.get(label, 0) for label in queue_filter.labels)
        if queue_filter.labels
        else sum(counts.values())
    )
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    items = list_queue(session, queue_filter, now, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    held = claims.holders(session, [item.id for item in items], now)
    holders = {item_id: who for item_id, who in held.items() if who != reviewer}
    return QueuePage(items, holders, counts, total, page, pages)


def reply_view(
    session: Session,
    item_id: int,
    queue_filter: QueueFilter,
    settings: ReplySettings,
    reviewer: str,
    now: datetime,
) -> ReplyView:
    """One reply as the page shows it; opening it takes the lease when nobody else holds it."""
    item = get_item(session, item_id)
    decided = item.status != InboundStatus.REVIEW
    holder = None if decided else claims.claim(session, item.id, reviewer, now)
    ids = queue_ids(session, queue_filter, now)
    classification = _classification(session, item.id)
    whole = _body(session, item.id)
    plans = plans_for(session, item.id, [*labels(), item.proposed_label], settings)
    return ReplyView(
        item=item,
        reply=Shown.of(
            item.reply_text if item.reply_text is not None else split_reply(whole).reply
        ),
        whole=Shown.of(whole),
        sent=_sent_step(session, item.id),
        extracted={
            "referrals": classification.get("referrals") or [],
            "resume_after": classification.get("resume_after"),
            "return_date": classification.get("return_date"),
            "alternate_emails": classification.get("alternate_emails") or [],
            "bounce": classification.get("bounce"),
        },
        why={
            "reason": item.reason,
            "match": classification.get("match"),
            "best_guess": item.best_guess,
            "error": classification.get("error"),
            "complaint": bool(classification.get("complaint")),
        },
        plan=plans[item.proposed_label],
        plans=plans,
        holder=holder,
        seen=decision_mark(session, item.id),
        position=ids.index(item.id) + 1 if item.id in ids else None,
        total=len(ids),
        decided=decided,
    )


def next_reply(
    session: Session, queue_filter: QueueFilter, after: int | None, reviewer: str, now: datetime
) -> int | None:
    """The first reply after `after` in queue order that nobody else is looking at."""
    ids = queue_ids(session, queue_filter, now)
    start = ids.index(after) + 1 if after in ids else 0
    busy = claims.held_by_others(session, reviewer, now)
    return next((i for i in ids[start:] if i not in busy), None)


def decide(
    session: Session,
    item_id: int,
    move: Move,
    settings: ReplySettings,
    *,
    reviewer: str,
    now: datetime,
    seen: str,
    label: str | None = None,
    edit: str | None = None,
) -> Outcome:
    """Record `move` on the reply, as `spear review` would, if it is still ours to decide."""
    holder = claims.claim(session, item_id, reviewer, now)
    if holder is not None:
        raise DecisionRefused(f"{holder} is looking at this reply")
    if decision_mark(session, item_id) != seen:
        who = _last_decider(session, item_id)
        raise DecisionRefused(f"{who} decided this reply meanwhile: reload it")
    if move is Move.ACCEPT:
        outcome = accept(session, item_id, settings, now=now, reviewer=reviewer)
    elif move is Move.RELABEL:
        outcome = relabel(session, item_id, label or "", settings, now=now, reviewer=reviewer)
    else:
        item = get_item(session, item_id)
        try:
            change = parse_edit((edit or "").strip(), item.proposed_label)
        except ValueError as error:
            raise DecisionRefused(str(error)) from None
        outcome = relabel(
            session,
            item_id,
            change.label,
            settings,
            now=now,
            reviewer=reviewer,
            referrals=change.referrals,
            resume_after=change.resume_after,
            return_date=change.return_date,
        )
    claims.release(session, item_id, reviewer)
    return outcome


def undo(session: Session, settings: ReplySettings, *, reviewer: str, now: datetime) -> int:
    """Undo the reviewer's latest decision (as `spear review`'s u); the reply's id."""
    decision = undo_last(session, reviewer, settings, now=now)
    return decision.inbound_id


def skip(session: Session, item_id: int, reviewer: str) -> None:
    claims.release(session, item_id, reviewer)


def decision_mark(session: Session, item_id: int) -> str:
    """What the reply's decisions look like now (the newest, how many undone): a decision is
    refused when this changed since the page was drawn."""
    newest, undone = session.execute(
        sa.select(
            sa.func.max(col(ReviewDecision.id)), sa.func.count(col(ReviewDecision.undone_at))
        ).where(col(ReviewDecision.inbound_id) == item_id)
    ).one()
    return f"{newest or 0}.{undone}"


def _last_decider(session: Session, item_id: int) -> str:
    reviewer = session.execute(
        sa.select(col(ReviewDecision.reviewer))
        .where(col(ReviewDecision.inbound_id) == item_id)
        .order_by(col(ReviewDecision.id).desc())
        .limit(1)
    ).scalar_one_or_none()
    return reviewer or "someone"


def labels() -> list[str]:
    return [str(label) for label in ReplyLabel]


def parse_day(value: str | None) -> date | None:
    """A `YYYY-MM-DD` filter value; anything else is no filter."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


# --- reading one reply --------------------------------------------------------------------------


def _classification(session: Session, item_id: int) -> dict[str, Any]:
    record = session.execute(
        sa.select(col(InboundMessage.classification)).where(col(InboundMessage.id) == item_id)
    ).scalar_one()
    return dict(record or {})


def _body(session: Session, item_id: int) -> str:
    raw = session.execute(
        sa.select(col(InboundMessage.raw)).where(col(InboundMessage.id) == item_id)
    ).scalar_one()
    return _text_of(bytes(raw))


def _sent_step(session: Session, item_id: int) -> SentStep | None:
    row = session.execute(
        sa.select(
            col(OutboundMessage.step_id),
            col(OutboundMessage.subject),
            col(OutboundMessage.sent_at),
            col(OutboundMessage.raw),
        )
        .join(InboundMessage, col(InboundMessage.outbound_id) == col(OutboundMessage.id))
        .where(col(InboundMessage.id) == item_id)
    ).first()
    if row is None:
        return None
    return SentStep(row.step_id, row.subject, row.sent_at, Shown.of(_text_of(bytes(row.raw))))


def _text_of(raw: bytes) -> str:
    try:
        return body_text(parse_message(raw))
    except Exception:  # too broken to read: the raw view still shows its bytes
        return ""
