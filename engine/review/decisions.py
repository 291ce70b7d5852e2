"""A person's decisions on queued replies: accept, relabel, undo, and the labelled data they make.

Every decision is a `ReviewDecision` row (who, when, old and new label, what was edited) holding
what the reply looked like before it, so `undo_last` can put it back exactly:

- `accept` takes the label Spear proposes (an unclear reply's best guess, else its label). When
  that is the label already acted on, only the status changes; otherwise it is a relabel.
- `relabel` goes through `engine.replies.reclassify`: the old label's actions are undone and the
  new one's applied (optionally with a corrected referral or date).
- `undo_last` undoes the reviewer's latest decision: the relabel's actions are undone, the row's
  label, confidence, classification, status and reason are restored, and the events the relabel
  undid are *redone* (`changes.redo`): the fields they had set go back to the values they wrote,
  the rows the relabel deleted come back with their ids and values, and the events are live
  again. Nothing is run a second time, so what other replies at the account decided in the
  meantime cannot make the old actions come out differently. The undo is an `undo.review` event.

Nothing here commits: the caller owns the transaction.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from engine.classify import Referral, ReplyLabel
from engine.clock import utc
from engine.errors import NotFoundError, SpearError
from engine.replies import ActionResult, ReplySettings, apply_actions, reclassify, undo_actions
from engine.review.queue import proposed_label
from engine.store.changes import UNDO_KEY, redo
from engine.store.events import EventKind
from engine.store.models import Event, InboundMessage, InboundStatus, ReviewDecision

__all__ = [
    "DecisionKind",
    "Outcome",
    "ReviewError",
    "accept",
    "decode_example_raw",
    "export_decisions",
    "relabel",
    "undo_last",
]


class ReviewError(SpearError):
    """A decision that cannot be made or undone as asked."""


class DecisionKind(StrEnum):
    ACCEPT = "accept"
    RELABEL = "relabel"


@dataclass(frozen=True)
class Outcome:
    """A recorded decision and, when actions ran, what they reported."""

    decision: ReviewDecision
    actions: ActionResult | None

    @property
    def notes(self) -> tuple[str, ...]:
        """What the actions could not do on their own (a missing address, an unloaded cadence)."""
        return self.actions.review_reasons if self.actions is not None else ()


def accept(
    session: Session,
    item_id: int,
    settings: ReplySettings,
    *,
    now: datetime,
    reviewer: str,
) -> Outcome:
    """Confirm the label Spear proposes for the reply."""
    inbound = _inbound(session, item_id)
    label = proposed_label(inbound.label, inbound.classification.get("best_guess"))
    if label == inbound.label and _live_application(session, item_id) is not None:
        before = _state(session, inbound)
        inbound.status, inbound.review_reason = InboundStatus.REVIEWED, None
        session.add(inbound)
        decision = _record(session, inbound, before, DecisionKind.ACCEPT, label, {}, now, reviewer)
        return Outcome(decision, None)
    return _reclassify(
        session, inbound, DecisionKind.ACCEPT, label, settings, {}, now=now, reviewer=reviewer
    )


def relabel(
    session: Session,
    item_id: int,
    label: ReplyLabel | str,
    settings: ReplySettings,
    *,
    now: datetime,
    reviewer: str,
    referrals: Sequence[Referral] | None = None,
    resume_after: date | None = None,
    return_date: date | None = None,
) -> Outcome:
    """Give the reply `label` (and corrected details): the old actions are undone, new ones run."""
    try:
        new_label = ReplyLabel(label)
    except ValueError:
        known = ", ".join(ReplyLabel)
        raise ReviewError(f"unknown label {label!r} (known: {known})") from None
    edits: dict[str, Any] = {}
    if referrals is not None:
        edits["referrals"] = [{"email": r.email, "name": r.name} for r in referrals]
    if resume_after is not None:
        edits["resume_after"] = resume_after.isoformat()
    if return_date is not None:
        edits["return_date"] = return_date.isoformat()
    inbound = _inbound(session, item_id)
    return _reclassify(
        session,
        inbound,
        DecisionKind.RELABEL,
        str(new_label),
        settings,
        edits,
        now=now,
        reviewer=reviewer,
    )


def undo_last(
    session: Session, reviewer: str, settings: ReplySettings, *, now: datetime
) -> ReviewDecision:
    """Undo `reviewer`'s latest decision still in force; the reply is as it was before it."""
    decision = session.exec(
        select(ReviewDecision)
        .where(ReviewDecision.reviewer == reviewer, col(ReviewDecision.undone_at).is_(None))
        .order_by(col(ReviewDecision.id).desc())
    ).first()
    if decision is None:
        raise NotFoundError(f"{reviewer} has no decision to undo")
    later = session.exec(
        select(ReviewDecision.id).where(
            ReviewDecision.inbound_id == decision.inbound_id,
            col(ReviewDecision.undone_at).is_(None),
            col(ReviewDecision.id) > decision.id,
        )
    ).first()
    if later is not None:
        raise ReviewError(
            f"message {decision.inbound_id} was decided again since (decision {later}): "
            "undo that one first"
        )
    inbound = _inbound(session, decision.inbound_id)
    before = decision.data["before"]
    undone: list[int] = []
    redone: list[int] = []
    notes: list[str] = []
    if decision.data.get("reclassified"):
        undone = undo_actions(session, decision.inbound_id, now=now, actor=reviewer)
        inbound.label = before["label"]
        inbound.confidence = before["confidence"]
        inbound.classification = before["classification"]
        session.add(inbound)
        session.flush()
        if "undone_events" in decision.data:
            redone, notes = _redo_events(session, decision.data["undone_events"])
        elif (applied := before.get("applied")) is not None:
            # A decision recorded before undo was written down: run the old actions again.
            apply_actions(
                session,
                decision.inbound_id,
                settings,
                now=utc(datetime.fromisoformat(applied["at"])),
                actor=applied["actor"],
            )
    inbound.status = InboundStatus(before["status"])
    inbound.review_reason = before["review_reason"]
    session.add(inbound)
    decision.undone_at = now
    session.add(decision)
    session.add(
        Event(
            at=now,
            kind=EventKind.UNDO_REVIEW,
            actor=reviewer,
            prospect_id=inbound.prospect_id,
            inbound_id=decision.inbound_id,
            data={"decision": decision.id, "undone": undone, "redone": redone, "notes": notes},
        )
    )
    session.flush()
    return decision


