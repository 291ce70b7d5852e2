"""The two versions of "clear to send" agree: the conditions of the fast update to `sending` (SQL)
and the slow path's reasons (Python, which also names why), for any state of the enrollment,
the prospect, the account, the replies since planning and the suppression list.

A disagreement either way is a bug: SQL clear where Python sees a reason sends a message that must
not go out; the other way round cancels nothing but loses the fast path.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from engine.classify import ReplyLabel
from engine.prospects.suppression import add_suppression
from engine.sending.dispatcher.checks import SuppressionView, reason_not_to_send
from engine.sending.dispatcher.claiming import Claimed
from engine.sending.dispatcher.statements import CLEAR_TO_SEND, OUTBOX
from engine.store.db import session_scope
from engine.store.models import (
    Account,
    EmailStatus,
    Enrollment,
    EnrollmentStatus,
    InboundMessage,
    OutboundMessage,
    OutboundStatus,
    Prospect,
)

PLANNED = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
_unique = itertools.count()


@dataclass(frozen=True)
class Reply:
    minutes_after_planning: int  # negative: before planning, does not count
    label: ReplyLabel | None
    from_the_prospect: bool


@dataclass(frozen=True)
class State:
    enrollment: EnrollmentStatus
    email: EmailStatus
    account: bool | None  # None: no account; else whether it is paused
    referred: bool
    replies: tuple[Reply, ...]
    suppressed: str | None  # "address", "domain", "another" (someone else) or None


states = st.builds(
    State,
    enrollment=st.sampled_from(EnrollmentStatus),
    email=st.sampled_from(EmailStatus),
    account=st.none() | st.booleans(),
    referred=st.booleans(),
    replies=st.lists(
        st.builds(
            Reply,
            minutes_after_planning=st.integers(-5, 5),
            label=st.none() | st.sampled_from(ReplyLabel),
            from_the_prospect=st.booleans(),
        ),
        max_size=3,
    ).map(tuple),
    suppressed=st.sampled_from([None, "address", "domain", "another"]),
)


def make(engine: Engine, state: State) -> Claimed:
    """The state in the database, with one planned outbox row; returns the row as claimed."""
    n = next(_unique)
    domain = f"company{n}.example"
    address = f"pat@{domain}"
    with session_scope(engine) as session:
        account = None
        if state.account is not None:
            account = Account(domain=domain, paused=state.account)
            session.add(account)
            session.flush()
        prospect = Prospect(
            email=address, email_status=state.email, account_id=account.id if account else None
        )
        other = Prospect(email=f"someone{n}@elsewhere{n}.example")
        session.add_all([prospect, other])
        session.flush()
        assert prospect.id is not None and other.id is not None
        enrollment = Enrollment(
            prospect_id=prospect.id,
            cadence="intro",
            cadence_version="v1",
            status=state.enrollment,
            referrer_id=other.id if state.referred else None,
        )
        session.add(enrollment)
        session.flush()
        assert enrollment.id is not None
        row = OutboundMessage(
            enrollment_id=enrollment.id,
            prospect_id=prospect.id,
            step_id="intro",
            mailbox="robin",
            message_id=f"<o{n}@spear.example>",
            to_address=address,
            subject="Who handles logistics?",
            raw=b"",
            status=OutboundStatus.PLANNED,
            scheduled_at=PLANNED,
            created_at=PLANNED,
        )
        session.add(row)
        for uid, reply in enumerate(state.replies):
            session.add(
                InboundMessage(
                    mailbox="robin",
                    uidvalidity=n,
                    uid=uid,
                    raw=b"",
                    received_at=PLANNED + timedelta(minutes=reply.minutes_after_planning),
                    prospect_id=prospect.id if reply.from_the_prospect else other.id,
                    label=reply.label,
                )
            )
        if state.suppressed is not None:
            entry = {"address": address, "domain": domain, "another": other.email}
            add_suppression(session, entry[state.suppressed], now=PLANNED)
        session.flush()
        assert row.id is not None
        return Claimed(
            id=row.id,
            enrollment_id=enrollment.id,
            prospect_id=prospect.id,
            step_id=row.step_id,
            mailbox=row.mailbox,
            message_id=row.message_id,
            to_address=address,
            raw=row.raw,
            status=row.status.value,
            attempts=0,
            scheduled_at=PLANNED,
            send_before=None,
            created_at=PLANNED,
        )


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(state=states)
def test_sql_and_python_agree_on_clear_to_send(db_engine: Engine, state: State) -> None:
    row = make(db_engine, state)
    suppressed = SuppressionView(db_engine, [row.to_address])
    with db_engine.connect() as db:
        sql_clear = (
            db.scalar(
                sa.select(OUTBOX.c.id).where(OUTBOX.c.id == row.id, CLEAR_TO_SEND),
                {"planned_at": PLANNED, "last_suppression": suppressed.last or 0},
            )
            is not None
        )
        reason = reason_not_to_send(db, row, suppressed)
    # The dispatcher takes the fast path only for an address its view does not list.
    fast = sql_clear and suppressed.listed(row.to_address) is None
    assert fast == (reason is None), (state, reason)
