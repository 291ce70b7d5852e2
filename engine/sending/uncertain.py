"""Uncertain messages: listed for a person, who settles each one as sent or not sent.

A row is `uncertain` when its SMTP transaction may or may not have delivered it (the process died
mid-transaction, or the connection broke while the server was answering the body). Spear never
decides that alone: the enrollment waits (the planner plans no step after an uncertain one) until
a person settles the row, usually after looking at the mail server's log or asking the recipient:

- `sent`: the row becomes `sent` (at the time it was handed to the server), the step counts, and
  the cadence goes on from there;
- `not-sent`: the row goes back to the queue, once, as a message that missed its window: the
  planner re-slots it into the next allowed slot and it keeps its Message-ID. If it ends up
  uncertain again, settling it as not sent a second time fails it for good and ends the
  enrollment, rather than loop.

Both are recorded as a `send-settled` event with who decided.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from engine.errors import NotFoundError, SpearError
from engine.prospects.lifecycle import Direct, stop_enrollment
from engine.store.events import EventKind
from engine.store.models import (
    Enrollment,
    EnrollmentStatus,
    Event,
    OutboundMessage,
    OutboundStatus,
    StopCause,
)


class Settlement(StrEnum):
    SENT = "sent"
    NOT_SENT = "not-sent"


@dataclass(frozen=True)
class UncertainRow:
    id: int
    to_address: str
    subject: str
    step_id: str
    enrollment_id: int
    mailbox: str
    when: datetime | None  # when the SMTP transaction started
    worker: str | None  # the dispatcher that ran it
    server_reply: str | None  # the last thing the server said, if anything
    error: str | None  # what went wrong
    attempts: int


@dataclass(frozen=True)
class Settled:
    id: int
    outcome: Settlement
    status: OutboundStatus  # the row's status now
    enrollment_status: EnrollmentStatus | None

    def summary(self) -> str:
        """One line for the person who settled it: the CLI prints it, the web inbox shows it."""
        enrollment = (
            f"; enrollment {self.enrollment_status.value}" if self.enrollment_status else ""
        )
        return (
            f"outbox row {self.id}: settled {self.outcome.value}, "
            f"now {self.status.value}{enrollment}"
        )


def uncertain_rows(session: Session) -> list[UncertainRow]:
    """Every uncertain row, oldest first."""
    rows = session.exec(
        select(OutboundMessage)
        .where(OutboundMessage.status == OutboundStatus.UNCERTAIN)
        .order_by(col(OutboundMessage.claimed_at), col(OutboundMessage.id))
    ).all()
    return [_row(r) for r in rows]


def settle(
    session: Session, outbound_id: int, outcome: Settlement, now: datetime, *, actor: str = "cli"
) -> Settled:
    """Settle uncertain row `outbound_id` as `outcome` (see the module's docstring)."""
    row = session.get(OutboundMessage, outbound_id)
    if row is None:
        raise NotFoundError(f"no outbox row {outbound_id}")
    if row.status != OutboundStatus.UNCERTAIN:
        raise SpearError(f"outbox row {outbound_id} is {row.status.value}, not uncertain")
    enrollment = session.get(Enrollment, row.enrollment_id)
    requeued_before = _settled_not_sent_before(session, outbound_id)
    data: dict[str, object] = {"outcome": outcome.value, "step_id": row.step_id}
    if outcome is Settlement.SENT:
        row.status = OutboundStatus.SENT
        row.sent_at = row.claimed_at or now
        row.error = None
        if enrollment is not None:
            enrollment.steps_sent += 1
            enrollment.updated_at = now
            if enrollment.status == EnrollmentStatus.ACTIVE:
                if enrollment.next_step is None:
                    enrollment.status = EnrollmentStatus.COMPLETED
                else:
                    # The planner counts the next step's wait from `sent_at`.
                    enrollment.next_due_at = now
    elif requeued_before:
        row.status = OutboundStatus.FAILED
        row.error = "settled as not sent twice: given up"
        if enrollment is not None:  # stop_enrollment leaves one that is not open alone
            why = f"step {row.step_id} could not be delivered"
            stop_enrollment(enrollment, StopCause.UNDELIVERABLE, why, now, Direct(session))
        data["given_up"] = True
    else:
        # Back as a row that missed its window: the planner re-slots it, the dispatcher sends it.
        row.status = OutboundStatus.PLANNED
        row.claimed_by = None
        row.claimed_at = None
        row.next_attempt_at = None
        row.error = None
        row.send_before = now
    session.add(row)
    session.add(
        Event(
            at=now,
            kind=EventKind.SEND_SETTLED,
            actor=actor,
            prospect_id=row.prospect_id,
            enrollment_id=row.enrollment_id,
            outbound_id=row.id,
            data=data,
        )
    )
    session.flush()
    return Settled(
        outbound_id, outcome, row.status, enrollment.status if enrollment is not None else None
    )


def _settled_not_sent_before(session: Session, outbound_id: int) -> bool:
    events: Sequence[Event] = session.exec(
        select(Event).where(Event.kind == EventKind.SEND_SETTLED, Event.outbound_id == outbound_id)
    ).all()
    return any(e.data.get("outcome") == Settlement.NOT_SENT.value for e in events)


def _row(row: OutboundMessage) -> UncertainRow:
    return UncertainRow(
        id=row.id or 0,
        to_address=row.to_address,
        subject=row.subject,
        step_id=row.step_id,
        enrollment_id=row.enrollment_id,
        mailbox=row.mailbox,
        when=row.claimed_at,
        worker=row.claimed_by,
        server_reply=row.smtp_response,
        error=row.error,
        attempts=row.attempts,
    )
