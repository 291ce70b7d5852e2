"""What Spear does about a classified reply, decided as a plan: a pure function of the label.

`decide(classification, context)` returns the steps, in order; `engine.replies.actions` carries
them out through the database (undoable, once per reply), and `describe` says them in plain words
for the review screen ("Spear will: ..."), so what a person is told and what is done come from
the same plan. `ReplyContext` holds every fact the decision needs besides the classification; the
executor gathers it from the database (`actions.reply_context`).

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

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import ClassVar

from engine.cadences import ReplyAction, ReplyActionKind
from engine.classify import BounceKind, Classification, Referral, ReplyLabel
from engine.config import AccountExecutive
from engine.store.events import WebhookEvent
from engine.store.models import StopCause, SuppressionSource

# Soft bounces that say nothing about the address: the sending mailbox is being refused.
# Not "content filter": the classifier gives it to a "user unknown" refused after DATA or by a
# filtering gateway, which is about that one address (a soft bounce that counts toward the limit).
BLOCK_REASONS = frozenset({"spam block", "policy"})


class StepKind(StrEnum):
    REVIEW = "review"  # a person must look
    STOP_ENROLLMENTS = "stop-enrollments"
    SUPPRESS = "suppress"
    PRUNE_ADDRESS = "prune-address"
    COUNT_SOFT_BOUNCE = "count-soft-bounce"
    MAILBOX_BLOCK = "mailbox-block"
    POSTPONE = "postpone"
    HAND_OFF = "hand-off"
    ENROL_REPLIER = "enrol-replier"
    REFER = "refer"
    ENGAGE_ACCOUNT = "engage-account"
    NOTIFY = "notify"


class Need(StrEnum):
    """What a person has to supply before the reply can be acted on in full."""

    LABEL = "label"  # a label the classifier could not give
    REFERRAL_ADDRESS = "referral-address"
    RESUME_DATE = "resume-date"


@dataclass(frozen=True)
class Review:
    """A person must look: the reply waits in the review queue with `reason`."""

    kind: ClassVar[StepKind] = StepKind.REVIEW
    reason: str  # stored as the reply's review reason, for the person who looks
    needs: Need | None = None


@dataclass(frozen=True)
class StopEnrollments:
    """Every open enrollment of the prospect stops."""

    kind: ClassVar[StepKind] = StepKind.STOP_ENROLLMENTS
    cause: StopCause
    reason: str


@dataclass(frozen=True)
class Suppress:
    """The prospect's address goes on the suppression list."""

    kind: ClassVar[StepKind] = StepKind.SUPPRESS
    reason: str
    source: SuppressionSource = SuppressionSource.REPLY


@dataclass(frozen=True)
class PruneAddress:
    """The address is invalid: marked, suppressed, its enrollments stopped."""

    kind: ClassVar[StepKind] = StepKind.PRUNE_ADDRESS
    reason: str


@dataclass(frozen=True)
class CountSoftBounce:
    """One more soft bounce; the address is pruned once they reach the limit in the window."""

    kind: ClassVar[StepKind] = StepKind.COUNT_SOFT_BOUNCE
    reason: str


@dataclass(frozen=True)
class MailboxBlock:
    """An alarm on the sending mailbox, paused once its block rate is past the limit."""

    kind: ClassVar[StepKind] = StepKind.MAILBOX_BLOCK
    reason: str


@dataclass(frozen=True)
class Postpone:
    """The prospect's next step waits until the day after `returns`, else for `days`."""

    kind: ClassVar[StepKind] = StepKind.POSTPONE
    returns: date | None
    days: int


@dataclass(frozen=True)
class HandOffAccount:
    """The account goes to an account executive, who gets an email about the lead."""

    kind: ClassVar[StepKind] = StepKind.HAND_OFF
    executive: AccountExecutive | None


@dataclass(frozen=True)
class EnrolReplier:
    """The replier starts `cadence`, now or on `start` (their resume date)."""

    kind: ClassVar[StepKind] = StepKind.ENROL_REPLIER
    cadence: str
    start: date | None = None


@dataclass(frozen=True)
class Refer:
    """A referred person is recorded (created if new) and enrolled in `cadence`, if any."""

    kind: ClassVar[StepKind] = StepKind.REFER
    referral: Referral
    cadence: str | None


@dataclass(frozen=True)
class EngageAccount:
    """The account is in conversation: colleagues wait, except the people referred to."""

    kind: ClassVar[StepKind] = StepKind.ENGAGE_ACCOUNT
    spare: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Notify:
    """The webhooks subscribed to `event` are posted the reply."""

    kind: ClassVar[StepKind] = StepKind.NOTIFY
    event: WebhookEvent


Step = (
    Review
    | StopEnrollments
    | Suppress
    | PruneAddress
    | CountSoftBounce
    | MailboxBlock
    | Postpone
    | HandOffAccount
    | EnrolReplier
    | Refer
    | EngageAccount
    | Notify
)


