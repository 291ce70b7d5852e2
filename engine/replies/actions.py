"""What Spear does about a classified reply, recorded so that it can be undone and done again.

Three entry points, used by intake (automatic) and the review queue (a person):

- `apply_actions(session, inbound_id, settings, now=..., actor=...)` acts on the row's stored
  label and classification. Idempotent: a reply already acted on (and not undone) is left alone.
- `undo_actions(session, inbound_id, now=..., actor=...)` reverses every change those actions
  made, newest first, and marks their events undone.
- `reclassify(session, inbound_id, new_label, settings, now=..., actor=...)` is undo, a new
  label (and optionally new referrals or dates), then apply.

Every change goes through a `ChangeLog` (see `changes.py`) and is stored in an `Event` whose
`inbound_id` is the reply's, so the event log is both the audit trail and the undo record.
Mail and webhooks are not sent from here: a `handoff.email` (data `status: pending`) or
`webhook.pending` event is recorded for the daemon to deliver (`handoff.HandoffSender`,
`engine.service.webhooks`), skipping undone ones, so acting on a reply never waits on the network
and an undone hand-off that has not gone out never goes out.

What is done is decided first, as a plan (`engine.replies.plan.decide`, a pure function of the
label and the facts `reply_context` reads); `_Run` carries the plan out step by step. The review
screen describes the very same plan (`engine.review.explain`), so it says what accepting does.
The rules that end or hold work (stopping enrollments, pruning an address, pausing a mailbox)
live in `engine.prospects.lifecycle`, shared with the dispatcher and the CLI.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, select

from engine.basics.segments import SegmentFilter
from engine.cadences import (
    DEFAULT_ON_REPLY,
    AccountReplyRule,
    Cadence,
    ReplyActionKind,
    pinned_cadence,
)
from engine.classify import DEFAULT_THRESHOLD, Classification, Referral, ReplyLabel
from engine.config import AccountExecutive, Config, HandOff, Replies, Webhook
from engine.errors import NotFoundError, SpearError
from engine.prospects.addresses import normalise_email
from engine.prospects.contact_state import EnrolPath
from engine.prospects.enrollment import enroll, plan_enrollment
from engine.prospects.lifecycle import (
    mailbox_state,
    open_enrollments,
    pause_mailbox,
    prune_address,
    stop_enrollment,
)
from engine.prospects.pauses import account_pause_reason
from engine.prospects.suppression import add_suppression
from engine.replies.ownership import not_ours, referral_risk
from engine.replies.plan import (
    CountSoftBounce,
    EngageAccount,
    EnrolReplier,
    HandOffAccount,
    MailboxBlock,
    Notify,
    Postpone,
    PruneAddress,
    Refer,
    ReplyContext,
    Review,
    Step,
    StopEnrollments,
    Suppress,
    decide,
)
from engine.replies.routing import (
    choose_executive,
    hand_off_account,
    handed_off_data,
    handoff_email_data,
)
from engine.replies.stored import from_record, stored_request
from engine.store.changes import UNDO_KEY, ChangeLog, revert
from engine.store.events import UNDO_RECORDS, EventKind, WebhookEvent
from engine.store.models import (
    Account,
    AccountStatus,
    Enrollment,
    EnrollmentStatus,
    Event,
    InboundMessage,
    InboundStatus,
    OutboundMessage,
    OutboundStatus,
    PauseCause,
    Prospect,
    StopCause,
    SuppressionSource,
)
from engine.store.payloads import BlockBounce, ReplyApplied, SoftBounce, WebhookRequest, read

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "spear"


class ActionError(SpearError):
    """An action cannot be applied as asked (an unknown reply, a label that does not exist)."""


@dataclass
class ReplySettings:
    """What the actions need from the configuration, plus the loaded cadences by name."""

    threshold: float = DEFAULT_THRESHOLD
    replies: Replies = field(default_factory=Replies)
    webhooks: Sequence[Webhook] = ()
    cadences: Mapping[str, Cadence] = field(default_factory=dict)
    # A separate List-Unsubscribe mailto address (None: each sending mailbox's own).
    unsubscribe_address: str | None = None
    hand_off: HandOff = field(default_factory=HandOff)  # the executives and how leads route
    segments: Mapping[str, SegmentFilter] = field(default_factory=dict)
    # Pinned cadences rebuilt from the database, by (name, version): parsing is not free.
    _pinned: dict[tuple[str, str], Cadence | None] = field(default_factory=dict, repr=False)

    @classmethod
    def from_config(cls, config: Config, cadences: Mapping[str, Cadence]) -> ReplySettings:
        return cls(
            threshold=config.review_threshold,
            replies=config.replies,
            webhooks=tuple(config.webhooks),
            cadences=cadences,
            unsubscribe_address=config.unsubscribe.mailto,
            hand_off=config.hand_off,
            segments=config.segments,
        )

    def cadence_of(self, session: Session, enrollment: Enrollment) -> Cadence | None:
        """The cadence an enrollment runs: its pinned version, else the loaded one of that name."""
        key = (enrollment.cadence, enrollment.cadence_version)
        if key not in self._pinned:
            try:
                self._pinned[key] = pinned_cadence(session, *key)
            except NotFoundError:
                self._pinned[key] = self.cadences.get(enrollment.cadence)
        return self._pinned[key]


@dataclass(frozen=True)
class ActionResult:
    inbound_id: int
    status: InboundStatus
    review_reasons: tuple[str, ...]
    events: tuple[int, ...]  # ids of the events recorded by this call
    already_applied: bool = False
    plan: tuple[Step, ...] = ()  # the steps taken (none when already applied)


# --- the three entry points ---------------------------------------------------------------------


def apply_actions(
    session: Session,
    inbound_id: int,
    settings: ReplySettings,
    *,
    now: datetime,
    actor: str = SYSTEM_ACTOR,
) -> ActionResult:
    """Act on the reply's stored label; a second call before `undo_actions` changes nothing.

    Sets the row's status: APPLIED when everything was decided automatically, REVIEW (with
    `review_reason`) when a person must look, REVIEWED when `actor` is a person.
    """
    inbound = _inbound(session, inbound_id)
    if _live_events(session, inbound_id, EventKind.REPLY_APPLIED):
        return ActionResult(
            inbound_id,
            inbound.status,
            _reasons(inbound.review_reason),
            (),
            already_applied=True,
        )
    run = _Run(session, inbound, settings, now, actor)
    run.act()
    reasons = tuple(dict.fromkeys(run.review))
    if actor != SYSTEM_ACTOR:
        inbound.status, inbound.review_reason = InboundStatus.REVIEWED, None
    elif reasons:
        inbound.status, inbound.review_reason = InboundStatus.REVIEW, "; ".join(reasons)
    else:
        inbound.status, inbound.review_reason = InboundStatus.APPLIED, None
    steps = [step.kind.value for step in run.plan]
    applied: ReplyApplied = {"label": inbound.label, "review": list(reasons), "steps": steps}
    run.record(EventKind.REPLY_APPLIED, None, data=applied)
    session.add(inbound)
    session.flush()
    log.info(
        "reply actions applied inbound=%s label=%s status=%s events=%d actor=%s",
        inbound_id,
        inbound.label,
        inbound.status,
        len(run.events),
        actor,
    )
    return ActionResult(inbound_id, inbound.status, reasons, tuple(run.events), plan=run.plan)


def undo_actions(
    session: Session, inbound_id: int, *, now: datetime, actor: str = SYSTEM_ACTOR
) -> list[int]:
    """Reverse what `apply_actions` did for this reply; returns the ids of the events undone.

    The row goes back to REVIEW ("actions undone"), waiting for a new label or `apply_actions`.
    A hand-off email already delivered cannot be recalled: its event says so in `undo_note`.
    """
    inbound = _inbound(session, inbound_id)
    events = session.exec(
        select(Event)
        .where(Event.inbound_id == inbound_id, col(Event.undone_at).is_(None))
        .where(col(Event.kind).not_in(UNDO_RECORDS))
        .order_by(col(Event.id).desc())
    ).all()
    undone: list[int] = []
    for event in events:
        done: list[dict[str, Any]] = []
        notes = revert(session, event.data, done)
        if event.kind == EventKind.HANDOFF_EMAIL and event.data.get("status") == "sent":
            notes.append("the hand-off email was already sent")
        event.undone_at = now
        # What the undo did, for `changes.redo` (a review decision undone puts it back).
        event.data = {**event.data, UNDO_KEY: done}
        if notes:
            event.data = {**event.data, "undo_note": notes}
        session.add(event)
        assert event.id is not None
        undone.append(event.id)
    if undone:
        inbound.status, inbound.review_reason = InboundStatus.REVIEW, f"actions undone by {actor}"
        session.add(inbound)
        session.add(
            Event(
                at=now,
                kind=EventKind.UNDO_REPLY,
                actor=actor,
                prospect_id=inbound.prospect_id,
                inbound_id=inbound_id,
                data={"events": undone},
            )
        )
    session.flush()
    log.info("reply actions undone inbound=%s events=%d actor=%s", inbound_id, len(undone), actor)
    return undone


def reclassify(
    session: Session,
    inbound_id: int,
    new_label: ReplyLabel | str,
    settings: ReplySettings,
    *,
    now: datetime,
    actor: str,
    referrals: Sequence[Referral] | None = None,
    resume_after: date | None = None,
    return_date: date | None = None,
) -> ActionResult:
    """A person's decision: undo what was done, relabel (optionally with corrected details), redo.

    `referrals`, `resume_after` and `return_date` replace the classifier's when given (for a
    referral without an address, a not-now without a date...). The old and new labels are kept
    in a `reply.reclassified` event.
    """
    try:
        label = ReplyLabel(new_label)
    except ValueError:
        raise ActionError(f"unknown label {new_label!r}") from None
    inbound = _inbound(session, inbound_id)
    undo_actions(session, inbound_id, now=now, actor=actor)
    old_label = inbound.label
    record = dict(inbound.classification)
    if referrals is not None:
        record["referrals"] = [{"email": r.email, "name": r.name} for r in referrals]
    if resume_after is not None:
        record["resume_after"] = resume_after.isoformat()
    if return_date is not None:
        record["return_date"] = return_date.isoformat()
    record["label"] = str(label)
    inbound.label, inbound.confidence, inbound.classification = str(label), 1.0, record
    session.add(inbound)
    session.add(
        Event(
            at=now,
            kind=EventKind.REPLY_RECLASSIFIED,
            actor=actor,
            prospect_id=inbound.prospect_id,
            inbound_id=inbound_id,
            data={"old_label": old_label, "new_label": str(label)},
        )
    )
    session.flush()
    return apply_actions(session, inbound_id, settings, now=now, actor=actor)


# --- the context of a decision ------------------------------------------------------------------


def reply_context(
    session: Session,
    inbound: InboundMessage,
    classification: Classification,
    settings: ReplySettings,
    *,
    checked_at: datetime | None,
) -> ReplyContext:
    """What `decide` needs to know about the stored reply, read from the database.

    With `checked_at`, the reply is acted on automatically: whether it is provably about our mail
    is checked as of then. Without, a person decides, and their decision is followed as it is.
    """
    by_person = checked_at is None
    prospect = session.get(Prospect, inbound.prospect_id) if inbound.prospect_id else None
    label = classification.label
    enrollment = _answered_enrollment(session, inbound)
    cadence = settings.cadence_of(session, enrollment) if enrollment is not None else None
    rule = cadence.reply_action(label) if cadence is not None else DEFAULT_ON_REPLY[label]
    webhook = _subscribed(settings, label)
    if prospect is None:
        return ReplyContext(rule=rule, prospect=None, by_person=by_person, webhook=webhook)
    account = session.get(Account, prospect.account_id) if prospect.account_id else None
    request = stored_request(inbound.classification)
    sender = normalise_email(inbound.from_address or "") or None
    unproven = risk = None
    if checked_at is not None:
        unproven = not_ours(
            session,
            inbound,
            prospect,
            bounce=label is ReplyLabel.BOUNCE,
            now=checked_at,
            window_days=settings.replies.sent_window_days,
        )
        addresses = sorted({r.email.lower() for r in classification.referrals if r.email})
        if label is ReplyLabel.REFERRAL and addresses:
            risk = referral_risk(session, inbound, prospect, addresses)
    executive = None
    if rule.action is ReplyActionKind.HAND_OFF and label is not ReplyLabel.REFERRAL:
        executive = choose_executive(
            session, settings.hand_off, settings.segments, prospect, account
        )
    return ReplyContext(
        rule=rule,
        prospect=prospect.email,
        account=(account.name or account.domain) if account is not None else None,
        by_person=by_person,
        unproven=str(unproven) if unproven is not None else None,
        referral_risk=risk,
        request=request,
        sender=sender,
        sender_was_mailed=request is not None
        and sender == prospect.email
        and _was_mailed(session, prospect),
        executive=executive,
        cadences=frozenset(settings.cadences),
        webhook=webhook,
        auto_reply_delay_days=settings.replies.auto_reply_delay_days,
    )


def _answered_enrollment(session: Session, inbound: InboundMessage) -> Enrollment | None:
    """The enrollment the reply answers (or the prospect's latest one)."""
    outbound = session.get(OutboundMessage, inbound.outbound_id) if inbound.outbound_id else None
    if outbound is not None:
        return session.get(Enrollment, outbound.enrollment_id)
    if inbound.prospect_id is None:
        return None
    return session.exec(
        select(Enrollment)
        .where(Enrollment.prospect_id == inbound.prospect_id)
        .order_by(col(Enrollment.id).desc())
    ).first()


def _subscribed(settings: ReplySettings, label: ReplyLabel) -> WebhookEvent | None:
    """The webhook event of the label, when a configured webhook subscribes to it."""
    if str(label) not in {str(event) for event in WebhookEvent}:
        return None
    event = WebhookEvent(str(label))
    return event if any(event in w.events for w in settings.webhooks) else None


def _was_mailed(session: Session, prospect: Prospect) -> bool:
    return (
        session.exec(
            select(OutboundMessage.id).where(
                OutboundMessage.prospect_id == prospect.id,
                col(OutboundMessage.status).in_((OutboundStatus.SENT, OutboundStatus.UNCERTAIN)),
            )
        ).first()
        is not None
    )


# --- the executor -------------------------------------------------------------------------------


class _Run:
    """Carries out one reply's plan, step by step; collects events and reasons for review."""

    def __init__(
        self,
        session: Session,
        inbound: InboundMessage,
        settings: ReplySettings,
        now: datetime,
        actor: str,
    ) -> None:
        self.session = session
        self.inbound = inbound
        self.settings = settings
        self.now = now
        self.actor = actor
        self.classification: Classification = from_record(inbound.classification, inbound.label)
        self.label = self.classification.label
        self.review: list[str] = []
        self.events: list[int] = []
        self.prospect = (
            session.get(Prospect, inbound.prospect_id) if inbound.prospect_id is not None else None
        )
        self.context = reply_context(
            session,
            inbound,
            self.classification,
            settings,
            checked_at=now if actor == SYSTEM_ACTOR else None,
        )
        self.plan = decide(self.classification, self.context)

    def act(self) -> None:
        for step in self.plan:
            self.take(step)

    def take(self, step: Step) -> None:
        if isinstance(step, Review):
            self.review.append(step.reason)
            return
        prospect = self.prospect
        assert prospect is not None  # `decide` plans nothing but a review for an unmatched reply
        match step:
            case StopEnrollments(cause=cause, reason=reason):
                self.stop_enrollments(prospect, cause, reason)
            case Suppress(reason=reason, source=source):
                self.suppress(prospect.email, reason, source)
            case PruneAddress(reason=reason):
                self.invalidate(prospect, reason)
            case CountSoftBounce(reason=reason):
                self.soft_bounce(prospect, reason)
            case MailboxBlock(reason=reason):
                self.mailbox_block(reason)
            case Postpone(returns=returns, days=days):
                self.postpone(prospect, returns, days)
            case HandOffAccount(executive=executive):
                self.hand_off(prospect, executive)
            case EnrolReplier(cadence=name, start=start):
                self.enrol(self.settings.cadences[name], prospect, start=self.day(start))
            case Refer(referral=referral, cadence=name):
                person = self.referred_prospect(prospect, referral)
                if name is not None:
                    cadence = self.settings.cadences[name]
                    self.enrol(cadence, person, start=self.now, referrer=prospect)
            case EngageAccount(spare=spare):
                self.engage_account(prospect, spare)
            case Notify(event=event):
                self.notify(event)

    def day(self, start: date | None) -> datetime:
        return datetime.combine(start, time(), tzinfo=self.now.tzinfo) if start else self.now

    # -- recording ------------------------------------------------------------------------

    def changes(self) -> ChangeLog:
        return ChangeLog(self.session)

    def record(
        self,
        kind: EventKind,
        changes: ChangeLog | None,
        *,
        enrollment_id: int | None = None,
        data: Mapping[str, Any] | None = None,
        prospect_id: int | None = None,
    ) -> None:
        """Store one event; an action whose change log is empty changed nothing: no event."""
        if changes is not None and changes.empty:
            return
        event = Event(
            at=self.now,
            kind=kind,
            actor=self.actor,
            prospect_id=prospect_id if prospect_id is not None else self.inbound.prospect_id,
            enrollment_id=enrollment_id,
            outbound_id=self.inbound.outbound_id,
            inbound_id=self.inbound.id,
            data={**(data or {}), **(changes.as_data() if changes is not None else {})},
        )
        self.session.add(event)
        self.session.flush()
        assert event.id is not None
        self.events.append(event.id)

    # -- the steps ------------------------------------------------------------------------

    def stop_enrollments(self, prospect: Prospect, cause: StopCause, reason: str) -> None:
        for enrollment in open_enrollments(self.session, prospect.id):
            changes = self.changes()
            stop_enrollment(enrollment, cause, reason, self.now, changes)
            self.record(EventKind.ENROLLMENT_STOPPED, changes, enrollment_id=enrollment.id)

    def engage_account(self, prospect: Prospect, referred: frozenset[str]) -> None:
        """Someone at the account answered: colleagues wait, except the people referred to."""
        account = self.session.get(Account, prospect.account_id) if prospect.account_id else None
        if account is None:
            return
        changes = self.changes()
        if account.status == AccountStatus.PROSPECTING:
            changes.set(account, "status", AccountStatus.ENGAGED)
        colleagues = self.session.exec(
            select(Prospect).where(Prospect.account_id == account.id, Prospect.id != prospect.id)
        ).all()
        paused_any = False
        for colleague in colleagues:
            if colleague.email in referred:
                continue
            for enrollment in open_enrollments(self.session, colleague.id, only_active=True):
                cadence = self.settings.cadence_of(self.session, enrollment)
                rule = cadence.stop.account_reply if cadence else AccountReplyRule.PAUSE
                if rule is AccountReplyRule.PAUSE:
                    changes.set(enrollment, "status", EnrollmentStatus.PAUSED)
                    # So resuming the account knows this wait is the account's.
                    changes.set(enrollment, "stop_cause", StopCause.ACCOUNT_PAUSED)
                    changes.set(
                        enrollment,
                        "stop_reason",
                        account_pause_reason(f"reply from {prospect.email}"),
                    )
                    paused_any = True
                elif rule is AccountReplyRule.STOP:
                    why = f"colleague replied: {prospect.email}"
                    stop_enrollment(enrollment, StopCause.COLLEAGUE_REPLIED, why, self.now, changes)
        if paused_any:
            changes.set(account, "paused", True)
        self.record(EventKind.ACCOUNT_ENGAGED, changes, data={"account_id": account.id})

    def referred_prospect(self, referrer: Prospect, referral: Referral) -> Prospect:
        assert referral.email is not None
        address = referral.email.lower()
        existing = self.session.exec(select(Prospect).where(Prospect.email == address)).first()
        changes = self.changes()
        if existing is not None:
            if existing.referred_by_id is None:
                changes.set(existing, "referred_by_id", referrer.id)
            self.record(EventKind.PROSPECT_REFERRED, changes, prospect_id=existing.id)
            return existing
        first, _, last = (referral.name or "").partition(" ")
        person = Prospect(
            email=address,
            first_name=first,
            last_name=last,
            account_id=self.account_for(address, referrer),
            timezone=referrer.timezone,
            country=referrer.country,
            referred_by_id=referrer.id,
            created_at=self.now,
            updated_at=self.now,
        )
        changes.add(person)
        self.record(
            EventKind.PROSPECT_REFERRED,
            changes,
            prospect_id=person.id,
            data={"referrer": referrer.id},
        )
        return person

    def account_for(self, address: str, referrer: Prospect) -> int | None:
        """The account the address's domain names, else the referrer's."""
        domain = address.rsplit("@", 1)[-1]
        account = self.session.exec(select(Account).where(Account.domain == domain)).first()
        return account.id if account is not None else referrer.account_id

    def enrol(
        self,
        cadence: Cadence,
        prospect: Prospect,
        *,
        start: datetime,
        referrer: Prospect | None = None,
    ) -> None:
        changes = self.changes()
        # A referred person is enrolled because of the referrer's reply; the replier because of
        # their own (not-now -> nurture). Either way the contact state has the last word.
        path = EnrolPath.REFERRAL if referrer is not None else EnrolPath.REPLY
        enrolled = enroll(
            self.session,
            cadence,
            [prospect],
            now=self.now,
            start=start,
            referrer=referrer,
            path=path,
        )
        if not enrolled:
            plan = plan_enrollment(self.session, cadence, [prospect], self.now, path=path)
            reason = plan.excluded
            why = reason[0].detail if reason else "not allowed"
            self.review.append(f"{prospect.email} not enrolled in {cadence.name}: {why}")
            return
        for enrollment in enrolled:
            changes.created_row(enrollment)
        self.adopt_enrolled_events([e.id for e in enrolled if e.id is not None])
        data = {"cadence": cadence.name, "start": start.isoformat()}
        self.record(EventKind.ENROLLMENT_CREATED, changes, prospect_id=prospect.id, data=data)

    def adopt_enrolled_events(self, enrollment_ids: list[int]) -> None:
        """Tie the prospects module's `enrolled` events to this reply, so undo marks them too."""
        for event in self.session.exec(
            select(Event).where(
                Event.kind == EventKind.ENROLLED, col(Event.enrollment_id).in_(enrollment_ids)
            )
        ).all():
            event.inbound_id = self.inbound.id
            self.session.add(event)

    def hand_off(self, prospect: Prospect, executive: AccountExecutive | None) -> None:
        account = self.session.get(Account, prospect.account_id) if prospect.account_id else None
        changes = self.changes()
        if account is not None:
            hand_off_account(
                changes, account, executive, f"interest from {prospect.email}", self.now
            )
        interest_at = self.inbound.received_at or self.now
        self.record(
            EventKind.ACCOUNT_HANDED_OFF,
            changes,
            data=handed_off_data(account, executive, interest_at),
        )
        if executive is None:
            return  # the plan has a person look
        mailbox = self.settings.hand_off.from_mailbox or self.inbound.mailbox
        data = handoff_email_data(
            prospect, account, executive, mailbox, self.classification.reply_text
        )
        self.record(EventKind.HANDOFF_EMAIL, None, data=data)

    def suppress(
        self, address: str, reason: str, source: SuppressionSource = SuppressionSource.REPLY
    ) -> None:
        entry, new = add_suppression(
            self.session, address, now=self.now, reason=reason, source=source
        )
        if not new:
            return
        changes = self.changes()
        changes.created_row(entry)
        self.record(EventKind.SUPPRESSED, changes, data={"address": address, "reason": reason})

    def notify(self, event: WebhookEvent) -> None:
        """One event per reply that a webhook subscribes to; the sender posts it to each."""
        pending: WebhookRequest = {
            "event": event,
            "payload": {
                "inbound_id": self.inbound.id,
                "prospect": self.prospect.email if self.prospect else None,
                "classification": self.inbound.classification,
                "at": self.now.isoformat(),
            },
        }
        self.record(EventKind.WEBHOOK_PENDING, None, data=dict(pending))

    # -- bounces --------------------------------------------------------------------------

    def invalidate(self, prospect: Prospect, reason: str) -> None:
        changes = self.changes()
        prune_address(self.session, prospect, reason, self.now, changes=changes)
        self.record(EventKind.PROSPECT_INVALID, changes, data={"reason": reason})

    def soft_bounce(self, prospect: Prospect, reason: str) -> None:
        changes = self.changes()
        changes.set(prospect, "soft_bounces", prospect.soft_bounces + 1)
        soft: SoftBounce = {"reason": reason}
        self.record(EventKind.BOUNCE_SOFT, changes, data=soft)
        window = self.settings.replies.soft_bounce_window_days
        since = self.now - timedelta(days=window)
        count = len(
            self.session.exec(
                select(Event.id).where(
                    Event.kind == EventKind.BOUNCE_SOFT,
                    Event.prospect_id == prospect.id,
                    col(Event.undone_at).is_(None),
                    col(Event.at) >= since,
                )
            ).all()
        )
        if count >= self.settings.replies.soft_bounce_limit:
            self.invalidate(prospect, f"{count} soft bounces in {window} days")

    def mailbox_block(self, reason: str) -> None:
        """A policy or spam refusal: the sender's reputation is at stake, not the address."""
        outbound = (
            self.session.get(OutboundMessage, self.inbound.outbound_id)
            if self.inbound.outbound_id is not None
            else None
        )
        mailbox = outbound.mailbox if outbound is not None else self.inbound.mailbox
        block: BlockBounce = {"mailbox": mailbox, "reason": reason}
        self.record(EventKind.BOUNCE_BLOCK, None, data=block)
        since = self.now - timedelta(days=self.settings.replies.soft_bounce_window_days)
        blocks = [
            e
            for e in self.session.exec(
                select(Event).where(
                    Event.kind == EventKind.BOUNCE_BLOCK,
                    col(Event.undone_at).is_(None),
                    col(Event.at) >= since,
                )
            ).all()
            if read(e, BlockBounce)["mailbox"] == mailbox
        ]
        sent = len(
            self.session.exec(
                select(OutboundMessage.id).where(
                    OutboundMessage.mailbox == mailbox,
                    OutboundMessage.status == OutboundStatus.SENT,
                    col(OutboundMessage.sent_at) >= since,
                )
            ).all()
        )
        rate = len(blocks) / max(sent, len(blocks))
        changes = self.changes()
        state = mailbox_state(self.session, mailbox, self.now, changes=changes)
        alarm = f"{len(blocks)} policy/spam blocks in {len(blocks) + sent} sends ({rate:.1%})"
        changes.set(state, "alarm", alarm)
        # One block in a handful of sends is over any rate: it takes a few to be a pattern.
        if (
            rate > self.settings.replies.block_alarm_rate
            and len(blocks) >= self.settings.replies.block_alarm_min_count
        ):
            why = f"block rate {rate:.1%}: {reason}"
            pause_mailbox(
                self.session, mailbox, PauseCause.BLOCK_RATE, why, self.now, changes=changes
            )
        changes.set(state, "updated_at", self.now)
        self.record(EventKind.MAILBOX_ALARM, changes, data={"mailbox": mailbox, "rate": rate})
        log.warning("mailbox alarm mailbox=%s reason=%s rate=%.3f", mailbox, reason, rate)

    # -- auto-replies ---------------------------------------------------------------------

    def postpone(self, prospect: Prospect, returns: date | None, days: int) -> None:
        if returns is not None:
            resume = datetime.combine(returns + timedelta(days=1), time(), tzinfo=self.now.tzinfo)
        else:
            resume = self.now + timedelta(days=days)
        for enrollment in open_enrollments(self.session, prospect.id, only_active=True):
            due = enrollment.next_due_at
            if due is not None and due >= resume:
                continue
            changes = self.changes()
            changes.set(enrollment, "next_due_at", resume)
            changes.set(enrollment, "updated_at", self.now)
            self.record(
                EventKind.ENROLLMENT_POSTPONED,
                changes,
                enrollment_id=enrollment.id,
                data={"until": resume.isoformat()},
            )


# --- helpers ------------------------------------------------------------------------------------


def _inbound(session: Session, inbound_id: int) -> InboundMessage:
    inbound = session.get(InboundMessage, inbound_id)
    if inbound is None:
        raise NotFoundError(f"no inbound message {inbound_id}")
    return inbound


def _live_events(session: Session, inbound_id: int, kind: EventKind) -> Sequence[Event]:
    return session.exec(
        select(Event).where(
            Event.inbound_id == inbound_id, Event.kind == kind, col(Event.undone_at).is_(None)
        )
    ).all()


def _reasons(text: str | None) -> tuple[str, ...]:
    return tuple(text.split("; ")) if text else ()


__all__ = [
    "SYSTEM_ACTOR",
    "ActionError",
    "ActionResult",
    "ReplySettings",
    "apply_actions",
    "reclassify",
    "undo_actions",
]
