"""A prospect's contact state: the one answer to "may Spear write to this person, and why not?".

Every path that can lead to an email asks here: enrolment (`spear enroll`, a referral, a reply
that starts nurture), the planner before it renders a step, the dispatcher's last-moment check,
resuming an account, and a review decision that re-applies a reply's actions. The rules are pure
functions of `ContactFacts`; `load_contact_facts` gathers those facts in a handful of queries.

The states, strongest first (the first that applies is the state):

- `forgotten`: erased on request, only the hash of the address is kept;
- `bounced`: the address was pruned as invalid;
- `unsubscribed`: the address or its domain is on the suppression list;
- `handed-off`: the account belongs to an account executive now;
- `nurture`: in a cadence a reply of theirs started (not-now -> nurture), due on a date;
- `in-cadence`: in an open (active or paused) enrollment;
- `replied`: answered a message of ours (with the label of the latest reply);
- `contacted`: was in a cadence, which ended without a reply;
- `never-contacted`.

Whoever is forgotten, unsubscribed or bounced is never mailed again, whatever anyone asks. Whoever
replied, or was in a cadence before, or belongs to a handed-off, paused or engaged account (someone
there replied), is not enrolled unless a person says so (`EnrolPath.AGAIN`), or unless a reply
itself starts the cadence (a referral, not-now -> nurture).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session, col, select

from engine.classify.result import NOT_A_PERSON
from engine.config import RedFlags
from engine.prospects.accounts import red_flag
from engine.prospects.suppression import suppression_entries_normalised
from engine.store.events import EventKind
from engine.store.models import (
    NEVER_ENROLL,
    OPEN_ENROLLMENT,
    Account,
    AccountStatus,
    EmailStatus,
    Enrollment,
    EnrollmentStatus,
    Event,
    InboundMessage,
    InboundStatus,
    Prospect,
    SuppressionKind,
)

# Inbound labels that are not a person answering: they never count as a reply.


class ContactState(StrEnum):
    NEVER_CONTACTED = "never-contacted"
    IN_CADENCE = "in-cadence"
    CONTACTED = "contacted"
    REPLIED = "replied"
    HANDED_OFF = "handed-off"
    NURTURE = "nurture"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    FORGOTTEN = "forgotten"


class Exclusion(StrEnum):
    """Why a prospect is not enrolled, or an enrollment not mailed."""

    FORGOTTEN = "forgotten"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    ACCOUNT_RULED_OUT = "account-ruled-out"  # customer, not a fit, duplicate, dead, red flag
    IN_THIS_CADENCE = "in-this-cadence"
    REPLIED = "replied"
    WAS_IN_THIS_CADENCE = "was-in-this-cadence"
    ACCOUNT_HANDED_OFF = "account-handed-off"
    ACCOUNT_PAUSED = "account-paused"
    ACCOUNT_ENGAGED = "account-engaged"  # someone there replied: the account is in conversation
    ACCOUNT_BUSY = "account-busy"  # one contact per account, and another one is in a cadence


# What a person lifts with `spear enroll --again`. Forgotten, unsubscribed and bounced are never
# lifted, by anyone: no means no.
LIFTED_BY_AGAIN = frozenset(
    {
        Exclusion.ACCOUNT_HANDED_OFF,
        Exclusion.ACCOUNT_ENGAGED,
        Exclusion.ACCOUNT_PAUSED,
        Exclusion.REPLIED,
        Exclusion.WAS_IN_THIS_CADENCE,
    }
)


class EnrolPath(StrEnum):
    """Who asks for an enrolment: the rules differ only in what they lift."""

    COMMAND = "command"  # `spear enroll`: everything holds
    AGAIN = "again"  # `spear enroll --again`: a person lifts `LIFTED_BY_AGAIN`
    REFERRAL = "referral"  # someone pointed us to them: the account pause and one-per-account lift
    REPLY = "reply"  # their own reply starts the cadence (not-now -> nurture)


# -- facts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnrollmentFact:
    id: int
    cadence: str
    status: EnrollmentStatus
    stop_reason: str | None
    next_due_at: datetime | None
    started_at: datetime | None
    steps_sent: int
    started_by_reply: int | None  # the inbound id of the reply whose action enrolled them

    @property
    def open(self) -> bool:
        return self.status in OPEN_ENROLLMENT


@dataclass(frozen=True)
class ReplyFact:
    inbound_id: int
    label: str | None
    received_at: datetime | None


@dataclass(frozen=True)
class AccountFact:
    domain: str
    status: AccountStatus
    status_reason: str | None
    paused: bool
    red_flag: str | None  # what the config's red flags say now about a prospecting account


@dataclass(frozen=True)
class ContactFacts:
    email: str
    suppression: tuple[SuppressionKind, str] | None  # kind and description of the entry
    address_invalid: bool
    account: AccountFact | None
    enrollments: tuple[EnrollmentFact, ...] = ()
    replies: tuple[ReplyFact, ...] = ()  # oldest first


@dataclass(frozen=True)
class Contact:
    state: ContactState
    why: str
    label: str | None = None  # replied: the latest reply's label
    due: datetime | None = None  # nurture: when the cadence resumes


# -- the rules (pure) ----------------------------------------------------------------------------


def contact_state(facts: ContactFacts) -> Contact:
    """The prospect's state, and why."""
    final = _final(facts)
    if final is not None:
        reason, why = final
        return Contact(ContactState(reason.value), why)
    account = facts.account
    if account is not None and account.status == AccountStatus.HANDED_OFF:
        return Contact(
            ContactState.HANDED_OFF, _because(f"account {account.domain} handed off", account)
        )
    for enrollment in reversed(facts.enrollments):
        if enrollment.open and enrollment.started_by_reply is not None:
            due = enrollment.next_due_at
            when = f" from {due.date().isoformat()}" if due else ""
            why = f"{enrollment.cadence}{when}, started by reply {enrollment.started_by_reply}"
            return Contact(ContactState.NURTURE, why, due=due)
    for enrollment in reversed(facts.enrollments):
        if enrollment.open:
            why = f"{enrollment.cadence}, {enrollment.steps_sent} steps sent"
            if enrollment.status == EnrollmentStatus.PAUSED:
                why += f", paused: {enrollment.stop_reason or 'no reason given'}"
            return Contact(ContactState.IN_CADENCE, why)
    if facts.replies:
        last = facts.replies[-1]
        return Contact(ContactState.REPLIED, _reply_text(last), label=last.label)
    if facts.enrollments:
        last_enrollment = facts.enrollments[-1]
        why = f"{last_enrollment.cadence} {last_enrollment.status.value}"
        if last_enrollment.stop_reason:
            why += f": {last_enrollment.stop_reason}"
        return Contact(ContactState.CONTACTED, why)
    return Contact(ContactState.NEVER_CONTACTED, "never enrolled")


