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

The play's rules, label by label:

- any human reply (everything but bounces and auto-replies, unclear ones included) stops all of
  that prospect's enrollments at once, and pauses colleagues at the account (per the cadence's
  `stop.account_reply`), except the people the reply refers us to;
- only our own mail acts (`ownership`): a bounce or reply that names no message Spear sent and
  no address its mailbox wrote to lately goes to review and changes nothing, and so do the
  referred people of a referral that is not a thread reply to us, names free-mail or other
  domains, or more than three people;
- bounce: hard (or N soft within the window) marks the address invalid, suppresses it and stops
  its enrollments; a policy or spam block raises an alarm on the sending mailbox and pauses it
  once its block rate passes `replies.block_alarm_rate` with at least
  `replies.block_alarm_min_count` blocks (a content-filter refusal is about one address: a soft
  bounce);
- auto-reply: the next step waits until the day after the return date (or the configured delay);
  an alternate contact it names goes to the review queue;
- then the cadence's `on_reply` rule for the label: enrol (the referred people for a referral,
  the replier otherwise, at the resume date when asked), hand off, stop, suppress, or review;
- an unsubscribe request sent to the List-Unsubscribe mailto (see `engine.unsubscribe.requests`)
  suppresses and stops whatever the cadence says, but only when it comes from the very address
  Spear mailed; anything else waits for a person.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, select

from engine.cadences import (
    DEFAULT_ON_REPLY,
    AccountReplyRule,
    Cadence,
    ReplyAction,
    ReplyActionKind,
    pinned_cadence,
)
from engine.classify import DEFAULT_THRESHOLD, BounceKind, Classification, Referral, ReplyLabel
from engine.config import Config, HandOff, Replies, Webhook, WebhookEvent
from engine.errors import NotFoundError, SpearError
from engine.lifecycle import (
    mailbox_state,
    open_enrollments,
    pause_mailbox,
    prune_address,
    stop_enrollment,
)
from engine.prospects.addresses import normalise_email
from engine.prospects.contact_state import EnrolPath
from engine.prospects.enrollment import enroll, plan_enrollment
from engine.prospects.segments import SegmentFilter
from engine.prospects.suppression import add_suppression
from engine.replies.changes import UNDO_KEY, ChangeLog, revert
from engine.replies.ownership import not_ours, referral_risk
from engine.replies.routing import (
    HANDED_OFF_EVENT,
    choose_executive,
    hand_off_account,
    handed_off_data,
    handoff_email_data,
)
from engine.replies.stored import from_record, stored_request
from engine.sending.pauses import account_pause_reason
from engine.service.webhooks import PENDING as WEBHOOK_PENDING
from engine.service.webhooks import PendingWebhook
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

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "spear"
APPLIED_EVENT = "reply.applied"  # one per application: the idempotence marker
# Soft bounces that say nothing about the address: the sending mailbox is being refused.
# Not "content filter": the classifier gives it to a "user unknown" refused after DATA or by a
# filtering gateway, which is about that one address (a soft bounce that counts toward the limit).
BLOCK_REASONS = frozenset({"spam block", "policy"})
HUMAN_LABELS = frozenset(ReplyLabel) - {ReplyLabel.BOUNCE, ReplyLabel.AUTO_REPLY}


class ActionError(SpearError):
    """An action cannot be applied as asked (an unknown reply, a label that does not exist)."""


