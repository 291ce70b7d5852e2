"""The decision over labels and context, as a pure function, and the words it is described in."""

from __future__ import annotations

from datetime import date

import pytest

from engine.cadences import DEFAULT_ON_REPLY, ReplyAction, ReplyActionKind
from engine.classify import Bounce, BounceKind, Classification, Referral, ReplyLabel
from engine.classify.result import HUMAN_LABELS
from engine.config import AccountExecutive, WebhookEvent
from engine.replies.plan import (
    CountSoftBounce,
    EngageAccount,
    EnrolReplier,
    HandOffAccount,
    MailboxBlock,
    Need,
    Notify,
    Postpone,
    PruneAddress,
    Refer,
    ReplyContext,
    Review,
    StepKind,
    StopEnrollments,
    Suppress,
    decide,
    describe,
    describe_step,
)
from engine.store.models import StopCause, SuppressionSource

DANA = "dana@acme.example"
JANE = Referral("jane@acme.example", "Jane Smith")
ENROL_REFERRED = ReplyAction(action=ReplyActionKind.ENROL, cadence="referral-followup")
NURTURE_LATER = ReplyAction(action=ReplyActionKind.ENROL, cadence="nurture", at_resume_date=True)
LOADED = frozenset({"outreach", "referral-followup", "nurture"})


def said(label: ReplyLabel, **fields: object) -> Classification:
    return Classification(label=label, confidence=0.95, **fields)  # type: ignore[arg-type]


def facts(label: ReplyLabel, **fields: object) -> ReplyContext:
    values: dict[str, object] = {
        "rule": DEFAULT_ON_REPLY[label],
        "prospect": DANA,
        "account": "Acme",
        "cadences": LOADED,
    }
    values.update(fields)
    return ReplyContext(**values)  # type: ignore[arg-type]


def kinds(steps: tuple[object, ...]) -> list[StepKind]:
    return [step.kind for step in steps]  # type: ignore[attr-defined]


@pytest.mark.parametrize("label", sorted(HUMAN_LABELS - {ReplyLabel.UNCLEAR}))
def test_every_human_reply_stops_first_and_engages_the_account_last(label: ReplyLabel) -> None:
    steps = decide(said(label), facts(label))
    assert steps[0] == StopEnrollments(StopCause.REPLIED, f"replied: {label}")
    assert isinstance(steps[-1], EngageAccount)
    assert not any(isinstance(s, PruneAddress | Postpone | CountSoftBounce) for s in steps)


def test_without_an_account_nobody_else_waits() -> None:
    steps = decide(said(ReplyLabel.NOT_INTERESTED), facts(ReplyLabel.NOT_INTERESTED, account=None))
    assert steps == (StopEnrollments(StopCause.REPLIED, "replied: not-interested"),)


def test_an_unmatched_reply_only_waits_for_a_person() -> None:
    steps = decide(
        said(ReplyLabel.INTEREST, error="bad charset"), facts(ReplyLabel.INTEREST, prospect=None)
    )
    assert kinds(steps) == [StepKind.REVIEW, StepKind.REVIEW]
    assert steps[0] == Review("error: bad charset")


def test_mail_not_provably_ours_changes_nothing_unless_a_person_says_so() -> None:
    bounce = said(ReplyLabel.BOUNCE, bounce=Bounce(BounceKind.HARD, "user unknown", ()))
    automatic = decide(bounce, facts(ReplyLabel.BOUNCE, unproven="no-thread"))
    assert automatic == (Review(f"no-thread: no message of ours to {DANA}"),)
    decided = decide(bounce, facts(ReplyLabel.BOUNCE, unproven="no-thread", by_person=True))
    assert decided == (PruneAddress("hard bounce: user unknown"),)


@pytest.mark.parametrize(
    ("bounce", "expected"),
    [
        (Bounce(BounceKind.HARD, "user unknown", ()), PruneAddress("hard bounce: user unknown")),
        (Bounce(BounceKind.SOFT, "spam block", ()), MailboxBlock("spam block")),
        (Bounce(BounceKind.SOFT, "policy", ()), MailboxBlock("policy")),
        (Bounce(BounceKind.SOFT, "mailbox full", ()), CountSoftBounce("mailbox full")),
        (Bounce(BounceKind.SOFT, "content filter", ()), CountSoftBounce("content filter")),
        (None, Review("bounce without a delivery report")),
    ],
)
def test_bounces(bounce: Bounce | None, expected: object) -> None:
    steps = decide(said(ReplyLabel.BOUNCE, bounce=bounce), facts(ReplyLabel.BOUNCE))
    assert steps == (expected,)


def test_an_auto_reply_postpones_and_hands_alternates_to_a_person() -> None:
    auto = said(
        ReplyLabel.AUTO_REPLY, return_date=date(2026, 6, 15), alternate_emails=("bob@acme.example",)
    )
    steps = decide(auto, facts(ReplyLabel.AUTO_REPLY, auto_reply_delay_days=5))
    assert steps == (
        Postpone(date(2026, 6, 15), 5),
        Review("auto-reply names an alternate contact: bob@acme.example"),
    )
    stop = facts(ReplyLabel.AUTO_REPLY, rule=ReplyAction(action=ReplyActionKind.STOP))
    assert decide(said(ReplyLabel.AUTO_REPLY), stop) == (
        StopEnrollments(StopCause.AUTO_REPLY, "auto-reply"),
    )