def _redo_events(session: Session, event_ids: Sequence[int]) -> tuple[list[int], list[str]]:
    """Make the events a relabel undid live again, oldest first, with the changes they made."""
    redone: list[int] = []
    notes: list[str] = []
    for event_id in sorted(event_ids):
        event = session.get(Event, event_id)
        if event is None or event.undone_at is None:
            continue
        notes += [f"event {event_id}: {note}" for note in redo(session, event.data)]
        event.data = {k: v for k, v in event.data.items() if k not in (UNDO_KEY, "undo_note")}
        event.undone_at = None
        session.add(event)
        redone.append(event_id)
    session.flush()
    return redone, notes


# --- labelled data ------------------------------------------------------------------------------


def export_decisions(session: Session, since: datetime | None = None) -> Iterator[dict[str, Any]]:
    """One record per reviewed message: the raw message, the classifier's answer, the human one.

    Only decisions in force count, and the latest one for a message wins. The raw message is
    text when it is valid UTF-8 (nearly all mail), else base64 in `raw_base64`, so every
    example can be classified again byte for byte.
    """
    query = select(ReviewDecision, InboundMessage).where(
        col(ReviewDecision.undone_at).is_(None),
        col(ReviewDecision.inbound_id) == col(InboundMessage.id),
    )
    if since is not None:
        query = query.where(col(ReviewDecision.at) >= since)
    latest: dict[int, tuple[ReviewDecision, InboundMessage]] = {}
    for decision, inbound in session.exec(query.order_by(col(ReviewDecision.id))):
        latest[decision.inbound_id] = (decision, inbound)
    for decision, inbound in latest.values():
        yield _labelled_example(decision, inbound)