def why_not_enrol(
    facts: ContactFacts, cadence: str, path: EnrolPath = EnrolPath.COMMAND
) -> tuple[Exclusion, str] | None:
    """Why the prospect must not be enrolled in `cadence` by `path`, or None.

    One contact per account is the caller's rule: it looks across prospects.
    """
    final = _final(facts)
    if final is not None:
        return final
    account = facts.account
    if account is not None:
        if account.status in NEVER_ENROLL:
            return Exclusion.ACCOUNT_RULED_OUT, _because(
                f"account {account.domain} is {account.status.value}", account
            )
        if account.red_flag is not None:
            return (
                Exclusion.ACCOUNT_RULED_OUT,
                f"account {account.domain} is ruled out: {account.red_flag}",
            )
    open_here = [e for e in facts.enrollments if e.cadence == cadence and e.open]
    if open_here:
        return Exclusion.IN_THIS_CADENCE, f"already in {cadence} ({open_here[0].status.value})"
    found = _held_back(facts, cadence, path)
    if found is None or (path is EnrolPath.AGAIN and found[0] in LIFTED_BY_AGAIN):
        return None
    return found


def why_not_mail(facts: ContactFacts, enrollment_id: int) -> tuple[Exclusion, str] | None:
    """Why the enrollment must not send its next step now, or None.

    Asked by the planner and when an account resumes: a final state, or a reply since the
    enrollment started that did not itself start it.
    """
    final = _final(facts)
    if final is not None:
        return final
    enrollment = next((e for e in facts.enrollments if e.id == enrollment_id), None)
    if enrollment is None:
        return None
    started = enrollment.started_at
    for reply in reversed(facts.replies):
        if reply.inbound_id == enrollment.started_by_reply:
            continue
        received = reply.received_at
        if started is None or received is None or received >= started:
            return Exclusion.REPLIED, _reply_text(reply)
    return None


def _final(facts: ContactFacts) -> tuple[Exclusion, str] | None:
    kind, why = facts.suppression or (None, "")
    if kind is SuppressionKind.HASH:
        return Exclusion.FORGOTTEN, why
    if facts.address_invalid:
        # A hard bounce suppresses the address too; the bounce is the more telling name.
        return Exclusion.BOUNCED, "address bounced (invalid)"
    if kind is not None:
        return Exclusion.UNSUBSCRIBED, why
    return None


def _held_back(facts: ContactFacts, cadence: str, path: EnrolPath) -> tuple[Exclusion, str] | None:
    """The rules a person may lift with --again: the person's own history first, then their
    account's."""
    if path is not EnrolPath.REPLY:  # the reply is the reason to write, and it may be nurture again
        if facts.replies:
            return Exclusion.REPLIED, _reply_text(facts.replies[-1])
        before = [e for e in facts.enrollments if e.cadence == cadence]
        if before:
            return Exclusion.WAS_IN_THIS_CADENCE, f"was in {cadence} ({before[-1].status.value})"
    account = facts.account
    if account is None:
        return None
    if account.status == AccountStatus.HANDED_OFF:
        return Exclusion.ACCOUNT_HANDED_OFF, _because(
            f"account {account.domain} is handed off", account
        )
    if account.paused and path is not EnrolPath.REFERRAL:
        return Exclusion.ACCOUNT_PAUSED, f"account {account.domain} is paused"
    # A referral or a reply carries the conversation on; a cold enrolment would cut across it.
    if account.status == AccountStatus.ENGAGED and path in (EnrolPath.COMMAND, EnrolPath.AGAIN):
        return Exclusion.ACCOUNT_ENGAGED, f"someone at {account.domain} replied"
    return None


