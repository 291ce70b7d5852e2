"""Changes a person makes by hand (a call's outcome, a stage, a grade, a role), undoably.

Each goes through a `ChangeLog` (`engine.store.changes`) and is stored as one `Event` whose
data holds the log, like the actions on a reply; `undo` plays it backwards with `revert`, marks
the event undone, and marks undone too the events it set going (`linked_events`: a hand-off
email not yet sent then never goes out).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from engine.errors import NotFoundError
from engine.store.changes import UNDO_KEY, ChangeLog, revert
from engine.store.events import EventKind
from engine.store.models import Event

LINKED_EVENTS = "linked_events"


def record(
    session: Session,
    kind: EventKind,
    changes: ChangeLog,
    *,
    now: datetime,
    actor: str,
    prospect_id: int | None = None,
    enrollment_id: int | None = None,
    data: Mapping[str, Any] | None = None,
) -> Event:
    """Store one event holding `changes` (undoable) and `data`."""
    event = Event(
        at=now,
        kind=kind,
        actor=actor,
        prospect_id=prospect_id,
        enrollment_id=enrollment_id,
        data={**(data or {}), **changes.as_data()},
    )
    session.add(event)
    session.flush()
    return event


def latest(session: Session, kinds: Collection[EventKind], **data: Any) -> Event | None:
    """The newest event of `kinds`, not undone, whose data holds every `data` item."""
    query = (
        select(Event)
        .where(col(Event.kind).in_(list(kinds)), col(Event.undone_at).is_(None))
        .order_by(col(Event.id).desc())
    )
    for event in session.exec(query):
        if all(event.data.get(k) == v for k, v in data.items()):
            return event
    return None


def undo(session: Session, event: Event, *, now: datetime, actor: str) -> list[str]:
    """Reverse `event`'s changes (a later change to the same field stands); returns notes."""
    if event.undone_at is not None:
        raise NotFoundError(f"event {event.id} is already undone")
    done: list[dict[str, Any]] = []
    notes = revert(session, event.data, done)
    event.data = {**event.data, UNDO_KEY: done, "undone_by": actor}
    event.undone_at = now
    session.add(event)
    for linked_id in event.data.get(LINKED_EVENTS, []):
        linked = session.get(Event, linked_id)
        if linked is not None and linked.undone_at is None:
            linked.undone_at = now
            session.add(linked)
    session.flush()
    return notes
