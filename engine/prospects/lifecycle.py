"""The rules that end or hold work on a person or a sender mailbox, each in one place.

- `stop_enrollments`: open enrollments stop, with a `StopCause` and the detail for people;
- `prune_address`: an address proved invalid (a hard bounce at RCPT or in a delivery report, or
  too many soft ones) is marked invalid, suppressed and its enrollments stopped;
- `pause_mailbox`: a sender mailbox waits for a person, with a `PauseCause`.

The dispatcher calls them inside its own transaction (an ORM session on its connection), the
reply actions through their `ChangeLog` so a person can undo them, the CLI and the IMAP poller
directly. Events are the callers' to write: each names what it saw (a hard bounce at RCPT, a
reply, a person's command).

This module sits low: it imports the store and the suppression list, nothing that sends or reads
mail, so that everything above can share it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session, SQLModel, col, select

from engine.prospects.suppression import add_suppression
from engine.store.models import (
    OPEN_ENROLLMENT,
    EmailStatus,
    Enrollment,
    EnrollmentStatus,
    MailboxState,
    PauseCause,
    Prospect,
    StopCause,
    SuppressionSource,
    stored_reason,
)


class Changes(Protocol):
    """Where a rule makes its changes: `engine.store.changes.ChangeLog` records them for undo."""

    def set(self, row: SQLModel, name: str, value: Any) -> bool: ...

    def add(self, row: SQLModel) -> SQLModel: ...

    def created_row(self, row: SQLModel) -> None: ...


@dataclass
class Direct:
    """Changes made as they are, with no undo record."""

    session: Session

    def set(self, row: SQLModel, name: str, value: Any) -> bool:
        if getattr(row, name) == value:
            return False
        setattr(row, name, value)
        self.session.add(row)
        return True

    def add(self, row: SQLModel) -> SQLModel:
        self.session.add(row)
        self.session.flush()
        return row

    def created_row(self, row: SQLModel) -> None:
        pass


# --- enrollments --------------------------------------------------------------------------------


def open_enrollments(
    session: Session, prospect_id: int | None, *, only_active: bool = False
) -> Sequence[Enrollment]:
    """The prospect's open (active or paused) enrollments, oldest first."""
    statuses = (EnrollmentStatus.ACTIVE,) if only_active else OPEN_ENROLLMENT
    return session.exec(
        select(Enrollment)
        .where(Enrollment.prospect_id == prospect_id, col(Enrollment.status).in_(statuses))
        .order_by(col(Enrollment.id))
    ).all()


def stop_enrollment(
    enrollment: Enrollment, cause: StopCause, reason: str, now: datetime, changes: Changes
) -> bool:
    """Stop one enrollment if it is open; False when it was not (nothing changed)."""
    if enrollment.status not in OPEN_ENROLLMENT:
        return False
    changes.set(enrollment, "status", EnrollmentStatus.STOPPED)
    changes.set(enrollment, "stop_cause", cause)
    changes.set(enrollment, "stop_reason", stored_reason(reason))
    changes.set(enrollment, "updated_at", now)
    return True


def stop_enrollments(
    session: Session,
    cause: StopCause,
    reason: str,
    now: datetime,
    *,
    prospect_id: int | None = None,
    ids: Collection[int] = (),
    changes: Changes | None = None,
) -> list[int]:
    """Stop the open enrollments of `prospect_id` and those of `ids`; returns the ids stopped."""
    changes = changes or Direct(session)
    found: dict[int, Enrollment] = {}
    if prospect_id is not None:
        found |= {e.id or 0: e for e in open_enrollments(session, prospect_id)}
    if ids:
        found |= {
            e.id or 0: e
            for e in session.exec(
                select(Enrollment).where(
                    col(Enrollment.id).in_(ids), col(Enrollment.status).in_(OPEN_ENROLLMENT)
                )
            ).all()
        }
    stopped = [
        i for i, e in sorted(found.items()) if stop_enrollment(e, cause, reason, now, changes)
    ]
    session.flush()
    return stopped


# --- addresses ----------------------------------------------------------------------------------


def prune_address(
    session: Session,
    prospect: Prospect,
    reason: str,
    now: datetime,
    *,
    changes: Changes | None = None,
) -> list[int]:
    """The prospect's address is invalid: mark it, suppress it, stop every open enrollment.

    `reason` says why (`hard bounce: 550 5.1.1 ...`, `3 soft bounces in 30 days`); returns the
    ids of the enrollments stopped.
    """
    changes = changes or Direct(session)
    changes.set(prospect, "email_status", EmailStatus.INVALID)
    changes.set(prospect, "updated_at", now)
    entry, new = add_suppression(
        session,
        prospect.email,
        now=now,
        reason=stored_reason(reason),
        source=SuppressionSource.BOUNCE,
    )
    if new:
        changes.created_row(entry)
    return stop_enrollments(
        session, StopCause.BOUNCED, reason, now, prospect_id=prospect.id, changes=changes
    )


# --- mailboxes ----------------------------------------------------------------------------------


def mailbox_state(
    session: Session, name: str, now: datetime, *, changes: Changes | None = None
) -> MailboxState:
    """The mailbox's state row, created (not paused) when it has none yet."""
    state = session.get(MailboxState, name)
    if state is None:
        state = MailboxState(name=name, paused=False, updated_at=now)
        (changes or Direct(session)).add(state)
    return state


def pause_mailbox(
    session: Session,
    name: str,
    cause: PauseCause,
    reason: str,
    now: datetime,
    *,
    changes: Changes | None = None,
) -> bool:
    """Pause mailbox `name` until a person resumes it; False when it was paused already.

    A mailbox already paused keeps its first cause: that is what a person has to fix first.
    """
    changes = changes or Direct(session)
    state = mailbox_state(session, name, now, changes=changes)
    if state.paused:
        return False
    changes.set(state, "paused", True)
    changes.set(state, "pause_cause", cause)
    changes.set(state, "paused_reason", stored_reason(reason))
    changes.set(state, "updated_at", now)
    session.flush()
    return True


def paused_for(session: Session, name: str, cause: PauseCause) -> bool:
    """Whether mailbox `name` is paused for `cause`."""
    state = session.get(MailboxState, name)
    return bool(state and state.paused and state.pause_cause == cause)