def _reply_text(reply: ReplyFact) -> str:
    when = f" on {reply.received_at.date().isoformat()}" if reply.received_at else ""
    return f"replied {reply.label or 'unclassified'}{when} (inbound {reply.inbound_id})"


def _because(what: str, account: AccountFact) -> str:
    return f"{what} ({account.status_reason})" if account.status_reason else what


# -- gathering the facts -------------------------------------------------------------------------

_CHUNK = 5000  # ids per IN list, well under every driver's limit


def load_contact_facts(
    session: Session, prospects: Iterable[Prospect], red_flags: RedFlags | None = None
) -> dict[int, ContactFacts]:
    """Prospect id -> its facts, in a few queries for the lot."""
    people = list({p.id: p for p in prospects if p.id is not None}.values())
    ids = [p.id for p in people if p.id is not None]
    accounts = {
        a.id: a
        for chunk in _chunks({p.account_id for p in people if p.account_id is not None})
        for a in session.exec(select(Account).where(col(Account.id).in_(chunk)))
    }
    suppressed = suppression_entries_normalised(session, [p.email for p in people])
    enrollments: dict[int, list[Enrollment]] = {}
    replies: dict[int, list[ReplyFact]] = {}
    started_by: dict[int, int] = {}
    for chunk in _chunks(ids):
        for enrollment in session.exec(
            select(Enrollment)
            .where(col(Enrollment.prospect_id).in_(chunk))
            .order_by(col(Enrollment.id))
        ):
            enrollments.setdefault(enrollment.prospect_id, []).append(enrollment)
        for inbound_id, prospect_id, label, received_at in session.exec(
            select(
                InboundMessage.id,
                InboundMessage.prospect_id,
                InboundMessage.label,
                InboundMessage.received_at,
            )
            .where(
                col(InboundMessage.prospect_id).in_(chunk),
                InboundMessage.status != InboundStatus.IGNORED,
                sa.or_(
                    col(InboundMessage.label).is_(None),
                    col(InboundMessage.label).not_in(NOT_A_PERSON),
                ),
            )
            .order_by(col(InboundMessage.id))
        ):
            if prospect_id is not None and inbound_id is not None:
                replies.setdefault(prospect_id, []).append(
                    ReplyFact(inbound_id, label, received_at)
                )
    enrollment_ids = [e.id for held in enrollments.values() for e in held if e.id is not None]
    for chunk in _chunks(enrollment_ids):
        # The reply actions tie the `enrolled` event of an enrollment they made to the reply.
        for enrollment_id, inbound_id in session.exec(
            select(Event.enrollment_id, Event.inbound_id).where(
                Event.kind == EventKind.ENROLLED,
                col(Event.enrollment_id).in_(chunk),
                col(Event.inbound_id).is_not(None),
                col(Event.undone_at).is_(None),
            )
        ):
            if enrollment_id is not None and inbound_id is not None:
                started_by[enrollment_id] = inbound_id
    facts = {}
    for prospect in people:
        assert prospect.id is not None
        account = accounts.get(prospect.account_id) if prospect.account_id else None
        facts[prospect.id] = ContactFacts(
            email=prospect.email,
            suppression=suppressed.get(prospect.email.strip().lower()),
            address_invalid=prospect.email_status == EmailStatus.INVALID,
            account=_account_fact(account, red_flags) if account is not None else None,
            enrollments=tuple(
                _enrollment_fact(e, started_by.get(e.id or 0))
                for e in enrollments.get(prospect.id, [])
            ),
            replies=tuple(replies.get(prospect.id, [])),
        )
    return facts


def _account_fact(account: Account, red_flags: RedFlags | None) -> AccountFact:
    flagged = None
    if red_flags is not None and account.status == AccountStatus.PROSPECTING:
        found = red_flag(account.domain, account.country, red_flags)
        if found is not None:
            flagged = f"{found[0].value}: {found[1]}"
    return AccountFact(
        account.domain, account.status, account.status_reason, account.paused, flagged
    )


def _enrollment_fact(enrollment: Enrollment, started_by_reply: int | None) -> EnrollmentFact:
    return EnrollmentFact(
        id=enrollment.id or 0,
        cadence=enrollment.cadence,
        status=enrollment.status,
        stop_reason=enrollment.stop_reason,
        next_due_at=enrollment.next_due_at,
        started_at=enrollment.started_at,
        steps_sent=enrollment.steps_sent,
        started_by_reply=None if enrollment.referrer_id is not None else started_by_reply,
    )


def _chunks(values: Iterable[int]) -> Iterable[Sequence[int]]:
    listed = list(values)
    for start in range(0, len(listed), _CHUNK):
        yield listed[start : start + _CHUNK]