@dataclass(frozen=True)
class ReplyContext:
    """What the decision depends on besides the classification, gathered by the executor."""

    rule: ReplyAction  # the `on_reply` rule of the cadence the reply answers, for its label
    prospect: str | None  # the matched prospect's address; None for an unmatched message
    account: str | None = None  # the prospect's account, by name
    by_person: bool = False  # a person's decision is followed as it is: no ownership checks
    unproven: str | None = None  # why the reply is not provably about our mail (`ownership`)
    referral_risk: tuple[str, str] | None = None  # why the referred people are not safe to mail
    request: SuppressionSource | None = None  # the reply came to the List-Unsubscribe mailto
    sender: str | None = None  # the reply's sender, normalised
    sender_was_mailed: bool = False  # the sender is the prospect, and Spear mailed them
    executive: AccountExecutive | None = None  # who a hand-off goes to
    cadences: frozenset[str] = field(default_factory=frozenset)  # the loaded cadences
    webhook: WebhookEvent | None = None  # the event a webhook subscribes to for this label
    auto_reply_delay_days: int = 7


def decide(classification: Classification, context: ReplyContext) -> tuple[Step, ...]:
    """The steps applying the label takes, in the order they are taken."""
    steps: list[Step] = []
    if classification.error:
        steps.append(Review(f"error: {classification.error}"))
    if context.prospect is None:
        return (*steps, Review("unmatched: no outbound message or prospect found"))
    label = classification.label
    if context.request is not None and label is ReplyLabel.UNSUBSCRIBE and not context.by_person:
        steps += _unsubscribe_request(context, context.request)
    elif context.unproven is not None and not context.by_person:
        # Anyone can forge a From or a delivery report: a person decides.
        return (
            *steps,
            Review(f"{context.unproven}: no message of ours to {context.prospect}"),
        )
    elif label is ReplyLabel.BOUNCE:
        steps += _bounce(classification)
    elif label is ReplyLabel.AUTO_REPLY:
        steps += _auto_reply(classification, context)
    else:
        steps += _human_reply(classification, context)
    if context.webhook is not None:
        steps.append(Notify(context.webhook))
    return tuple(steps)


def _unsubscribe_request(context: ReplyContext, source: SuppressionSource) -> list[Step]:
    """A request to the mailto: honoured for an address Spear mailed, else a person looks."""
    if not context.sender_was_mailed:
        sender = context.sender or "an unreadable sender"
        return [Review(f"unsubscribe request from {sender}, not an address Spear has mailed")]
    return [
        StopEnrollments(StopCause.UNSUBSCRIBED, "unsubscribed"),
        Suppress("unsubscribe request", source),
    ]


def _bounce(classification: Classification) -> list[Step]:
    bounce = classification.bounce
    if bounce is None:
        return [Review("bounce without a delivery report")]
    if bounce.kind is BounceKind.HARD:
        return [PruneAddress(f"hard bounce: {bounce.reason}")]
    if bounce.reason in BLOCK_REASONS:
        return [MailboxBlock(bounce.reason)]
    return [CountSoftBounce(bounce.reason)]


def _auto_reply(classification: Classification, context: ReplyContext) -> list[Step]:
    steps: list[Step]
    if context.rule.action is ReplyActionKind.STOP:
        steps = [StopEnrollments(StopCause.AUTO_REPLY, "auto-reply")]
    elif context.rule.action is ReplyActionKind.REVIEW:
        steps = [Review("auto-reply: the cadence asks for a person to decide")]
    else:
        steps = [Postpone(classification.return_date, context.auto_reply_delay_days)]
    for address in classification.alternate_emails:
        steps.append(Review(f"auto-reply names an alternate contact: {address}"))
    return steps


def _human_reply(classification: Classification, context: ReplyContext) -> list[Step]:
    label = classification.label
    steps: list[Step] = []
    if label is ReplyLabel.UNCLEAR:
        guess = classification.best_guess
        reason = (
            f"unclear (best guess {guess or 'none'}, confidence {classification.confidence:.2f})"
        )
        steps.append(Review(reason, Need.LABEL))
        if guess in (ReplyLabel.AUTO_REPLY, ReplyLabel.BOUNCE):
            return steps  # probably not a person writing: leave the cadence to the reviewer
    steps.append(StopEnrollments(StopCause.REPLIED, f"replied: {label}"))
    if classification.complaint:
        steps.append(Suppress("complaint", SuppressionSource.COMPLAINT))
    if label is not ReplyLabel.UNCLEAR:
        # Before colleagues pause: re-enrolling the replier (not-now -> nurture) must not find
        # the account paused by their own reply. Referred people need no such care: enrolment
        # exempts them from the pause and from one-per-account.
        steps += _follow_rule(classification, context)
    if context.account is not None:
        steps.append(EngageAccount(_referred(classification)))
    return steps


