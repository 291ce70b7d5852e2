"""Enrolling prospects in a cadence, and the reasons some are left out.

`plan_enrollment` decides, `enroll` writes: the dry run and the real run share one rule. A prospect
is left out, with the first reason that applies, when:

- their address, domain or hash is on the suppression list;
- their address bounced or was refused (pruned as invalid);
- their account is a customer, not a fit, a duplicate or dead, or is paused because someone there
  replied; or, still prospecting, the configuration's `red_flags` now rule it out (they mark
  accounts at import; a flag added since then holds at enrolment too);
- they are already in this cadence (an active or paused enrollment);
- the cadence says one contact per account at a time and another contact at the same account is in
  a cadence (any cadence), or is enrolled earlier in the same run.

A person we were referred to (`referrer` given) is exempt from the last rule and from the account
pause: the referrer's own enrollment ends with the reply, colleagues are paused because of that
very reply, and the play says the person named is exactly who to write to next. The other rules
still apply to them.

An enrollment starts at the cadence's first step, due at `start` (now by default), with the cadence
version pinned, and is logged as an `enrolled` event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from engine.cadences import Cadence, pin_version
from engine.config import RedFlags
from engine.prospects.accounts import red_flag
from engine.prospects.suppression import suppression_reasons
from engine.store.models import (
    NEVER_ENROLL,
    Account,
    AccountStatus,
    EmailStatus,
    Enrollment,
    EnrollmentStatus,
    Event,
    Prospect,
)

OPEN = (EnrollmentStatus.ACTIVE, EnrollmentStatus.PAUSED)


@dataclass
class EnrollmentPlan:
    enrol: list[Prospect] = field(default_factory=list)
    excluded: list[tuple[Prospect, str]] = field(default_factory=list)


def plan_enrollment(
    session: Session,
    cadence: Cadence,
    prospects: Iterable[Prospect],
    now: datetime,
    *,
    referrer: Prospect | None = None,
    red_flags: RedFlags | None = None,
) -> EnrollmentPlan:
    """Who of `prospects` would be enrolled in `cadence` at `now`, and why the others would not.

    With `referrer`, `prospects` are the people that referrer pointed us to: the account pause and
    the one-contact-per-account rule do not hold them back.
    """
    referred = referrer is not None
    candidates = list({p.id: p for p in prospects}.values())  # each prospect once, in order
    ids = [p.id for p in candidates]
    account_ids = {p.account_id for p in candidates if p.account_id is not None}
    accounts = {
        a.id: a for a in session.exec(select(Account).where(col(Account.id).in_(account_ids)))
    }
    suppressed = suppression_reasons(session, [p.email for p in candidates])
    in_this_cadence = set(
        session.exec(
            select(Enrollment.prospect_id).where(
                col(Enrollment.prospect_id).in_(ids),
                Enrollment.cadence == cadence.name,
                col(Enrollment.status).in_(OPEN),
            )
        )
    )
    one_per_account = _one_per_account(cadence) and not referred
    busy_accounts = _accounts_in_a_cadence(session, account_ids) if one_per_account else {}

    plan = EnrollmentPlan()
    for prospect in candidates:
        account = accounts.get(prospect.account_id) if prospect.account_id else None
        reason = (
            suppressed.get(prospect.email)
            or _address_reason(prospect)
            or _account_reason(account, red_flags, paused_counts=not referred)
            or ("already in this cadence" if prospect.id in in_this_cadence else None)
            or _busy_account_reason(account, busy_accounts, prospect)
        )
        if reason:
            plan.excluded.append((prospect, reason))
            continue
        plan.enrol.append(prospect)
        if account is not None and one_per_account:
            busy_accounts.setdefault(account.id or 0, []).append(
                (prospect.email, "enrolled in this run")
            )
    return plan


def enroll(
    session: Session,
    cadence: Cadence,
    prospects: Iterable[Prospect],
    *,
    now: datetime,
    start: datetime | None = None,
    referrer: Prospect | None = None,
    red_flags: RedFlags | None = None,
) -> list[Enrollment]:
    """Enrol those of `prospects` the plan allows; returns the new enrollments (flushed)."""
    plan = plan_enrollment(session, cadence, prospects, now, referrer=referrer, red_flags=red_flags)
    if not plan.enrol:
        return []
    pin_version(session, cadence, now=now)
    first_step = cadence.first_step().id
    enrollments = []
    for prospect in plan.enrol:
        enrollment = Enrollment(
            prospect_id=prospect.id or 0,
            cadence=cadence.name,
            cadence_version=cadence.version,
            status=EnrollmentStatus.ACTIVE,
            next_step=first_step,
            next_due_at=start or now,
            variant_seed=_variant_seed(cadence.name, prospect.email),
            referrer_id=referrer.id if referrer else None,
            started_at=now,
            updated_at=now,
        )
        session.add(enrollment)
        enrollments.append(enrollment)
    session.flush()
    for enrollment in enrollments:
        data: dict[str, object] = {"cadence": cadence.name, "version": cadence.version}
        if referrer is not None:
            data["referrer"] = referrer.email
        session.add(
            Event(
                at=now,
                kind="enrolled",
                prospect_id=enrollment.prospect_id,
                enrollment_id=enrollment.id,
                data=data,
            )
        )
    session.flush()
    return enrollments


def _one_per_account(cadence: Cadence) -> bool:
    return cadence.audience.one_per_account


def _address_reason(prospect: Prospect) -> str | None:
    if prospect.email_status == EmailStatus.INVALID:
        return "address bounced (invalid)"
    return None


def _account_reason(
    account: Account | None, red_flags: RedFlags | None, *, paused_counts: bool = True
) -> str | None:
    if account is None:
        return None
    if account.status in NEVER_ENROLL:
        why = f" ({account.status_reason})" if account.status_reason else ""
        return f"account {account.domain} is {account.status.value}{why}"
    flagged = None
    if red_flags is not None and account.status == AccountStatus.PROSPECTING:
        flagged = red_flag(account.domain, account.country, red_flags)
    if flagged is not None:
        status, why = flagged
        return f"account {account.domain} is ruled out as {status.value}: {why}"
    if account.paused and paused_counts:
        return f"account {account.domain} is paused (someone there replied)"
    return None


def _busy_account_reason(
    account: Account | None, busy_accounts: dict[int, list[tuple[str, str]]], prospect: Prospect
) -> str | None:
    if account is None or account.id is None:
        return None
    others = [(e, where) for e, where in busy_accounts.get(account.id, []) if e != prospect.email]
    if not others:
        return None
    email, where = others[0]
    return f"another contact at {account.domain} is in a cadence: {email} ({where})"


def _accounts_in_a_cadence(
    session: Session, account_ids: set[int]
) -> dict[int, list[tuple[str, str]]]:
    """Account id -> who there is in an open enrollment, and in which cadence."""
    query = (
        select(Prospect.account_id, Prospect.email, Enrollment.cadence)
        .join(Enrollment, col(Enrollment.prospect_id) == col(Prospect.id))
        .where(col(Prospect.account_id).in_(account_ids), col(Enrollment.status).in_(OPEN))
        .order_by(col(Enrollment.id))
    )
    busy: dict[int, list[tuple[str, str]]] = {}
    for account_id, email, cadence in session.exec(query):
        if account_id is not None:
            busy.setdefault(account_id, []).append((email, cadence))
    return busy


def _variant_seed(cadence: str, email: str) -> int:
    # Stable per person and cadence, so a re-planned step picks the same A/B variant.
    return int.from_bytes(hashlib.sha256(f"{cadence}:{email}".encode()).digest()[:4], "big")
