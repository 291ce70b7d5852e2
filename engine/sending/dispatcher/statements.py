"""The dispatcher's SQL: the tables it touches and the statements it runs for every message.

The statements on the send path are built once, as module constants, and run as lambda
statements (`sa.lambda_stmt`): SQLAlchemy then finds their compiled form by the lambda's code
instead of walking the statement to make its cache key, a walk that costs more than running
`MARK_SENDING_IF_CLEAR` on SQLite. They spell status lists out as literals rather than expanding
IN parameters, which would be rendered again at every execution.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from engine.store.events import EventKind
from engine.store.models import DUE, EmailStatus, EnrollmentStatus, OutboundStatus

OUTBOX = SQLModel.metadata.tables["outbound_message"]
ENROLLMENT = SQLModel.metadata.tables["enrollment"]
PROSPECT = SQLModel.metadata.tables["prospect"]
ACCOUNT = SQLModel.metadata.tables["account"]
INBOUND = SQLModel.metadata.tables["inbound_message"]
MAILBOX_STATE = SQLModel.metadata.tables["mailbox_state"]
EVENT = SQLModel.metadata.tables["event"]
SUPPRESSION = SQLModel.metadata.tables["suppression"]

DUE_STATUSES = tuple(status.value for status in DUE)
# Rows that went, or may have: what the caps count at dispatch.
GONE_STATUSES = (
    OutboundStatus.SENT.value,
    OutboundStatus.SENDING.value,
    OutboundStatus.UNCERTAIN.value,
)
# Replies that do not mean a person has answered: they do not cancel a planned step.
NOT_A_REPLY_LABELS = ("auto-reply",)


def due_query(now: datetime, stale: datetime, paused: Sequence[str], limit: int) -> sa.Select[Any]:
    """Rows to claim: waiting, their time reached, their window still open, not held by a live
    claim, not on a paused mailbox. A range scan of `ix_outbound_message_due` (status, time)."""
    return (
        sa.select(OUTBOX.c.id)
        .where(
            OUTBOX.c.status.in_(DUE_STATUSES),
            OUTBOX.c.scheduled_at <= now,
            sa.or_(OUTBOX.c.next_attempt_at.is_(None), OUTBOX.c.next_attempt_at <= now),
            # A row whose window has closed waits for the planner to re-slot it.
            sa.or_(OUTBOX.c.send_before.is_(None), OUTBOX.c.send_before > now),
            sa.or_(OUTBOX.c.claimed_by.is_(None), OUTBOX.c.claimed_at < stale),
            OUTBOX.c.mailbox.not_in(paused),
        )
        .order_by(OUTBOX.c.scheduled_at)
        .limit(limit)
    )


def ours(outbound_id: int, worker_id: str) -> sa.Update:
    """An update of one outbox row, which takes only while this worker holds its claim."""
    return OUTBOX.update().where(OUTBOX.c.id == outbound_id, OUTBOX.c.claimed_by == worker_id)


def insert_events(
    db: Connection, now: datetime, kind: EventKind, rows: list[dict[str, Any]]
) -> None:
    """Events written by the dispatcher: `rows` give their ids and data."""
    if rows:
        db.execute(
            EVENT.insert(),
            [{"at": now, "kind": kind, "actor": "dispatcher", "data": {}, **r} for r in rows],
        )


# -- the send path: run for every message ------------------------------------------------------

_IS_DUE = sa.or_(*(OUTBOX.c.status == sa.literal_column(f"'{s}'") for s in DUE_STATUSES))

_MARK_SENDING = (
    OUTBOX.update()
    .where(
        OUTBOX.c.id == sa.bindparam("outbound_id"),
        OUTBOX.c.claimed_by == sa.bindparam("worker"),
        _IS_DUE,
    )
    .values(
        status=OutboundStatus.SENDING.value,
        attempts=OUTBOX.c.attempts + 1,
        claimed_at=sa.bindparam("now"),
    )
)
_MARK_SENT = (
    OUTBOX.update()
    .where(
        OUTBOX.c.id == sa.bindparam("outbound_id"), OUTBOX.c.claimed_by == sa.bindparam("worker")
    )
    .values(
        status=OutboundStatus.SENT.value,
        sent_at=sa.bindparam("now"),
        smtp_response=sa.bindparam("reply"),
        error=None,
    )
)
# One more step sent; after the last one (no next step) the enrollment is complete.
_COUNT_SENT = (
    ENROLLMENT.update()
    .where(ENROLLMENT.c.id == sa.bindparam("enrollment_id"))
    .values(
        steps_sent=ENROLLMENT.c.steps_sent + 1,
        updated_at=sa.bindparam("now"),
        status=sa.case(
            (
                sa.and_(
                    ENROLLMENT.c.next_step.is_(None),
                    ENROLLMENT.c.status == EnrollmentStatus.ACTIVE.value,
                ),
                EnrollmentStatus.COMPLETED.value,
            ),
            else_=ENROLLMENT.c.status,
        ),
    )
)
_MAILBOX_SENT = (
    MAILBOX_STATE.update()
    .where(MAILBOX_STATE.c.name == sa.bindparam("mailbox"))
    .values(
        last_send_at=sa.bindparam("now"),
        first_send_on=sa.func.coalesce(MAILBOX_STATE.c.first_send_on, sa.bindparam("today")),
        updated_at=sa.bindparam("now"),
    )
)


def _reply_since(prospect_id: Any) -> Any:
    """A reply (or bounce) from the prospect received since planning, as a scalar subquery."""
    return (
        sa.select(INBOUND.c.id)
        .where(
            INBOUND.c.prospect_id == prospect_id,
            INBOUND.c.received_at >= sa.bindparam("planned_at"),
            sa.or_(
                INBOUND.c.label.is_(None),
                sa.and_(
                    *(INBOUND.c.label != sa.literal_column(f"'{x}'") for x in NOT_A_REPLY_LABELS)
                ),
            ),
        )
        .limit(1)
        .scalar_subquery()
    )


LAST_SUPPRESSION = sa.select(sa.func.max(SUPPRESSION.c.id))
_LAST_SUPPRESSION = LAST_SUPPRESSION.scalar_subquery()
# The last-moment checks (`checks.reason_not_to_send`) as conditions of the update to `sending`,
# plus "the suppression list has not grown since the batch was checked against it".
CLEAR_TO_SEND = sa.and_(
    sa.exists()
    .select_from(ENROLLMENT.join(PROSPECT, PROSPECT.c.id == ENROLLMENT.c.prospect_id))
    .where(
        ENROLLMENT.c.id == OUTBOX.c.enrollment_id,
        ENROLLMENT.c.status == EnrollmentStatus.ACTIVE.value,
        PROSPECT.c.email_status != EmailStatus.INVALID.value,
        sa.or_(
            ENROLLMENT.c.referrer_id.is_not(None),
            ~sa.exists().where(ACCOUNT.c.id == PROSPECT.c.account_id, ACCOUNT.c.paused.is_(True)),
        ),
    ),
    _reply_since(OUTBOX.c.prospect_id).is_(None),
    sa.func.coalesce(_LAST_SUPPRESSION, 0) == sa.bindparam("last_suppression"),
)
_MARK_SENDING_IF_CLEAR = _MARK_SENDING.where(CLEAR_TO_SEND)
# Everything the last-moment checks need, in one round trip.
_FACTS = (
    sa.select(
        ENROLLMENT.c.status,
        ENROLLMENT.c.referrer_id,
        PROSPECT.c.email,
        PROSPECT.c.email_status,
        ACCOUNT.c.paused,
        _reply_since(sa.bindparam("prospect_id")).label("reply_id"),
        _LAST_SUPPRESSION.label("last_suppression"),
    )
    .select_from(
        ENROLLMENT.join(PROSPECT, PROSPECT.c.id == ENROLLMENT.c.prospect_id).outerjoin(
            ACCOUNT, ACCOUNT.c.id == PROSPECT.c.account_id
        )
    )
    .where(ENROLLMENT.c.id == sa.bindparam("enrollment_id"))
)

MARK_SENDING = sa.lambda_stmt(lambda: _MARK_SENDING)
MARK_SENDING_IF_CLEAR = sa.lambda_stmt(lambda: _MARK_SENDING_IF_CLEAR)
MARK_SENT = sa.lambda_stmt(lambda: _MARK_SENT)
COUNT_SENT = sa.lambda_stmt(lambda: _COUNT_SENT)
MAILBOX_SENT = sa.lambda_stmt(lambda: _MAILBOX_SENT)
FACTS = sa.lambda_stmt(lambda: _FACTS)
