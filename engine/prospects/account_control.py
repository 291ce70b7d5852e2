"""Accounts as a person steers them: list and show, pause and resume, set the status by hand.

Spear pauses an account by itself when someone there replies (`engine.prospects.pauses`): the other
contacts' enrollments wait with the stop cause `account-paused`. Resuming the account
sets exactly those back to `active`; an enrollment paused for another reason (the planner parks
one it cannot render) stays paused. A resumed enrollment is not lost and does not burst:

- its next step, if it fell due during the pause, is due now, and the planner books it into the
  next slot the recipient's windows and the mailbox's caps allow, as any due step;
- an enrollment whose contact state now says no (they replied, unsubscribed or bounced during
  the pause: `engine.prospects.contact_state`) is stopped instead;
- a step that was already planned and was cancelled during the pause (its cancel cause is
  `enrollment-paused` or `account-paused`) is put back in the outbox as a missed row, which the
  planner re-slots likewise, keeping its Message-ID; it was never sent, since only rows not yet
  `sending` are cancelled.

A status set by hand is final until changed again: customer, not-fit, duplicate and dead accounts
are never enrolled (`NEVER_ENROLL`), so setting one of them also stops the enrollments still open
there and cancels their messages waiting in the outbox.

Domains are matched as the importer stores them: lower case, without scheme, `www.` or path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from engine.errors import NotFoundError
from engine.prospects.contact_state import load_contact_facts, why_not_mail
from engine.prospects.fields import RowProblem, parse_domain
from engine.prospects.lifecycle import Direct, stop_enrollment
from engine.prospects.pauses import (
    pause_account,
    paused_by_account,
)
from engine.store.events import EventKind
from engine.store.models import (
    DUE,
    NEVER_ENROLL,
    OPEN_ENROLLMENT,
    PAUSE_CANCELLATIONS,
    Account,
    AccountStatus,
    CancelCause,
    Enrollment,
    EnrollmentStatus,
    Event,
    OutboundMessage,
    OutboundStatus,
    Prospect,
    StopCause,
    stored_reason,
)


@dataclass(frozen=True)
class AccountSummary:
    domain: str
    name: str
    status: str
    status_reason: str | None
    paused: bool
    contacts: int
    active_enrollments: int
    paused_enrollments: int


@dataclass(frozen=True)
class EnrollmentLine:
    id: int
    cadence: str
    status: str
    stop_reason: str | None
    next_step: str | None
    next_due_at: datetime | None
    steps_sent: int


@dataclass(frozen=True)
class ContactLine:
    email: str
    name: str
    title: str | None
    enrollments: list[EnrollmentLine] = field(default_factory=list)


@dataclass(frozen=True)
class AccountDetail:
    summary: AccountSummary
    contacts: list[ContactLine]


@dataclass(frozen=True)
class AccountPause:
    domain: str
    was_paused: bool
    enrollments: list[int]  # paused now


@dataclass(frozen=True)
class AccountResume:
    domain: str
    was_paused: bool
    enrollments: list[int]  # set back to active
    revived: list[int]  # outbox rows cancelled during the pause, back in the outbox
    stopped: list[int] = field(default_factory=list)  # their contact state says no

    @property
    def changed(self) -> bool:
        return self.was_paused or bool(self.enrollments or self.revived or self.stopped)


@dataclass(frozen=True)
class StatusChange:
    domain: str
    previous: AccountStatus
    status: AccountStatus
    reason: str
    stopped: list[int]  # enrollments stopped because the status is never enrolled
    cancelled: list[int]  # their outbox rows that were still waiting to go


# --- finding and reading ------------------------------------------------------------------------


def normalise_domain(text: str) -> str:
    """`Acme.COM`, `@acme.com`, `https://www.acme.com/about` -> `acme.com`, as imported."""
    cleaned = text.strip().lower().lstrip("@")
    try:
        return parse_domain(cleaned)
    except RowProblem:
        return cleaned


def find_account(session: Session, domain: str) -> Account:
    """The account for `domain`, in any case or spelling the importer would accept."""
    wanted = normalise_domain(domain)
    account = session.exec(select(Account).where(Account.domain == wanted)).first()
    if account is None:
        # Rows written by hand or by an older version may keep capitals.
        account = session.exec(
            select(Account).where(sa.func.lower(Account.domain) == wanted)
        ).first()
    if account is None:
        raise NotFoundError(f"no account with domain {domain!r}")
    return account


def list_accounts(
    session: Session, *, paused_only: bool = False, status: AccountStatus | None = None
) -> list[AccountSummary]:
    """Accounts by domain, with their contacts and open enrollments counted."""
    query = select(Account).order_by(col(Account.domain))
    if paused_only:
        query = query.where(col(Account.paused))
    if status is not None:
        query = query.where(Account.status == status)
    accounts = session.exec(query).all()
    return _summaries(session, accounts)


def account_detail(session: Session, account: Account) -> AccountDetail:
    """The account and each of its contacts with their enrollments, oldest first."""
    prospects = session.exec(
        select(Prospect).where(Prospect.account_id == account.id).order_by(col(Prospect.email))
    ).all()
    enrollments = session.exec(
        select(Enrollment)
        .where(col(Enrollment.prospect_id).in_([p.id for p in prospects]))
        .order_by(col(Enrollment.id))
    ).all()
    by_prospect: dict[int, list[EnrollmentLine]] = {}
    for e in enrollments:
        by_prospect.setdefault(e.prospect_id, []).append(
            EnrollmentLine(
                id=e.id or 0,
                cadence=e.cadence,
                status=e.status.value,
                stop_reason=e.stop_reason,
                next_step=e.next_step,
                next_due_at=e.next_due_at,
                steps_sent=e.steps_sent,
            )
        )
    contacts = [
        ContactLine(
            email=p.email,
            name=f"{p.first_name} {p.last_name}".strip(),
            title=p.title,
            enrollments=by_prospect.get(p.id or 0, []),
        )
        for p in prospects
    ]
    return AccountDetail(_summaries(session, [account])[0], contacts)


def _summaries(session: Session, accounts: Sequence[Account]) -> list[AccountSummary]:
    ids = [a.id for a in accounts]
    contacts = dict(
        session.exec(
            select(Prospect.account_id, sa.func.count())
            .where(col(Prospect.account_id).in_(ids))
            .group_by(col(Prospect.account_id))
        ).all()
    )
    open_enrollments: dict[tuple[int, EnrollmentStatus], int] = {}
    counted = session.exec(
        select(Prospect.account_id, Enrollment.status, sa.func.count())
        .join(Enrollment, col(Enrollment.prospect_id) == col(Prospect.id))
        .where(col(Prospect.account_id).in_(ids), col(Enrollment.status).in_(OPEN_ENROLLMENT))
        .group_by(col(Prospect.account_id), col(Enrollment.status))
    ).all()
    for account_id, status, count in counted:
        open_enrollments[(account_id or 0, EnrollmentStatus(status))] = count
    return [
        AccountSummary(
            domain=a.domain,
            name=a.name,
            status=a.status.value,
            status_reason=a.status_reason,
            paused=a.paused,
            contacts=contacts.get(a.id, 0),
            active_enrollments=open_enrollments.get((a.id or 0, EnrollmentStatus.ACTIVE), 0),
            paused_enrollments=open_enrollments.get((a.id or 0, EnrollmentStatus.PAUSED), 0),
        )
        for a in accounts
    ]


# --- changing -----------------------------------------------------------------------------------


def pause_by_hand(
    session: Session, account: Account, now: datetime, reason: str | None, *, actor: str = "cli"
) -> AccountPause:
    """Pause the account and every active enrollment there (referrals too: a person asked)."""
    was_paused = account.paused
    if was_paused and not any(
        e.status == EnrollmentStatus.ACTIVE for e in _open_enrollments(session, account)
    ):
        return AccountPause(account.domain, was_paused, [])
    paused = pause_account(session, account.id or 0, None, now, reason=reason or "", actor=actor)
    return AccountPause(account.domain, was_paused, paused)


def resume_account(
    session: Session, account: Account, now: datetime, *, actor: str = "cli"
) -> AccountResume:
    """Lift the account's pause and set the enrollments it paused back to active."""
    was_paused = account.paused
    resumed: list[int] = []
    revived: list[int] = []
    stopped: list[int] = []
    enrollments = _open_enrollments(session, account)
    contacts = session.exec(
        select(Prospect).where(col(Prospect.id).in_({e.prospect_id for e in enrollments}))
    ).all()
    facts = load_contact_facts(session, contacts)
    for enrollment in enrollments:
        blocked = why_not_mail(facts[enrollment.prospect_id], enrollment.id or 0)
        if blocked is not None:
            # They replied, unsubscribed or bounced during the pause: their cadence ends here.
            why = f"{blocked[0].value}: {blocked[1]}"
            stop_enrollment(enrollment, StopCause.CONTACT_STATE, why, now, Direct(session))
            stopped.append(enrollment.id or 0)
            continue
        if paused_by_account(enrollment):
            enrollment.status = EnrollmentStatus.ACTIVE
            enrollment.stop_cause = None
            enrollment.stop_reason = None
            enrollment.updated_at = now
            session.add(enrollment)
            resumed.append(enrollment.id or 0)
        elif not (was_paused and enrollment.status == EnrollmentStatus.ACTIVE):
            continue
        # Also for one that stayed active (its cadence continues on a colleague's reply): the
        # dispatcher cancelled its message because the account was paused.
        row = _revive(session, enrollment, now)
        if row is not None:
            revived.append(row)
    result = AccountResume(account.domain, was_paused, resumed, revived, stopped)
    if not result.changed:
        return result
    account.paused = False
    account.updated_at = now
    session.add(account)
    session.add(
        Event(
            at=now,
            kind=EventKind.ACCOUNT_RESUMED,
            actor=actor,
            data={
                "account_id": account.id,
                "domain": account.domain,
                "enrollments": resumed,
                "revived": revived,
                "stopped": stopped,
            },
        )
    )
    session.flush()
    return result