def _labelled_example(decision: ReviewDecision, inbound: InboundMessage) -> dict[str, Any]:
    before = decision.data.get("before", {})
    classified = before.get("classification", {})
    raw = bytes(inbound.raw)
    try:
        text: str | None = raw.decode("utf-8")
        encoded = None
    except UnicodeDecodeError:
        text, encoded = None, base64.b64encode(raw).decode("ascii")
    return {
        "inbound_id": inbound.id,
        "message_id": inbound.message_id,
        "mailbox": inbound.mailbox,
        "received_at": inbound.received_at.isoformat() if inbound.received_at else None,
        "classifier_label": classified.get("label", before.get("label")),
        "classifier_confidence": classified.get("confidence", before.get("confidence")),
        "classifier_best_guess": classified.get("best_guess"),
        "label": decision.new_label,
        "previous_label": decision.old_label,
        "decision": decision.data.get("kind"),
        "edits": decision.data.get("edits", {}),
        "reviewer": decision.reviewer,
        "decided_at": decision.at.isoformat() if decision.at else None,
        "raw": text,
        "raw_base64": encoded,
    }


def decode_example_raw(example: dict[str, Any]) -> bytes:
    """The raw message bytes of an exported example."""
    if example.get("raw") is not None:
        return str(example["raw"]).encode("utf-8")
    try:
        return base64.b64decode(str(example["raw_base64"]), validate=True)
    except (KeyError, binascii.Error) as error:
        raise ReviewError(f"example {example.get('inbound_id')} has no raw message") from error


# --- helpers ------------------------------------------------------------------------------------


def _reclassify(
    session: Session,
    inbound: InboundMessage,
    kind: DecisionKind,
    label: str,
    settings: ReplySettings,
    edits: dict[str, Any],
    *,
    now: datetime,
    reviewer: str,
) -> Outcome:
    assert inbound.id is not None
    before = _state(session, inbound)
    last_event = session.exec(select(sa.func.max(Event.id))).one() or 0
    result = reclassify(
        session,
        inbound.id,
        label,
        settings,
        now=now,
        actor=reviewer,
        referrals=[Referral(email=r["email"], name=r["name"]) for r in edits["referrals"]]
        if "referrals" in edits
        else None,
        resume_after=date.fromisoformat(edits["resume_after"]) if "resume_after" in edits else None,
        return_date=date.fromisoformat(edits["return_date"]) if "return_date" in edits else None,
    )
    # The events the relabel undid, so undoing the decision can redo them.
    undo_records = session.exec(
        select(Event).where(
            Event.inbound_id == inbound.id,
            Event.kind == EventKind.UNDO_REPLY,
            col(Event.id) > last_event,
        )
    ).all()
    undone = [i for event in undo_records for i in event.data.get("events", [])]
    decision = _record(
        session, inbound, before, kind, label, edits, now, reviewer, reclassified=True
    )
    decision.data = {**decision.data, "undone_events": undone}
    session.add(decision)
    session.flush()
    return Outcome(decision, result)


def _record(
    session: Session,
    inbound: InboundMessage,
    before: dict[str, Any],
    kind: DecisionKind,
    label: str,
    edits: dict[str, Any],
    now: datetime,
    reviewer: str,
    *,
    reclassified: bool = False,
) -> ReviewDecision:
    assert inbound.id is not None
    decision = ReviewDecision(
        inbound_id=inbound.id,
        at=now,
        reviewer=reviewer,
        old_label=before["label"],
        new_label=label,
        data={"kind": str(kind), "edits": edits, "reclassified": reclassified, "before": before},
    )
    session.add(decision)
    session.flush()
    return decision


def _state(session: Session, inbound: InboundMessage) -> dict[str, Any]:
    """What a decision may change on the row, and the live application it may undo."""
    assert inbound.id is not None
    applied = _live_application(session, inbound.id)
    return {
        "label": inbound.label,
        "confidence": inbound.confidence,
        "classification": dict(inbound.classification),
        "status": str(inbound.status),
        "review_reason": inbound.review_reason,
        "applied": {"at": applied.at.isoformat(), "actor": applied.actor}
        if applied is not None and applied.at is not None
        else None,
    }


def _live_application(session: Session, inbound_id: int) -> Event | None:
    return session.exec(
        select(Event)
        .where(
            Event.inbound_id == inbound_id,
            Event.kind == EventKind.REPLY_APPLIED,
            col(Event.undone_at).is_(None),
        )
        .order_by(col(Event.id).desc())
    ).first()


def _inbound(session: Session, item_id: int) -> InboundMessage:
    inbound = session.get(InboundMessage, item_id)
    if inbound is None:
        raise NotFoundError(f"no inbound message {item_id}")
    return inbound
