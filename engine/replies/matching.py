"""Which outreach a reply answers: by thread headers, else by sender, else by failed recipient.

The thread headers are the strongest evidence (In-Reply-To and References name the Message-ID we
gave the outbound message when it was planned). A reply from a new thread or a client that drops
those headers is matched by its sender's address. A bounce comes from a mail server, not from the
prospect, so it is matched by the Message-ID it quotes or the address that failed; a complaint
(an ARF feedback report from the recipient's provider) by the Message-ID it quotes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import Message
from enum import StrEnum

from sqlmodel import Session, col, select

from engine.classify import Classification
from engine.classify.parse import referenced_message_ids, sender_address
from engine.store.models import OutboundMessage, Prospect


class MatchMethod(StrEnum):
    """How a message was tied to the outreach: only THREAD names a message Spear sent."""

    THREAD = "thread"
    SENDER = "sender"
    BOUNCE_RECIPIENT = "bounce-recipient"
    NONE = "none"


@dataclass(frozen=True)
class Match:
    prospect_id: int | None
    outbound_id: int | None
    enrollment_id: int | None
    method: MatchMethod


UNMATCHED = Match(None, None, None, MatchMethod.NONE)
_MESSAGE_ID = re.compile(rb"<[^<>\s@]+@[^<>\s]+>")
_SCAN = 256 * 1024  # the quoted headers come early; never scan a large attachment


def match_reply(
    session: Session, msg: Message, classification: Classification, raw: bytes
) -> Match:
    """The prospect (and outbound message, when known) a classified message is about."""
    message_ids = referenced_message_ids(msg)
    if classification.bounce is not None or classification.complaint:
        # A bounce (or an ARF complaint) quotes our message's headers, Message-ID included.
        message_ids += [m.decode("ascii", "replace") for m in _MESSAGE_ID.findall(raw[:_SCAN])]
    by_thread = _by_thread(session, message_ids)
    if by_thread is not None:
        return by_thread
    sender = sender_address(msg)
    if sender is not None and classification.bounce is None:
        prospect = _prospect_by_email(session, sender)
        if prospect is not None:
            return _with_last_outbound(session, prospect, MatchMethod.SENDER)
    if classification.bounce is not None:
        addresses = [r.address for r in classification.bounce.recipients]
        for address in addresses:
            prospect = _prospect_by_email(session, address)
            if prospect is not None:
                return _with_last_outbound(session, prospect, MatchMethod.BOUNCE_RECIPIENT)
    return UNMATCHED


def _by_thread(session: Session, message_ids: Iterable[str]) -> Match | None:
    ids = list(message_ids)
    if not ids:
        return None
    rows = session.exec(
        select(OutboundMessage).where(col(OutboundMessage.message_id).in_(ids))
    ).all()
    if not rows:
        return None
    # In-Reply-To comes first in `ids`: prefer the message answered directly.
    outbound = min(rows, key=lambda row: ids.index(row.message_id))
    return Match(outbound.prospect_id, outbound.id, outbound.enrollment_id, MatchMethod.THREAD)


def _prospect_by_email(session: Session, address: str) -> Prospect | None:
    return session.exec(select(Prospect).where(Prospect.email == address.lower())).first()


def _with_last_outbound(session: Session, prospect: Prospect, method: MatchMethod) -> Match:
    outbound = session.exec(
        select(OutboundMessage)
        .where(OutboundMessage.prospect_id == prospect.id)
        .order_by(col(OutboundMessage.id).desc())
    ).first()
    if outbound is None:
        return Match(prospect.id, None, None, method)
    return Match(prospect.id, outbound.id, outbound.enrollment_id, method)
