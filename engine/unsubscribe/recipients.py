"""What an unsubscribe outside a reply does: the address is suppressed, its cadences stop.

The suppression alone already keeps every daemon from mailing the address (the dispatcher reads
the list again right before each message); stopping the enrollments keeps the planner from
writing messages that would only be cancelled.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session

from engine.prospects.lifecycle import stop_enrollments
from engine.prospects.suppression import add_suppression
from engine.store.events import EventKind
from engine.store.models import Event, Prospect, StopCause, SuppressionSource
from engine.unsubscribe.tokens import token_matches, token_prospect

log = logging.getLogger(__name__)


def unsubscribe_prospect(
    session: Session, prospect: Prospect, *, source: SuppressionSource, now: datetime
) -> bool:
    """Suppress the prospect's address and stop its open enrollments; False if already listed."""
    _entry, added = add_suppression(
        session, prospect.email, now=now, reason=f"unsubscribed ({source})", source=source
    )
    stop_enrollments(
        session,
        StopCause.UNSUBSCRIBED,
        f"unsubscribed ({source})",
        now,
        prospect_id=prospect.id,
    )
    if added:
        session.add(
            Event(
                at=now,
                kind=EventKind.UNSUBSCRIBED,
                prospect_id=prospect.id,
                data={"source": source},
            )
        )
    session.flush()
    log.info("unsubscribed prospect=%s source=%s new=%s", prospect.id, source, added)
    return added


def unsubscribe_by_token(session: Session, secret: str, token: str, *, now: datetime) -> bool:
    """Apply a one-click request; False (nothing done) when the token is not one of ours."""
    prospect = recipient_of(session, secret, token)
    if prospect is None:
        return False
    unsubscribe_prospect(session, prospect, source=SuppressionSource.ONE_CLICK, now=now)
    return True


def recipient_of(session: Session, secret: str, token: str) -> Prospect | None:
    """The prospect a genuine token names, or None (malformed, tampered, or no such prospect)."""
    prospect_id = token_prospect(token)
    if prospect_id is None:
        return None
    prospect = session.get(Prospect, prospect_id)
    if prospect is None or not token_matches(secret, token, prospect_id, prospect.email):
        return None
    return prospect
