"""What the review screen says accepting a label does is what applying it then does: one plan."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from engine.classify import ReplyLabel
from engine.clock import FixedClock
from engine.config import Webhook
from engine.replies import reclassify
from engine.replies.actions import reply_context
from engine.replies.plan import Review, StepKind, describe, describe_step
from engine.replies.stored import from_record
from engine.review.explain import plan_for, plans_for
from engine.store.events import EventKind
from engine.store.models import Event, InboundMessage

from .conftest import World, build_world, reply_settings

REFERRAL = (
    "Hi Alex,\r\n\r\nI'm not the right person for this. Please talk to Jane Smith "
    "(jane.smith@acme.example), she runs our sales operations.\r\n\r\nDana"
)
OUT_OF_OFFICE = (
    "I am out of the office until June 15, 2026 with limited access to email. "
    "For urgent matters please contact bob.backup@acme.example."
)
# The event each step records when it changes something (a review step records none).
EVENT_OF_STEP = {
    StepKind.STOP_ENROLLMENTS: "enrollment.stopped",
    StepKind.SUPPRESS: "suppressed",
    StepKind.PRUNE_ADDRESS: "prospect.invalid",
    StepKind.COUNT_SOFT_BOUNCE: "bounce.soft",
    StepKind.MAILBOX_BLOCK: "bounce.block",
    StepKind.POSTPONE: "enrollment.postponed",
    StepKind.HAND_OFF: "account.handed-off",
    StepKind.ENROL_REPLIER: "enrollment.created",
    StepKind.REFER: "prospect.referred",
    StepKind.ENGAGE_ACCOUNT: "account.engaged",
    StepKind.NOTIFY: "webhook.pending",
}
# Events that go with a step without being one of its own.
COMPANIONS = {
    EventKind.ENROLLMENT_CREATED,
    EventKind.HANDOFF_EMAIL,
    EventKind.MAILBOX_ALARM,
    EventKind.REPLY_APPLIED,
}


@pytest.fixture
def world_with_webhook(db_engine: Engine, clock: FixedClock) -> World:
    settings = reply_settings(webhooks=(Webhook(url="https://hooks.example/spear"),))
    return build_world(db_engine, clock, settings)


CASES = [
    *((REFERRAL, label) for label in ReplyLabel),  # the same words, every label a person may pick
    ("hard bounce", ReplyLabel.BOUNCE),
    ("spam block", ReplyLabel.BOUNCE),
    (OUT_OF_OFFICE, ReplyLabel.AUTO_REPLY),
]

TELLING_STEP = {
    "hard bounce": StepKind.PRUNE_ADDRESS,
    "spam block": StepKind.MAILBOX_BLOCK,
    OUT_OF_OFFICE: StepKind.POSTPONE,
}


def message(world: World, kind: str) -> bytes:
    if kind == "hard bounce":
        return world.bounce()
    if kind == "spam block":
        return world.bounce(status="5.7.1", diagnostic="Message rejected as spam")
    return world.reply(kind)


@pytest.mark.parametrize(("kind", "label"), CASES)
def test_the_explanation_and_the_actions_come_from_one_plan(
    world_with_webhook: World, kind: str, label: ReplyLabel
) -> None:
    world = world_with_webhook
    inbound = world.receive(message(world, kind))
    assert inbound.id is not None
    settings = world.settings
    with Session(world.engine) as session:
        said = plan_for(session, inbound.id, str(label), settings)
        assert plans_for(session, inbound.id, [str(label)], settings) == {str(label): said}

    with Session(world.engine) as session:
        result = reclassify(
            session, inbound.id, label, settings, now=world.clock.now(), actor="kim"
        )
        session.commit()
        stored = session.get(InboundMessage, inbound.id)
        assert stored is not None
        classification = from_record(stored.classification, stored.label)
        context = reply_context(session, stored, classification, settings, checked_at=None)
        events = session.exec(select(Event).where(col(Event.id).in_(result.events))).all()

    plan = result.plan
    assert plan, "every label leads to at least one step"
    if kind in TELLING_STEP:
        assert TELLING_STEP[kind] in [step.kind for step in plan]
    # The screen said the plan the executor then carried out, step by step.
    assert said == describe(plan, context)
    assert said.split("; ") == [describe_step(step, context) for step in plan]
    # The executor took exactly those steps: one event per step that changed something, the
    # reasons of the review steps, and the steps named in the idempotence marker.
    [applied] = [e for e in events if e.kind == EventKind.REPLY_APPLIED]
    assert applied.data["steps"] == [step.kind.value for step in plan]
    recorded = {e.kind for e in events} - COMPANIONS
    planned = {EVENT_OF_STEP[step.kind] for step in plan if step.kind is not StepKind.REVIEW}
    assert recorded == planned
    reviews = [step.reason for step in plan if isinstance(step, Review)]
    assert set(reviews) <= set(result.review_reasons)
