""" "Spear will: ...": what a label leads to, in plain words, before a person confirms it.

The words are the plan's: `plan_for` reads the reply's context as the reply actions do
(`engine.replies.actions.reply_context`), decides the plan a person's decision would carry out
(`engine.replies.plan.decide`) and describes it step by step, so the screen never restates the
rules. `plans_for` does the same for several labels at once (the web inbox's relabel menu).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from engine.errors import NotFoundError
from engine.replies import ReplySettings
from engine.replies.actions import reply_context
from engine.replies.plan import decide, describe
from engine.replies.stored import from_record
from engine.store.models import InboundMessage


def plan_for(
    session: Session,
    item_id: int,
    label: str,
    settings: ReplySettings,
) -> str:
    """What applying `label` to stored reply `item_id` does, in one sentence."""
    return plans_for(session, item_id, [label], settings)[label]


def plans_for(
    session: Session,
    item_id: int,
    labels: Sequence[str],
    settings: ReplySettings,
) -> dict[str, str]:
    """`plan_for` for each of `labels`."""
    inbound = session.get(InboundMessage, item_id)
    if inbound is None:
        raise NotFoundError(f"no inbound message {item_id}")
    plans: dict[str, str] = {}
    for label in labels:
        classification = from_record(inbound.classification, label)
        # A person accepts or relabels: no ownership check, their decision is followed.
        context = reply_context(session, inbound, classification, settings, checked_at=None)
        plans[label] = describe(decide(classification, context), context)
    return plans
