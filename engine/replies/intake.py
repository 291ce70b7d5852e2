"""Intake: what happens to one fetched message, in two transactions.

1. `store_raw` keeps the bytes (the first thing, so nothing inbound is ever lost) unless the
   message is already stored: same folder position, or the same Message-ID in the same mailbox
   (a UIDVALIDITY change renumbers a folder and the syncer fetches it all again). A message
   without a Message-ID is known by a hash of its content instead.
2. `process` classifies it, matches it to the outreach it answers and hands it to the actions.
   A request sent to the List-Unsubscribe mailto is an unsubscribe before any classifier reads
   it (`engine.unsubscribe.requests`).
   Any failure there leaves the row in the review queue with the error, never lost. A copy of
   Spear's own hand-off email (Cc'd to the rep's polled mailbox) is recognised and ignored.

A message over a parsing limit (`engine.classify.parse.check_limits`), one whose classification
runs over its time budget, or one whose processing raises is stored all the same, marked
unreadable with the reason code and put in the review queue, where a person sees its raw bytes.

`Intake` ties both to a database for the IMAP syncer: it is the syncer's message handler, and it
does its work (parse, classify, database) in a worker thread, so one slow message never stalls
the event loop that sends mail and keeps every mailbox's IDLE alive.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from engine.classify import Classification, ReplyLabel, classify_message
from engine.classify.parse import (
    Unreadable,
    UnreadableMessage,
    body_text,
    header_text,
    parse_message,
    sender_address,
)
from engine.clock import Clock
from engine.replies.actions import ReplySettings, apply_actions
from engine.replies.handoff import is_own_handoff
from engine.replies.matching import match_reply
from engine.replies.stored import to_record
from engine.store.db import session_scope
from engine.store.models import InboundMessage, InboundStatus
from engine.unsubscribe.requests import unsubscribe_request

log = logging.getLogger(__name__)

MAX_HEADER = 998  # a header line's length limit: longer values are junk, not data to keep


@dataclass(frozen=True)
class FetchedMessage:
    """One message as the IMAP syncer fetched it."""

    mailbox: str
    folder: str
    uidvalidity: int
    uid: int
    raw: bytes


class Classifier(Protocol):
    def __call__(self, raw: bytes, *, threshold: float) -> Classification: ...


def message_key(raw: bytes) -> str:
    """The Message-ID, or a content hash in its place (stored in `message_id` for dedupe).

    An unreadable message is known by its hash: the same bytes fetched again are the same row.
    """
    try:
        message_id = header_text(parse_message(raw), "Message-ID").strip()
    except UnreadableMessage:
        message_id = ""
    if message_id:
        return message_id[:MAX_HEADER]
    return f"<sha256-{hashlib.sha256(raw).hexdigest()}@content.spear.invalid>"


def store_raw(session: Session, fetched: FetchedMessage, *, now: datetime) -> InboundMessage | None:
    """Store the raw message; None when it is already stored (nothing is written then)."""
    same_place = session.exec(
        select(InboundMessage.id).where(
            InboundMessage.mailbox == fetched.mailbox,
            InboundMessage.folder == fetched.folder,
            InboundMessage.uidvalidity == fetched.uidvalidity,
            InboundMessage.uid == fetched.uid,
        )
    ).first()
    if same_place is not None:
        return None
    key = message_key(fetched.raw)
    same_message = session.exec(
        select(InboundMessage.id).where(
            InboundMessage.mailbox == fetched.mailbox, InboundMessage.message_id == key
        )
    ).first()
    if same_message is not None:
        log.info(
            "inbound duplicate skipped mailbox=%s folder=%s uid=%s id=%s",
            fetched.mailbox,
            fetched.folder,
            fetched.uid,
            same_message,
        )
        return None
    inbound = InboundMessage(
        mailbox=fetched.mailbox,
        folder=fetched.folder,
        uidvalidity=fetched.uidvalidity,
        uid=fetched.uid,
        message_id=key,
        raw=fetched.raw,
        received_at=now,
    )
    try:
        msg = parse_message(fetched.raw)
    except UnreadableMessage:
        pass  # `process` marks it; the bytes are what matters now
    else:
        inbound.from_address = _safe(lambda: sender_address(msg))
        inbound.subject = _safe(lambda: header_text(msg, "Subject")[:MAX_HEADER])
    session.add(inbound)
    session.flush()
    log.info(
        "inbound stored id=%s mailbox=%s folder=%s uid=%s bytes=%d",
        inbound.id,
        fetched.mailbox,
        fetched.folder,
        fetched.uid,
        len(fetched.raw),
    )
    return inbound


def process(
    session: Session,
    inbound_id: int,
    settings: ReplySettings,
    *,
    now: datetime,
    classify: Classifier = classify_message,
) -> InboundMessage:
    """Classify, match and act on a stored message (status NEW); the row is returned."""
    inbound = session.get(InboundMessage, inbound_id)
    if inbound is None:
        raise LookupError(f"no inbound message {inbound_id}")
    try:
        return _process(session, inbound, settings, now=now, classify=classify)
    except UnreadableMessage as unreadable:
        mark_unreadable(inbound, unreadable.reason, str(unreadable))
        session.add(inbound)
        log.warning("inbound id=%s unreadable: %s", inbound_id, unreadable)
        return inbound


def _process(
    session: Session,
    inbound: InboundMessage,
    settings: ReplySettings,
    *,
    now: datetime,
    classify: Classifier,
) -> InboundMessage:
    inbound_id = inbound.id or 0
    msg = parse_message(inbound.raw)  # first: an unreadable message goes no further
    if is_own_handoff(session, inbound.raw):
        # The Cc of a hand-off email to the rep's own (polled) mailbox: nothing to act on.
        inbound.status = InboundStatus.IGNORED
        session.add(inbound)
        log.info("inbound id=%s is Spear's own hand-off email: ignored", inbound_id)
        return inbound
    # Sent to the List-Unsubscribe mailto: an unsubscribe whatever the classifier would say.
    request = unsubscribe_request(msg, settings.unsubscribe_address)
    if request is not None:
        classification = Classification(ReplyLabel.UNSUBSCRIBE, 1.0, reply_text=body_text(msg))
    else:
        classification = classify(inbound.raw, threshold=settings.threshold)
    if not msg.keys() and classification.error is None:
        classification = type(classification)(
            label=classification.label,
            confidence=0.0,
            error="unparseable: the message has no headers",
        )
    match = match_reply(session, msg, classification, inbound.raw)
    inbound.prospect_id = match.prospect_id
    inbound.outbound_id = match.outbound_id
    inbound.label = str(classification.label)
    inbound.confidence = classification.confidence
    inbound.classification = to_record(classification, match.method, request)
    inbound.error = classification.error
    session.add(inbound)
    session.flush()
    apply_actions(session, inbound_id, settings, now=now)
    return inbound


def mark_unreadable(inbound: InboundMessage, reason: Unreadable, error: str) -> None:
    """Put a message Spear will not read in the review queue: its raw bytes are all there is."""
    inbound.status = InboundStatus.REVIEW
    inbound.label = str(ReplyLabel.UNCLEAR)
    inbound.confidence = 0.0
    inbound.classification = {"label": str(ReplyLabel.UNCLEAR), "unreadable": str(reason)}
    inbound.error = error[:MAX_HEADER]
    inbound.review_reason = f"unreadable: {reason}"


def park(session: Session, inbound_id: int, error: BaseException) -> None:
    """Put a message whose processing failed in the review queue, with the error."""
    inbound = session.get(InboundMessage, inbound_id)
    if inbound is None:
        return
    mark_unreadable(inbound, Unreadable.PROCESSING_FAILED, f"{type(error).__name__}: {error}")
    session.add(inbound)


class Intake:
    """The IMAP syncer's handler: store raw (committed), then process in a second transaction."""

    def __init__(
        self,
        engine: Engine,
        settings: ReplySettings,
        clock: Clock,
        classify: Classifier = classify_message,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.classify = classify
        self.stored = 0
        self.duplicates = 0

    async def __call__(self, fetched: FetchedMessage) -> None:
        await asyncio.to_thread(self.take, fetched)

    def take(self, fetched: FetchedMessage) -> None:
        """Store, then process: the syncer's work for one message, off the event loop."""
        with session_scope(self.engine) as session:
            inbound = store_raw(session, fetched, now=self.clock.now())
            inbound_id = inbound.id if inbound is not None else None
        if inbound_id is None:
            self.duplicates += 1
            return
        self.stored += 1
        self.process(inbound_id)

    def process(self, inbound_id: int) -> None:
        try:
            with session_scope(self.engine) as session:
                process(
                    session, inbound_id, self.settings, now=self.clock.now(), classify=self.classify
                )
        except Exception as error:  # the raw message is safe: park it for a person
            log.exception("inbound processing failed id=%s", inbound_id)
            with session_scope(self.engine) as session:
                park(session, inbound_id, error)

    def process_pending(self, limit: int = 1000) -> int:
        """Process messages stored but never processed (a crash between the two steps)."""
        with session_scope(self.engine) as session:
            ids = session.exec(
                select(InboundMessage.id)
                .where(InboundMessage.status == InboundStatus.NEW)
                .order_by(col(InboundMessage.id))
                .limit(limit)
            ).all()
        for inbound_id in ids:
            if inbound_id is not None:
                self.process(inbound_id)
        return len(ids)


def _safe(read: Callable[[], str | None]) -> str | None:
    try:
        value = read()
    except Exception:  # a header too broken to read is left empty; the raw bytes keep it
        return None
    return str(value) if value else None