@dataclass
class ReplySettings:
    """What the actions need from the configuration, plus the loaded cadences by name."""

    threshold: float = DEFAULT_THRESHOLD
    replies: Replies = field(default_factory=Replies)
    account_executive: str | None = None
    hand_off_mailbox: str | None = None
    webhooks: Sequence[Webhook] = ()
    cadences: Mapping[str, Cadence] = field(default_factory=dict)
    # A separate List-Unsubscribe mailto address (None: each sending mailbox's own).
    unsubscribe_address: str | None = None
    hand_off: HandOff = field(default_factory=HandOff)  # the executives and how leads route
    segments: Mapping[str, SegmentFilter] = field(default_factory=dict)
    # Pinned cadences rebuilt from the database, by (name, version): parsing is not free.
    _pinned: dict[tuple[str, str], Cadence | None] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.account_executive and not self.hand_off.executives:
            self.hand_off = self.hand_off.model_copy(
                update={"account_executive": self.account_executive}
            )

    @classmethod
    def from_config(cls, config: Config, cadences: Mapping[str, Cadence]) -> ReplySettings:
        return cls(
            threshold=config.review_threshold,
            replies=config.replies,
            account_executive=config.hand_off.account_executive,
            hand_off_mailbox=config.hand_off.from_mailbox,
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
    if _live_events(session, inbound_id, APPLIED_EVENT):
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
    run.record(APPLIED_EVENT, None, data={"label": inbound.label, "review": list(reasons)})
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
    return ActionResult(inbound_id, inbound.status, reasons, tuple(run.events))


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
        .where(col(Event.kind).not_like("undo%"))
        .order_by(col(Event.id).desc())
    ).all()
    undone: list[int] = []
    for event in events:
        done: list[dict[str, Any]] = []
        notes = revert(session, event.data, done)
        if event.kind == HANDOFF_EVENT and event.data.get("status") == "sent":
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
                kind="undo.reply",
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
            kind="reply.reclassified",
            actor=actor,
            prospect_id=inbound.prospect_id,
            inbound_id=inbound_id,
            data={"old_label": old_label, "new_label": str(label)},
        )
    )
    session.flush()
    return apply_actions(session, inbound_id, settings, now=now, actor=actor)


# --- one application --------------------------------------------------------------------------

HANDOFF_EVENT = "handoff.email"


