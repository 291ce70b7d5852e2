"""The last-moment checks: whether a claimed row may still go out, just before SMTP.

Suppression, a reply or bounce since planning, the account paused, the enrollment no longer
active. On the fast path they run as the conditions of the update to `sending`
(`statements.CLEAR_TO_SEND`); `reason_not_to_send` spells them out when that update does not take.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Connection, Engine

from engine.prospects.pauses import ACCOUNT_IS_PAUSED, enrollment_not_active
from engine.prospects.suppression import suppression_reasons_normalised
from engine.sending.dispatcher.claiming import Claimed
from engine.sending.dispatcher.statements import FACTS, LAST_SUPPRESSION
from engine.store.models import CancelCause, Cancellation, EmailStatus, EnrollmentStatus


class SuppressionView:
    """The suppression list as it applies to one batch, checked in one query.

    Each send still sees the current list: the update to `sending` requires the list's highest id
    to be the one this view was built at, and the slow path refreshes the view when it is not.
    """

    def __init__(self, engine: Engine, emails: Sequence[str]) -> None:
        self._emails = list(emails)
        with engine.connect() as db:
            self.last = db.scalar(LAST_SUPPRESSION)
            self._reasons = suppression_reasons_normalised(db, self._emails)

    def listed(self, email: str) -> str | None:
        """Why `email` is suppressed as of this view, or None."""
        return self._reasons.get(email.strip().lower())

    def reason(self, db: Connection, email: str, last: int | None) -> str | None:
        """Why `email` is suppressed as of `last` (the list's highest id now), or None."""
        if last != self.last:
            self._reasons = suppression_reasons_normalised(db, self._emails)
            self.last = last
        return self.listed(email)


def reason_not_to_send(
    db: Connection, row: Claimed, suppressed: SuppressionView
) -> Cancellation | None:
    """Why this row must not go out now, or None. Runs inside the `sending` transaction."""
    facts = db.execute(
        FACTS,
        {
            "enrollment_id": row.enrollment_id,
            "prospect_id": row.prospect_id,
            "planned_at": row.created_at or row.scheduled_at,
        },
    ).one_or_none()
    if facts is None:
        return enrollment_not_active(None)
    if facts.status != EnrollmentStatus.ACTIVE.value:
        return enrollment_not_active(facts.status)
    if facts.email_status == EmailStatus.INVALID.value:
        return Cancellation(CancelCause.ADDRESS_INVALID, "address is invalid (bounced)")
    reason = suppressed.reason(db, facts.email, facts.last_suppression)
    if reason is not None:
        return Cancellation(CancelCause.SUPPRESSED, f"suppressed: {reason}")
    # A referral is exempt: the account paused because someone there pointed us to this person.
    if facts.paused and facts.referrer_id is None:
        return ACCOUNT_IS_PAUSED
    if facts.reply_id is not None:
        return Cancellation(
            CancelCause.REPLIED,
            f"prospect replied or bounced since planning (inbound {facts.reply_id})",
        )
    return None
