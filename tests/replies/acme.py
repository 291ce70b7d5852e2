"""The small world reply and review tests share: Acme, with Dana and Sam both enrolled in
`outreach`, and the first email already sent to Dana (`mail_sam` sends Sam his)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from engine.store.db import session_scope
from engine.store.models import Account, Enrollment, OutboundMessage, OutboundStatus, Prospect

START = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)


def seed_acme(engine: Engine, outreach_version: str) -> dict[str, int]:
    """Create the world; returns the ids of its rows by name."""
    with session_scope(engine) as session:
        account = Account(domain="acme.example", name="Acme", created_at=START)
        session.add(account)
        session.flush()
        dana = Prospect(email="dana@acme.example", first_name="Dana", account_id=account.id)
        sam = Prospect(email="sam@acme.example", first_name="Sam", account_id=account.id)
        session.add_all([dana, sam])
        session.flush()
        enrollments = [
            Enrollment(
                prospect_id=person.id or 0,
                cadence="outreach",
                cadence_version=outreach_version,
                next_step="bump",
                next_due_at=START,
                mailbox="alex",
                started_at=START,
            )
            for person in (dana, sam)
        ]
        session.add_all(enrollments)
        session.flush()
        outbound = first_email(enrollments[0], dana, "alex", "<o1@example-sender.com>")
        session.add(outbound)
        session.flush()
        return {
            "account": account.id or 0,
            "dana": dana.id or 0,
            "sam": sam.id or 0,
            "dana_enrollment": enrollments[0].id or 0,
            "sam_enrollment": enrollments[1].id or 0,
            "outbound": outbound.id or 0,
        }


def mail_sam(engine: Engine, ids: dict[str, int]) -> None:
    """Sam gets his first email too: his replies without thread headers are then provably ours."""
    with session_scope(engine) as session:
        sam = session.get(Prospect, ids["sam"])
        enrollment = session.get(Enrollment, ids["sam_enrollment"])
        assert sam is not None and enrollment is not None
        session.add(first_email(enrollment, sam, "alex", "<o2@example-sender.com>"))


def first_email(
    enrollment: Enrollment, prospect: Prospect, mailbox: str, message_id: str
) -> OutboundMessage:
    """The first step's email, sent to `prospect` from `mailbox` at START."""
    return OutboundMessage(
        enrollment_id=enrollment.id or 0,
        prospect_id=prospect.id or 0,
        step_id="ask",
        mailbox=mailbox,
        message_id=message_id,
        to_address=prospect.email,
        subject="Quick question",
        raw=f"Subject: Quick question\r\n\r\nHi {prospect.first_name}\r\n".encode(),
        status=OutboundStatus.SENT,
        scheduled_at=START,
        sent_at=START,
    )
