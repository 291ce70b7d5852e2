"""Account-level pause: when someone at an account replies, the others there wait.

The person who replied is handled by the reply's own action (stop, hand-off...). Everyone else at
the account with an active enrollment is paused, except enrollments that exist because of a
referral: the person we were pointed to is exactly who should hear from us next. The dispatcher
checks `Account.paused` again just before each send, so messages already planned do not slip out.

A person can also pause an account by hand (`spear account pause`): then every active enrollment
there waits, referrals included, since a person asked for silence. Either way, and when the reply
actions (`engine.replies.actions`) pause colleagues, the paused enrollments carry the stop cause
`StopCause.ACCOUNT_PAUSED` (and a `stop_reason` made by `account_pause_reason` for people), which
is how resuming the account (`engine.prospects.account_control`) tells them from enrollments
paused for another reason.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session, col, select

from engine.store.events import EventKind
from engine.store.models import (
    Account,
    CancelCause,
    Cancellation,
    Enrollment,
    EnrollmentStatus,
    Event,
    Prospect,
    StopCause,
)

log = logging.getLogger(__name__)

# A waiting message cancelled because its account was paused (the dispatcher's last-moment
# check): resuming the account puts these back, with those of `enrollment_not_active("paused")`.
ACCOUNT_IS_PAUSED = Cancellation(CancelCause.ACCOUNT_PAUSED, "account is paused")


def enrollment_not_active(status: str | None) -> Cancellation:
    """Why a waiting message is cancelled because its enrollment is gone or no longer active."""
    if status is None:
        return Cancellation(CancelCause.ENROLLMENT_GONE, "enrollment is gone")
    if status == EnrollmentStatus.PAUSED:
        return Cancellation(CancelCause.ENROLLMENT_PAUSED, f"enrollment is {status}")
    return Cancellation(CancelCause.ENROLLMENT_ENDED, f"enrollment is {status}")


def account_pause_reason(cause: str) -> str:
    """The `stop_reason` of an enrollment paused because its account was: `account paused: ...`."""
    return f"account paused: {cause}"


def paused_by_account(enrollment: Enrollment) -> bool:
    """Whether `enrollment` waits only because its account was paused."""
    return (
        enrollment.status == EnrollmentStatus.PAUSED
        and enrollment.stop_cause == StopCause.ACCOUNT_PAUSED
    )


def pause_account(
    session: Session,
    account_id: int,
    replied_by: int | None,
    now: datetime,
    *,
    reason: str = "reply",
    actor: str = "spear",
) -> list[int]:
    """Pause `account_id` and its contacts' active enrollments; returns the ones paused.

    With `replied_by` (a reply from that prospect), the replier and referred people go on; without
    it (a person pausing by hand), every active enrollment at the account waits.
    """
    account = session.get(Account, account_id)
    if account is None:
        return []
    account.paused = True
    account.updated_at = now
    contacts = select(Prospect.id).where(Prospect.account_id == account_id)
    query = select(Enrollment).where(Enrollment.status == EnrollmentStatus.ACTIVE)
    if replied_by is None:
        cause = f"by hand: {reason}" if reason else "by hand"
        query = query.where(col(Enrollment.prospect_id).in_(contacts))
    else:
        cause = f"{reason} from prospect {replied_by}"
        query = query.where(
            col(Enrollment.prospect_id).in_(contacts.where(Prospect.id != replied_by)),
            col(Enrollment.referrer_id).is_(None),
        )
    paused = []
    for enrollment in session.exec(query).all():
        enrollment.status = EnrollmentStatus.PAUSED
        enrollment.stop_cause = StopCause.ACCOUNT_PAUSED
        enrollment.stop_reason = account_pause_reason(cause)
        enrollment.updated_at = now
        paused.append(enrollment.id or 0)
    session.add(
        Event(
            at=now,
            kind=EventKind.ACCOUNT_PAUSED,
            actor=actor,
            prospect_id=replied_by,
            data={"account_id": account_id, "reason": reason, "enrollments": paused},
        )
    )
    session.flush()
    log.info("account %d paused (%s): %d enrollments wait", account_id, cause, len(paused))
    return paused