def set_account_status(
    session: Session,
    account: Account,
    status: AccountStatus,
    now: datetime,
    reason: str | None = None,
    *,
    actor: str = "cli",
) -> StatusChange:
    """Set the account's status and reason; a never-enrol status also ends what is under way."""
    previous = account.status
    because = reason or "set by hand"
    account.status = status
    account.status_reason = because
    account.updated_at = now
    session.add(account)
    stopped: list[int] = []
    cancelled: list[int] = []
    if status in NEVER_ENROLL:
        why = f"account is {status.value}: {because}"
        for enrollment in _open_enrollments(session, account):
            stop_enrollment(enrollment, StopCause.ACCOUNT_RULED_OUT, why, now, Direct(session))
            stopped.append(enrollment.id or 0)
        session.flush()
        cancelled = _cancel_waiting(session, account, why)
    session.add(
        Event(
            at=now,
            kind=EventKind.ACCOUNT_STATUS,
            actor=actor,
            data={
                "account_id": account.id,
                "domain": account.domain,
                "from": previous.value,
                "to": status.value,
                "reason": because,
                "enrollments_stopped": stopped,
                "outbound_cancelled": cancelled,
            },
        )
    )
    session.flush()
    return StatusChange(account.domain, previous, status, because, stopped, cancelled)


