"""Account-level pause: when someone at an account replies, the others there wait.

The person who replied is handled by the reply's own action (stop, hand-off...). Everyone else at
the account with an active enrollment is paused, except enrollments that exist because of a
referral: the person we were pointed to is exactly who should hear from us next. The dispatcher
checks `Account.paused` again just before each send, so messages already planned do not slip out.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session, col, select

from engine.store.models import Account, Enrollment, EnrollmentStatus, Event, Prospect

log = logging.getLogger(__name__)


def pause_account(
    session: Session, account_id: int, replied_by: int, now: datetime, *, reason: str = "reply"
) -> list[int]:
    """Pause `account_id` and its other contacts' active enrollments; returns the ones paused."""
    account = session.get(Account, account_id)
    if account is None:
        return []
    account.paused = True
    account.updated_at = now
    colleagues = select(Prospect.id).where(
        Prospect.account_id == account_id, Prospect.id != replied_by
    )
    enrollments = session.exec(
        select(Enrollment).where(
            col(Enrollment.prospect_id).in_(colleagues),
            Enrollment.status == EnrollmentStatus.ACTIVE,
            col(Enrollment.referrer_id).is_(None),
        )
    ).all()
    paused = []
    for enrollment in enrollments:
        enrollment.status = EnrollmentStatus.PAUSED
        enrollment.stop_reason = f"account paused: {reason} from prospect {replied_by}"
        enrollment.updated_at = now
        paused.append(enrollment.id or 0)
    session.add(
        Event(
            at=now,
            kind="account-paused",
            prospect_id=replied_by,
            data={"account_id": account_id, "reason": reason, "enrollments": paused},
        )
    )
    session.flush()
    log.info(
        "account %d paused after a %s from prospect %d: %d enrollments wait",
        account_id,
        reason,
        replied_by,
        len(paused),
    )
    return paused