class _Run:
    """The actions for one reply, in order; collects events and reasons for review."""

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
        self.request = stored_request(inbound.classification)
        self.review: list[str] = []
        self.events: list[int] = []
        self.prospect = (
            session.get(Prospect, inbound.prospect_id) if inbound.prospect_id is not None else None
        )

    def act(self) -> None:
        if self.classification.error:
            self.review.append(f"error: {self.classification.error}")
        if self.prospect is None:
            self.review.append("unmatched: no outbound message or prospect found")
            return
        if (
            self.request is not None
            and self.label is ReplyLabel.UNSUBSCRIBE
            and self.actor == SYSTEM_ACTOR  # a person's decision is followed as it is
        ):
            # A request to the List-Unsubscribe mailto has its own checks (unsubscribe_request).
            self.unsubscribe_request(self.prospect, self.request)
            self.webhooks()
            return
        if self.actor == SYSTEM_ACTOR:
            unproven = not_ours(
                self.session,
                self.inbound,
                self.prospect,
                bounce=self.label is ReplyLabel.BOUNCE,
                now=self.now,
                window_days=self.settings.replies.sent_window_days,
            )
            if unproven is not None:
                # Anyone can forge a From or a delivery report: a person decides.
                self.review.append(f"{unproven}: no message of ours to {self.prospect.email}")
                return
        if self.label is ReplyLabel.BOUNCE:
            self.bounce(self.prospect)
        elif self.label is ReplyLabel.AUTO_REPLY:
            self.auto_reply(self.prospect)
        else:
            self.human_reply(self.prospect)
        self.webhooks()

    # -- recording ------------------------------------------------------------------------

    def changes(self) -> ChangeLog:
        return ChangeLog(self.session)

    def record(
        self,
        kind: str,
        changes: ChangeLog | None,
        *,
        enrollment_id: int | None = None,
        data: dict[str, Any] | None = None,
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

    # -- human replies --------------------------------------------------------------------

    def human_reply(self, prospect: Prospect) -> None:
        if self.label is ReplyLabel.UNCLEAR:
            guess = self.classification.best_guess
            self.review.append(
                f"unclear (best guess {guess or 'none'}, "
                f"confidence {self.classification.confidence:.2f})"
            )
            if guess in (ReplyLabel.AUTO_REPLY, ReplyLabel.BOUNCE):
                return  # probably not a person writing: leave the cadence to the reviewer
        self.stop_enrollments(prospect, StopCause.REPLIED, f"replied: {self.label}")
        if self.classification.complaint:
            self.suppress(prospect.email, "complaint", SuppressionSource.COMPLAINT)
        if self.label is not ReplyLabel.UNCLEAR:
            # Before colleagues pause: re-enrolling the replier (not-now -> nurture) must not find
            # the account paused by their own reply. Referred people need no such care: enrolment
            # exempts them from the pause and from one-per-account.
            self.follow_rule(prospect, self.rule_for(prospect))
        self.engage_account(prospect, self.referred_addresses())

    def rule_for(self, prospect: Prospect) -> ReplyAction:
        """The `on_reply` rule of the cadence the reply answers (or the prospect's latest one)."""
        enrollment = self.replied_enrollment(prospect)
        cadence = self.settings.cadence_of(self.session, enrollment) if enrollment else None
        if cadence is None:
            return DEFAULT_ON_REPLY[self.label]
        return cadence.reply_action(self.label)

    def replied_enrollment(self, prospect: Prospect) -> Enrollment | None:
        outbound = (
            self.session.get(OutboundMessage, self.inbound.outbound_id)
            if self.inbound.outbound_id is not None
            else None
        )
        if outbound is not None:
            return self.session.get(Enrollment, outbound.enrollment_id)
        return self.session.exec(
            select(Enrollment)
            .where(Enrollment.prospect_id == prospect.id)
            .order_by(col(Enrollment.id).desc())
        ).first()

    def follow_rule(self, prospect: Prospect, rule: ReplyAction) -> None:
        kind = rule.action
        if self.label is ReplyLabel.REFERRAL:
            self.referral(prospect, rule)
        elif kind is ReplyActionKind.HAND_OFF:
            self.hand_off(prospect)
        elif kind is ReplyActionKind.SUPPRESS:
            self.suppress(prospect.email, str(self.label))
        elif kind is ReplyActionKind.ENROL:
            self.enrol_replier(prospect, rule)
        elif kind is ReplyActionKind.REVIEW:
            self.review.append(f"{self.label}: the cadence asks for a person to decide")
        elif kind is ReplyActionKind.PAUSE:
            self.review.append(f"{self.label}: the cadence says pause; choose when to resume")
        # STOP: already done, as for every human reply.

    def stop_enrollments(self, prospect: Prospect, cause: StopCause, reason: str) -> None:
        for enrollment in open_enrollments(self.session, prospect.id):
            changes = self.changes()
            stop_enrollment(enrollment, cause, reason, self.now, changes)
            self.record("enrollment.stopped", changes, enrollment_id=enrollment.id)

    def engage_account(self, prospect: Prospect, referred: set[str]) -> None:
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
        self.record("account.engaged", changes, data={"account_id": account.id})

    def referred_addresses(self) -> set[str]:
        if self.label is not ReplyLabel.REFERRAL:
            return set()
        return {r.email.lower() for r in self.classification.referrals if r.email}

    def referral(self, referrer: Prospect, rule: ReplyAction) -> None:
        referrals = self.classification.referrals
        if not any(r.email for r in referrals):
            names = ", ".join(r.name for r in referrals if r.name) or "no name given"
            self.review.append(f"referral without an address ({names})")
            return
        cadence = self.settings.cadences.get(rule.cadence) if rule.cadence else None
        if rule.action is ReplyActionKind.ENROL and cadence is None:
            self.review.append(f"referral: cadence {rule.cadence} is not loaded")
        elif rule.action is not ReplyActionKind.ENROL:
            self.review.append("referral: the cadence names no cadence to enrol the person in")
        if self.actor == SYSTEM_ACTOR:
            addresses = sorted({r.email.lower() for r in referrals if r.email})
            risk = referral_risk(self.session, self.inbound, referrer, addresses)
            if risk is not None:
                # Spear would write to people a stranger named: a person decides.
                self.review.append(f"{risk[0]}: {risk[1]}")
                return
        for referral in referrals:
            if not referral.email:
                self.review.append(f"referral without an address ({referral.name})")
                continue
            person = self.referred_prospect(referrer, referral)
            if cadence is not None:
                self.enrol(cadence, person, start=self.now, referrer=referrer)

    def referred_prospect(self, referrer: Prospect, referral: Referral) -> Prospect:
        assert referral.email is not None
        address = referral.email.lower()
        existing = self.session.exec(select(Prospect).where(Prospect.email == address)).first()
        changes = self.changes()
        if existing is not None:
            if existing.referred_by_id is None:
                changes.set(existing, "referred_by_id", referrer.id)
            self.record("prospect.referred", changes, prospect_id=existing.id)
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
            "prospect.referred", changes, prospect_id=person.id, data={"referrer": referrer.id}
        )
        return person

    def account_for(self, address: str, referrer: Prospect) -> int | None:
        """The account the address's domain names, else the referrer's."""
        domain = address.rsplit("@", 1)[-1]
        account = self.session.exec(select(Account).where(Account.domain == domain)).first()
        return account.id if account is not None else referrer.account_id

    def enrol_replier(self, prospect: Prospect, rule: ReplyAction) -> None:
        cadence = self.settings.cadences.get(rule.cadence or "")
        if cadence is None:
            self.review.append(f"{self.label}: cadence {rule.cadence} is not loaded")
            return
        start = self.now
        if rule.at_resume_date:
            resume = self.classification.resume_after
            if resume is None:
                self.review.append(f"{self.label}: no resume date; choose when to re-enrol")
                return
            start = datetime.combine(resume, time(), tzinfo=self.now.tzinfo)
        self.enrol(cadence, prospect, start=start, referrer=None)

    def enrol(
        self, cadence: Cadence, prospect: Prospect, *, start: datetime, referrer: Prospect | None
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
        self.record("enrollment.created", changes, prospect_id=prospect.id, data=data)

    def adopt_enrolled_events(self, enrollment_ids: list[int]) -> None:
        """Tie the prospects module's `enrolled` events to this reply, so undo marks them too."""
        for event in self.session.exec(
            select(Event).where(
                Event.kind == "enrolled", col(Event.enrollment_id).in_(enrollment_ids)
            )
        ).all():
            event.inbound_id = self.inbound.id
            self.session.add(event)

    def hand_off(self, prospect: Prospect) -> None:
        account = self.session.get(Account, prospect.account_id) if prospect.account_id else None
        executive = choose_executive(
            self.session, self.settings.hand_off, self.settings.segments, prospect, account
        )
        changes = self.changes()
        if account is not None:
            hand_off_account(
                changes, account, executive, f"interest from {prospect.email}", self.now
            )
        interest_at = self.inbound.received_at or self.now
        self.record(
            HANDED_OFF_EVENT, changes, data=handed_off_data(account, executive, interest_at)
        )
        if executive is None:
            self.review.append("interest: no hand_off.account_executive configured")
            return
        mailbox = self.settings.hand_off_mailbox or self.inbound.mailbox
        data = handoff_email_data(
            prospect, account, executive, mailbox, self.classification.reply_text
        )
        self.record(HANDOFF_EVENT, None, data=data)

    def unsubscribe_request(self, prospect: Prospect, source: SuppressionSource) -> None:
        """A request to the mailto: honoured for an address Spear mailed, else a person looks."""
        sender = normalise_email(self.inbound.from_address or "")
        if sender != prospect.email or not self.was_mailed(prospect):
            self.review.append(
                f"unsubscribe request from {sender or 'an unreadable sender'}, "
                f"not an address Spear has mailed"
            )
            return
        self.stop_enrollments(prospect, StopCause.UNSUBSCRIBED, "unsubscribed")
        self.suppress(prospect.email, "unsubscribe request", source)

    def was_mailed(self, prospect: Prospect) -> bool:
        return (
            self.session.exec(
                select(OutboundMessage.id).where(
                    OutboundMessage.prospect_id == prospect.id,
                    col(OutboundMessage.status).in_(
                        (OutboundStatus.SENT, OutboundStatus.UNCERTAIN)
                    ),
                )
            ).first()
            is not None
        )

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
        self.record("suppressed", changes, data={"address": address, "reason": reason})

    def webhooks(self) -> None:
        """One event per reply that a webhook subscribes to; the sender posts it to each."""
        if str(self.label) not in {str(event) for event in WebhookEvent}:
            return
        event = WebhookEvent(str(self.label))
        if not any(event in webhook.events for webhook in self.settings.webhooks):
            return
        pending: PendingWebhook = {
            "event": event,
            "payload": {
                "inbound_id": self.inbound.id,
                "prospect": self.prospect.email if self.prospect else None,
                "classification": self.inbound.classification,
                "at": self.now.isoformat(),
            },
        }
        self.record(WEBHOOK_PENDING, None, data=dict(pending))

    # -- bounces --------------------------------------------------------------------------

    def bounce(self, prospect: Prospect) -> None:
        bounce = self.classification.bounce
        if bounce is None:
            self.review.append("bounce without a delivery report")
            return
        if bounce.kind is BounceKind.HARD:
            self.invalidate(prospect, f"hard bounce: {bounce.reason}")
        elif bounce.reason in BLOCK_REASONS:
            self.mailbox_block(bounce.reason)
        else:
            self.soft_bounce(prospect, bounce.reason)

    def invalidate(self, prospect: Prospect, reason: str) -> None:
        changes = self.changes()
        prune_address(self.session, prospect, reason, self.now, changes=changes)
        self.record("prospect.invalid", changes, data={"reason": reason})

    def soft_bounce(self, prospect: Prospect, reason: str) -> None:
        changes = self.changes()
        changes.set(prospect, "soft_bounces", prospect.soft_bounces + 1)
        self.record("bounce.soft", changes, data={"reason": reason})
        window = self.settings.replies.soft_bounce_window_days
        since = self.now - timedelta(days=window)
        count = len(
            self.session.exec(
                select(Event.id).where(
                    Event.kind == "bounce.soft",
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
        self.record("bounce.block", None, data={"mailbox": mailbox, "reason": reason})
        since = self.now - timedelta(days=self.settings.replies.soft_bounce_window_days)
        blocks = [
            e
            for e in self.session.exec(
                select(Event).where(
                    Event.kind == "bounce.block",
                    col(Event.undone_at).is_(None),
                    col(Event.at) >= since,
                )
            ).all()
            if e.data.get("mailbox") == mailbox
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
        self.record("mailbox.alarm", changes, data={"mailbox": mailbox, "rate": rate})
        log.warning("mailbox alarm mailbox=%s reason=%s rate=%.3f", mailbox, reason, rate)

    # -- auto-replies ---------------------------------------------------------------------

    def auto_reply(self, prospect: Prospect) -> None:
        rule = self.rule_for(prospect)
        if rule.action is ReplyActionKind.STOP:
            self.stop_enrollments(prospect, StopCause.AUTO_REPLY, "auto-reply")
        elif rule.action is ReplyActionKind.REVIEW:
            self.review.append("auto-reply: the cadence asks for a person to decide")
        else:
            self.postpone(prospect)
        for address in self.classification.alternate_emails:
            self.review.append(f"auto-reply names an alternate contact: {address}")

    def postpone(self, prospect: Prospect) -> None:
        returns = self.classification.return_date
        if returns is not None:
            resume = datetime.combine(returns + timedelta(days=1), time(), tzinfo=self.now.tzinfo)
        else:
            resume = self.now + timedelta(days=self.settings.replies.auto_reply_delay_days)
        for enrollment in open_enrollments(self.session, prospect.id, only_active=True):
            due = enrollment.next_due_at
            if due is not None and due >= resume:
                continue
            changes = self.changes()
            changes.set(enrollment, "next_due_at", resume)
            changes.set(enrollment, "updated_at", self.now)
            self.record(
                "enrollment.postponed",
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


def _live_events(session: Session, inbound_id: int, kind: str) -> Sequence[Event]:
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