def _open_enrollments(session: Session, account: Account) -> Sequence[Enrollment]:
    contacts = select(Prospect.id).where(Prospect.account_id == account.id)
    return session.exec(
        select(Enrollment)
        .where(
            col(Enrollment.prospect_id).in_(contacts), col(Enrollment.status).in_(OPEN_ENROLLMENT)
        )
        .order_by(col(Enrollment.id))
    ).all()


def _revive(session: Session, enrollment: Enrollment, now: datetime) -> int | None:
    """Put back the enrollment's latest step if the pause cancelled it; returns its row id.

    The planner had already moved the enrollment on to the step after it, so without this the
    cancelled step would be skipped. The row goes back as one that missed its window
    (`send_before` now): the dispatcher leaves it alone and the planner's next pass re-slots it
    under the windows and caps. Rows are only cancelled before they are committed `sending`, and
    a cancelled row's time had come, so it was never sent and lies in the past.
    """
    latest = session.exec(
        select(OutboundMessage)
        .where(OutboundMessage.enrollment_id == enrollment.id)
        .order_by(col(OutboundMessage.id).desc())
        .limit(1)
    ).first()
    if (
        latest is None
        or latest.status != OutboundStatus.CANCELLED
        or latest.cancel_cause not in PAUSE_CANCELLATIONS
        or latest.scheduled_at is None
        or latest.scheduled_at >= now
    ):
        return None
    # A retry goes back as planned: its re-slotted time starts a fresh retry deadline.
    latest.status = OutboundStatus.PLANNED
    latest.error = None
    latest.cancel_cause = None
    latest.next_attempt_at = None
    latest.claimed_by = None
    latest.claimed_at = None
    latest.send_before = now
    session.add(latest)
    return latest.id


def _cancel_waiting(session: Session, account: Account, reason: str) -> list[int]:
    """Cancel the account's outbox rows still waiting to go; returns the ids cancelled.

    Conditional on the row still waiting, so a row a dispatcher has just committed `sending`
    is left to it (its SMTP transaction is already under way).
    """
    contacts = select(Prospect.id).where(Prospect.account_id == account.id)
    waiting = list(
        session.exec(
            select(OutboundMessage.id).where(
                col(OutboundMessage.prospect_id).in_(contacts),
                col(OutboundMessage.status).in_(DUE),
            )
        ).all()
    )
    if not waiting:
        return []
    session.execute(
        sa.update(OutboundMessage)
        .where(col(OutboundMessage.id).in_(waiting), col(OutboundMessage.status).in_(DUE))
        .values(
            status=OutboundStatus.CANCELLED,
            error=stored_reason(reason),
            cancel_cause=CancelCause.ACCOUNT_RULED_OUT,
        )
    )
    return [
        i
        for i in session.exec(
            select(OutboundMessage.id).where(
                col(OutboundMessage.id).in_(waiting),
                OutboundMessage.status == OutboundStatus.CANCELLED,
                OutboundMessage.cancel_cause == CancelCause.ACCOUNT_RULED_OUT,
            )
        ).all()
        if i is not None
    ]
