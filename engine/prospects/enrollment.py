"""Enrolling prospects in a cadence, and the reasons some are left out.

`plan_enrollment` decides, `enroll` writes: the dry run and the real run share one rule. Whether a
prospect may be enrolled at all is their contact state's question
(`engine.prospects.contact_state.why_not_enrol`): never whoever is forgotten, unsubscribed or
bounced; not whoever is at a ruled-out account or already in this cadence; and, unless a person
says so (`EnrolPath.AGAIN`, `spear enroll --again`), not whoever replied to anything, was in this
cadence before, or belongs to a handed-off, paused or engaged account. One rule looks across
prospects and lives here: when the cadence says one contact per account at a time, nobody is
enrolled while another contact at the account (or they themselves) is in a cadence, any cadence,
or was enrolled earlier in the same run.

A person we were referred to (`EnrolPath.REFERRAL`) is exempt from one-per-account and from the
account pause: the referrer's own enrollment ends with the reply, colleagues are paused because of
that very reply, and the play says the person named is exactly who to write to next. A reply that
starts a cadence for its own sender (`EnrolPath.REPLY`: not-now -> nurture) is its own reason to
write. The final states hold on every path.

An enrollment starts at the cadence's first step, due at `start` (now by default), with the cadence
version pinned, and is logged as an `enrolled` event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlmodel import Session, col, select

from engine.cadences import Cadence, pin_version
from engine.config import RedFlags
from engine.prospects.contact_state import (
    EnrolPath,
    Exclusion,
    load_contact_facts,
    why_not_enrol,
)
from engine.store.events import EventKind
from engine.store.models import OPEN_ENROLLMENT, Enrollment, EnrollmentStatus, Event, Prospect


class Excluded(NamedTuple):
    prospect: Prospect
    reason: Exclusion
    detail: str


@dataclass
class EnrollmentPlan:
    enrol: list[Prospect] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)

    def counts(self) -> dict[Exclusion, int]:
        """How many were left out for each reason, in the order the reasons are checked."""
        found = {e.reason for e in self.excluded}
        return {
            reason: sum(1 for e in self.excluded if e.reason is reason)
            for reason in Exclusion
            if reason in found
        }


def plan_enrollment(
    session: Session,
    cadence: Cadence,
    prospects: Iterable[Prospect],
    now: datetime,
    *,
    path: EnrolPath = EnrolPath.COMMAND,
    red_flags: RedFlags | None = None,
) -> EnrollmentPlan:
    """Who of `prospects` would be enrolled in `cadence` at `now` by `path`, and why the others
    would not."""
    candidates = list({p.id: p for p in prospects}.values())  # each prospect once, in order
    facts = load_contact_facts(session, candidates, red_flags)
    one_per_account = cadence.audience.one_per_account and path is not EnrolPath.REFERRAL
    account_ids = {p.account_id for p in candidates if p.account_id is not None}
    busy_accounts = _accounts_in_a_cadence(session, account_ids) if one_per_account else {}

    plan = EnrollmentPlan()
    for prospect in candidates:
        found = why_not_enrol(facts[prospect.id or 0], cadence.name, path)
        if found is None and one_per_account:
            found = _busy_account_reason(prospect, busy_accounts)
        if found is not None:
            plan.excluded.append(Excluded(prospect, *found))
            continue
        plan.enrol.append(prospect)
        if prospect.account_id is not None and one_per_account:
            busy_accounts.setdefault(prospect.account_id, []).append(
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
    path: EnrolPath | None = None,
    red_flags: RedFlags | None = None,
) -> list[Enrollment]:
    """Enrol those of `prospects` the plan allows; returns the new enrollments (flushed).

    With `referrer` the path is a referral unless given.
    """
    if path is None:
        path = EnrolPath.REFERRAL if referrer is not None else EnrolPath.COMMAND
    plan = plan_enrollment(session, cadence, prospects, now, path=path, red_flags=red_flags)
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
                kind=EventKind.ENROLLED,
                prospect_id=enrollment.prospect_id,
                enrollment_id=enrollment.id,
                data=data,
            )
        )
    session.flush()
    return enrollments


def _busy_account_reason(
    prospect: Prospect, busy_accounts: dict[int, list[tuple[str, str]]]
) -> tuple[Exclusion, str] | None:
    """Someone at the prospect's account, the prospect included, is in a cadence."""
    if prospect.account_id is None:
        return None
    busy = busy_accounts.get(prospect.account_id, [])
    if not busy:
        return None
    email, where = busy[0]
    who = "they are" if email == prospect.email else f"{email} is"
    return Exclusion.ACCOUNT_BUSY, f"one contact per account: {who} in a cadence ({where})"


def _accounts_in_a_cadence(
    session: Session, account_ids: set[int]
) -> dict[int, list[tuple[str, str]]]:
    """Account id -> who there is in an open enrollment, and in which cadence."""
    query = (
        select(Prospect.account_id, Prospect.email, Enrollment.cadence)
        .join(Enrollment, col(Enrollment.prospect_id) == col(Prospect.id))
        .where(
            col(Prospect.account_id).in_(account_ids), col(Enrollment.status).in_(OPEN_ENROLLMENT)
        )
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