def test_a_referral_enrols_the_people_named_unless_a_stranger_named_them() -> None:
    referral = said(ReplyLabel.REFERRAL, referrals=(JANE, Referral(None, "Bo")))
    context = facts(ReplyLabel.REFERRAL, rule=ENROL_REFERRED)
    assert decide(referral, context)[1:] == (
        Refer(JANE, "referral-followup"),
        Review("referral without an address (Bo)", Need.REFERRAL_ADDRESS),
        EngageAccount(frozenset({"jane@acme.example"})),
    )
    risky = facts(ReplyLabel.REFERRAL, rule=ENROL_REFERRED, referral_risk=("free-mail", "x"))
    assert kinds(decide(referral, risky)) == [
        StepKind.STOP_ENROLLMENTS,
        StepKind.REVIEW,
        StepKind.ENGAGE_ACCOUNT,
    ]


def test_a_referral_without_any_address_needs_one() -> None:
    steps = decide(
        said(ReplyLabel.REFERRAL, referrals=(Referral(None, "Jane"),)), facts(ReplyLabel.REFERRAL)
    )
    assert Review("referral without an address (Jane)", Need.REFERRAL_ADDRESS) in steps
    assert not any(isinstance(s, Refer) for s in steps)


def test_not_now_enrols_at_the_resume_date_or_asks_for_one() -> None:
    context = facts(ReplyLabel.NOT_NOW, rule=NURTURE_LATER)
    later = decide(said(ReplyLabel.NOT_NOW, resume_after=date(2026, 9, 1)), context)
    assert EnrolReplier("nurture", date(2026, 9, 1)) in later
    undated = decide(said(ReplyLabel.NOT_NOW), context)
    assert Review("not-now: no resume date; choose when to re-enrol", Need.RESUME_DATE) in undated
    unloaded = decide(
        said(ReplyLabel.NOT_NOW),
        facts(ReplyLabel.NOT_NOW, rule=NURTURE_LATER, cadences=frozenset()),
    )
    assert Review("not-now: cadence nurture is not loaded") in unloaded


def test_interest_is_handed_off_and_posted_to_webhooks() -> None:
    executive = AccountExecutive(address="ae@example-sender.com")
    context = facts(ReplyLabel.INTEREST, executive=executive, webhook=WebhookEvent.INTEREST)
    steps = decide(said(ReplyLabel.INTEREST), context)
    assert kinds(steps) == [
        StepKind.STOP_ENROLLMENTS,
        StepKind.HAND_OFF,
        StepKind.ENGAGE_ACCOUNT,
        StepKind.NOTIFY,
    ]
    assert steps[1] == HandOffAccount(executive) and steps[-1] == Notify(WebhookEvent.INTEREST)
    nobody = decide(said(ReplyLabel.INTEREST), facts(ReplyLabel.INTEREST))
    assert Review("interest: no hand_off.account_executive configured") in nobody


def test_an_unsubscribe_request_is_honoured_only_from_the_address_mailed() -> None:
    request = facts(
        ReplyLabel.UNSUBSCRIBE,
        request=SuppressionSource.MAILTO,
        sender=DANA,
        sender_was_mailed=True,
    )
    assert decide(said(ReplyLabel.UNSUBSCRIBE), request) == (
        StopEnrollments(StopCause.UNSUBSCRIBED, "unsubscribed"),
        Suppress("unsubscribe request", SuppressionSource.MAILTO),
    )
    stranger = facts(ReplyLabel.UNSUBSCRIBE, request=SuppressionSource.MAILTO, sender="x@y.example")
    assert kinds(decide(said(ReplyLabel.UNSUBSCRIBE), stranger)) == [StepKind.REVIEW]


def test_an_unclear_reply_stops_the_cadence_unless_it_looks_automatic() -> None:
    unclear = said(ReplyLabel.UNCLEAR, best_guess=ReplyLabel.INTEREST)
    steps = decide(unclear, facts(ReplyLabel.UNCLEAR))
    assert kinds(steps) == [StepKind.REVIEW, StepKind.STOP_ENROLLMENTS, StepKind.ENGAGE_ACCOUNT]
    assert describe(steps, facts(ReplyLabel.UNCLEAR)) == (
        f"nothing more until someone labels it; stop {DANA}'s cadences; pause colleagues at Acme"
    )
    automatic = said(ReplyLabel.UNCLEAR, best_guess=ReplyLabel.BOUNCE)
    assert kinds(decide(automatic, facts(ReplyLabel.UNCLEAR))) == [StepKind.REVIEW]


def test_the_description_says_each_step_in_order() -> None:
    context = facts(ReplyLabel.REFERRAL, rule=ENROL_REFERRED)
    steps = decide(said(ReplyLabel.REFERRAL, referrals=(JANE,)), context)
    text = describe(steps, context)
    assert text.split("; ") == [describe_step(step, context) for step in steps]
    assert text == (
        f"stop {DANA}'s cadences; enrol Jane Smith <jane@acme.example> in referral-followup, "
        "saying who referred them; pause colleagues at Acme"
    )