def _follow_rule(classification: Classification, context: ReplyContext) -> list[Step]:
    label, rule = classification.label, context.rule
    if label is ReplyLabel.REFERRAL:
        return _referral(classification, context)
    if rule.action is ReplyActionKind.HAND_OFF:
        steps: list[Step] = [HandOffAccount(context.executive)]
        if context.executive is None:
            steps.append(Review("interest: no hand_off.account_executive configured"))
        return steps
    if rule.action is ReplyActionKind.SUPPRESS:
        return [Suppress(str(label))]
    if rule.action is ReplyActionKind.ENROL:
        if rule.cadence not in context.cadences:
            return [Review(f"{label}: cadence {rule.cadence} is not loaded")]
        if not rule.at_resume_date:
            return [EnrolReplier(rule.cadence)]
        if classification.resume_after is None:
            return [Review(f"{label}: no resume date; choose when to re-enrol", Need.RESUME_DATE)]
        return [EnrolReplier(rule.cadence, classification.resume_after)]
    if rule.action is ReplyActionKind.REVIEW:
        return [Review(f"{label}: the cadence asks for a person to decide")]
    if rule.action is ReplyActionKind.PAUSE:
        return [Review(f"{label}: the cadence says pause; choose when to resume")]
    return []  # STOP: already done, as for every human reply


def _referral(classification: Classification, context: ReplyContext) -> list[Step]:
    referrals = classification.referrals
    if not any(r.email for r in referrals):
        names = ", ".join(r.name for r in referrals if r.name) or "no name given"
        return [Review(f"referral without an address ({names})", Need.REFERRAL_ADDRESS)]
    rule = context.rule
    steps: list[Step] = []
    cadence = rule.cadence if rule.cadence in context.cadences else None
    if rule.action is ReplyActionKind.ENROL and cadence is None:
        steps.append(Review(f"referral: cadence {rule.cadence} is not loaded"))
    elif rule.action is not ReplyActionKind.ENROL:
        steps.append(Review("referral: the cadence names no cadence to enrol the person in"))
    if context.referral_risk is not None and not context.by_person:
        # Spear would write to people a stranger named: a person decides.
        return [*steps, Review(f"{context.referral_risk[0]}: {context.referral_risk[1]}")]
    for referral in referrals:
        if referral.email:
            steps.append(Refer(referral, cadence))
        else:
            steps.append(
                Review(f"referral without an address ({referral.name})", Need.REFERRAL_ADDRESS)
            )
    return steps


def _referred(classification: Classification) -> frozenset[str]:
    if classification.label is not ReplyLabel.REFERRAL:
        return frozenset()
    return frozenset(r.email.lower() for r in classification.referrals if r.email)


# --- in words -----------------------------------------------------------------------------------


def describe(steps: Sequence[Step], context: ReplyContext) -> str:
    """The plan in one sentence, step by step: what accepting the label does."""
    if not steps:
        return "do nothing more"
    return "; ".join(describe_step(step, context) for step in steps)


def describe_step(step: Step, context: ReplyContext) -> str:
    who = context.prospect or "the sender"
    match step:
        case Review(needs=Need.LABEL):
            return "nothing more until someone labels it"
        case Review(needs=Need.REFERRAL_ADDRESS):
            return "no address for the referral yet (press e to add one)"
        case Review(needs=Need.RESUME_DATE):
            return "no resume date yet (press e to give one)"
        case Review(reason=reason):
            return f"leave the rest to a person ({reason})"
        case StopEnrollments():
            return f"stop {who}'s cadences"
        case Suppress():
            return f"suppress {who}: never write again"
        case PruneAddress():
            return f"mark {who} invalid, suppress it and stop its cadences"
        case CountSoftBounce():
            return f"count a soft bounce for {who} (invalid after the configured limit)"
        case MailboxBlock():
            return "raise an alarm on the sending mailbox (and pause it past the block rate)"
        case Postpone(returns=returns, days=days):
            if returns is not None:
                return f"hold {who}'s next step until after {returns}"
            return f"hold {who}'s next step for {days} days"
        case HandOffAccount(executive=executive):
            to = executive.address if executive else "(no account executive configured)"
            return f"hand {context.account or who} off to {to}"
        case EnrolReplier(cadence=cadence, start=start):
            return f"enrol {who} in {cadence}" + (f" from {start}" if start else "")
        case Refer(referral=referral, cadence=cadence):
            person = f"{referral.name} <{referral.email}>" if referral.name else referral.email
            if cadence is None:
                return f"record {person} as referred"
            return f"enrol {person} in {cadence}, saying who referred them"
        case EngageAccount():
            return f"pause colleagues at {context.account}"
        case Notify(event=event):
            return f"post it to the {event} webhooks"
