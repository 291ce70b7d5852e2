""" "Spear will: ...": what a label leads to, in plain words, before a person confirms it.

`describe_actions` is pure: it follows the rules `engine.replies.actions` applies (every human
reply stops the prospect's cadences and pauses colleagues; bounces prune; auto-replies postpone;
then the cadence's `on_reply` rule for the label). `plan_for` looks up what it needs for one
stored reply: the prospect, the account and the rule of the cadence the reply answers;
`plans_for` does the same for several labels at once (the web inbox's relabel menu).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from engine.cadences import DEFAULT_ON_REPLY, ReplyAction, ReplyActionKind
from engine.classify import BounceKind, Classification, ReplyLabel
from engine.classify.result import HUMAN_LABELS
from engine.errors import NotFoundError
from engine.replies import ReplySettings
from engine.replies.actions import BLOCK_REASONS
from engine.replies.stored import from_record
from engine.store.models import Account, Enrollment, InboundMessage, OutboundMessage, Prospect


@dataclass(frozen=True)
class Circumstances:
    """What the description depends on besides the label and the classification."""

    rule: ReplyAction
    prospect: str | None  # the matched prospect's address; None for an unmatched message
    account: str | None = None
    account_executive: str | None = None
    auto_reply_delay_days: int = 7


def describe_actions(classification: Classification, facts: Circumstances) -> str:
    """One sentence: what applying `classification.label` does."""
    label = classification.label
    if facts.prospect is None:
        return "do nothing (no prospect matches the sender) but mark it reviewed"
    if label is ReplyLabel.BOUNCE:
        return _bounce(classification, facts.prospect)
    if label is ReplyLabel.AUTO_REPLY:
        return _auto_reply(classification, facts)
    steps = [f"stop {facts.prospect}'s cadences"]
    if facts.account:
        steps.append(f"pause colleagues at {facts.account}")
    if label is ReplyLabel.UNCLEAR:
        steps.append("nothing more until someone labels it")
    elif label in HUMAN_LABELS:
        steps.append(_rule(classification, facts))
    return "; ".join(s for s in steps if s)


def _rule(classification: Classification, facts: Circumstances) -> str:
    rule = facts.rule
    if classification.label is ReplyLabel.REFERRAL:
        people = [
            f"{r.name} <{r.email}>" if r.name else r.email
            for r in classification.referrals
            if r.email
        ]
        if not people:
            return "no address for the referral yet (press e to add one)"
        if rule.action is ReplyActionKind.ENROL:
            return f"enrol {', '.join(people)} in {rule.cadence}, saying who referred them"
        return f"record {', '.join(people)} as referred (the cadence enrols no one)"
    if rule.action is ReplyActionKind.HAND_OFF:
        to = facts.account_executive or "(no account executive configured)"
        return f"hand {facts.account or facts.prospect} off to {to}"
    if rule.action is ReplyActionKind.SUPPRESS:
        return f"suppress {facts.prospect}: never write again"
    if rule.action is ReplyActionKind.ENROL:
        if not rule.at_resume_date:
            return f"enrol {facts.prospect} in {rule.cadence}"
        if classification.resume_after is None:
            return f"enrol in {rule.cadence} once a resume date is given (press e)"
        return f"enrol {facts.prospect} in {rule.cadence} from {classification.resume_after}"
    if rule.action in (ReplyActionKind.REVIEW, ReplyActionKind.PAUSE):
        return "nothing more: the cadence leaves the next move to you"
    return ""


def _bounce(classification: Classification, prospect: str) -> str:
    bounce = classification.bounce
    if bounce is None:
        return "do nothing (no delivery report to act on)"
    if bounce.kind is BounceKind.HARD:
        return f"mark {prospect} invalid, suppress it and stop its cadences"
    if bounce.reason in BLOCK_REASONS:
        return "raise an alarm on the sending mailbox (and pause it past the block rate)"
    return f"count a soft bounce for {prospect} (invalid after the configured limit)"


def _auto_reply(classification: Classification, facts: Circumstances) -> str:
    if facts.rule.action is ReplyActionKind.STOP:
        text = f"stop {facts.prospect}'s cadences"
    elif facts.rule.action is ReplyActionKind.REVIEW:
        text = "do nothing: the cadence leaves auto-replies to you"
    elif classification.return_date is not None:
        text = f"hold {facts.prospect}'s next step until after {classification.return_date}"
    else:
        text = f"hold {facts.prospect}'s next step for {facts.auto_reply_delay_days} days"
    if classification.alternate_emails:
        text += f"; alternate contact {', '.join(classification.alternate_emails)} is yours to use"
    return text


# --- from the database --------------------------------------------------------------------------


def plan_for(session: Session, item_id: int, label: str, settings: ReplySettings) -> str:
    """What applying `label` to stored reply `item_id` does, as `describe_actions` says it."""
    return plans_for(session, item_id, [label], settings)[label]


def plans_for(
    session: Session, item_id: int, labels: Sequence[str], settings: ReplySettings
) -> dict[str, str]:
    """`plan_for` for each of `labels`, reading the reply's circumstances once."""
    inbound = session.get(InboundMessage, item_id)
    if inbound is None:
        raise NotFoundError(f"no inbound message {item_id}")
    prospect = session.get(Prospect, inbound.prospect_id) if inbound.prospect_id else None
    account = (
        session.get(Account, prospect.account_id) if prospect and prospect.account_id else None
    )
    enrollment = _answered_enrollment(session, inbound)
    cadence = settings.cadence_of(session, enrollment) if enrollment is not None else None
    plans: dict[str, str] = {}
    for label in labels:
        classification = from_record(inbound.classification, label)
        rule = (
            cadence.reply_action(classification.label)
            if cadence is not None
            else DEFAULT_ON_REPLY[classification.label]
        )
        facts = Circumstances(
            rule=rule,
            prospect=prospect.email if prospect else None,
            account=(account.name or account.domain) if account else None,
            account_executive=settings.account_executive,
            auto_reply_delay_days=settings.replies.auto_reply_delay_days,
        )
        plans[label] = describe_actions(classification, facts)
    return plans


def _answered_enrollment(session: Session, inbound: InboundMessage) -> Enrollment | None:
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
