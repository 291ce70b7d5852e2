"""Decisions change the database and the actions; undo puts every row back exactly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from sqlmodel import Session, select

from engine.classify import Referral, classify_message
from engine.errors import NotFoundError
from engine.review.decisions import (
    ReviewError,
    accept,
    decode_example_raw,
    export_decisions,
    relabel,
    undo_last,
)
from engine.store.models import (
    Account,
    AccountStatus,
    Enrollment,
    EnrollmentStatus,
    InboundStatus,
    Prospect,
    ReviewDecision,
)

from .conftest import (
    BELOW_THRESHOLD,
    NOT_INTERESTED,
    REFERRAL_WITHOUT_ADDRESS,
    UNCLEAR,
    Workspace,
)

T = TypeVar("T")


def decide(workspace: Workspace, decision: Callable[[Session], T]) -> T:
    """Run one decision in its own committed transaction, as the CLI does."""
    with Session(workspace.engine, expire_on_commit=False) as session:
        result = decision(session)
        session.commit()
    return result


def undo(workspace: Workspace, reviewer: str = "rep") -> ReviewDecision:
    return decide(
        workspace,
        lambda s: undo_last(s, reviewer, workspace.settings, now=workspace.clock.now()),
    )


def test_relabel_not_interested_to_interest_hands_off_and_undo_restores_everything(
    workspace: Workspace,
) -> None:
    item = workspace.receive(NOT_INTERESTED)
    assert workspace.inbound(item).status is InboundStatus.APPLIED
    before = workspace.snapshot()
    workspace.clock.fast_forward(hours=3)

    outcome = decide(
        workspace,
        lambda s: relabel(
            s,
            item,
            "interest",
            workspace.settings,
            now=workspace.clock.now(),
            reviewer="rep",
        ),
    )

    account = workspace.get(Account, workspace.ids["account"])
    assert account.status is AccountStatus.HANDED_OFF
    handoffs = [e for e in workspace.events(item) if e.kind == "handoff.email"]
    assert len(handoffs) == 1 and handoffs[0].undone_at is None
    assert handoffs[0].data["to"] == "ae@example-sender.com"
    row = workspace.inbound(item)
    assert (row.label, row.status) == ("interest", InboundStatus.REVIEWED)
    decision = workspace.get(ReviewDecision, outcome.decision.id)
    assert (decision.reviewer, decision.old_label, decision.new_label) == (
        "rep",
        "not-interested",
        "interest",
    )
    assert decision.at is not None and decision.undone_at is None

    workspace.clock.fast_forward(hours=1)
    undone = undo(workspace)

    assert workspace.snapshot() == before
    assert workspace.get(ReviewDecision, undone.id).undone_at is not None
    [handoff] = [e for e in workspace.events(item) if e.kind == "handoff.email"]
    assert handoff.undone_at is not None  # a pending hand-off that was undone never goes out


def test_accept_of_a_below_threshold_reply_applies_the_best_guess(workspace: Workspace) -> None:
    item = workspace.receive(BELOW_THRESHOLD)
    row = workspace.inbound(item)
    assert row.label == "unclear" and row.classification["best_guess"] == "not-interested"
    assert row.status is InboundStatus.REVIEW
    before = workspace.snapshot()

    decide(
        workspace,
        lambda s: accept(s, item, workspace.settings, now=workspace.clock.now(), reviewer="rep"),
    )

    row = workspace.inbound(item)
    assert (row.label, row.status, row.review_reason) == (
        "not-interested",
        InboundStatus.REVIEWED,
        None,
    )
    dana = workspace.get(Enrollment, workspace.ids["dana_enrollment"])
    assert dana.stop_reason == "replied: not-interested"

    undo(workspace)
    assert workspace.snapshot() == before


def test_accept_of_the_label_already_applied_only_marks_it_reviewed(
    workspace: Workspace,
) -> None:
    item = workspace.receive(REFERRAL_WITHOUT_ADDRESS)
    assert workspace.inbound(item).status is InboundStatus.REVIEW
    before = workspace.snapshot()
    events = len(workspace.events(item))

    outcome = decide(
        workspace,
        lambda s: accept(s, item, workspace.settings, now=workspace.clock.now(), reviewer="rep"),
    )

    assert outcome.actions is None and len(workspace.events(item)) == events
    assert workspace.inbound(item).status is InboundStatus.REVIEWED
    undo(workspace)
    assert workspace.snapshot() == before


def test_editing_the_referral_enrols_the_person_and_undo_removes_them(
    workspace: Workspace,
) -> None:
    item = workspace.receive(REFERRAL_WITHOUT_ADDRESS)
    before = workspace.snapshot()

    decide(
        workspace,
        lambda s: relabel(
            s,
            item,
            "referral",
            workspace.settings,
            now=workspace.clock.now(),
            reviewer="rep",
            referrals=[Referral(email="jane.smith@acme.example", name="Jane Smith")],
        ),
    )

    with Session(workspace.engine) as session:
        jane = session.exec(
            select(Prospect).where(Prospect.email == "jane.smith@acme.example")
        ).one()
        enrolled = session.exec(select(Enrollment).where(Enrollment.prospect_id == jane.id)).one()
    assert enrolled.cadence == "referred" and enrolled.referrer_id == workspace.ids["dana"]
    decision = workspace.get(ReviewDecision, 1)
    assert decision.data["edits"]["referrals"][0]["email"] == "jane.smith@acme.example"

    undo(workspace)
    assert workspace.snapshot() == before


def test_relabel_is_idempotent(workspace: Workspace) -> None:
    item = workspace.receive(NOT_INTERESTED)

    def to_interest(session: Session) -> Any:
        return relabel(
            session, item, "interest", workspace.settings, now=workspace.clock.now(), reviewer="r"
        )

    decide(workspace, to_interest)
    once = workspace.snapshot()
    decide(workspace, to_interest)
    assert workspace.snapshot() == once
    live = [e.kind for e in workspace.events(item) if e.undone_at is None]
    assert live.count("handoff.email") == 1 and live.count("reply.applied") == 1


def test_undo_goes_back_one_decision_at_a_time(workspace: Workspace) -> None:
    first = workspace.receive(NOT_INTERESTED)
    # Sam, at the same account: both replies' actions touch the account and its enrollments.
    second = workspace.receive(UNCLEAR, sender="sam@acme.example", in_reply_to=None)
    assert workspace.inbound(second).prospect_id == workspace.ids["sam"]
    start = workspace.snapshot()
    now = workspace.clock.now()
    decide(
        workspace,
        lambda s: relabel(s, first, "interest", workspace.settings, now=now, reviewer="rep"),
    )
    middle = workspace.snapshot()
    decide(
        workspace,
        lambda s: relabel(s, second, "wrong-person", workspace.settings, now=now, reviewer="rep"),
    )

    assert undo(workspace).inbound_id == second
    assert workspace.snapshot() == middle
    assert undo(workspace).inbound_id == first
    assert workspace.snapshot() == start
    with pytest.raises(NotFoundError):
        undo(workspace)


def test_undo_refuses_when_someone_decided_the_same_reply_since(workspace: Workspace) -> None:
    item = workspace.receive(NOT_INTERESTED)
    now = workspace.clock.now()
    decide(
        workspace, lambda s: relabel(s, item, "interest", workspace.settings, now=now, reviewer="a")
    )
    decide(
        workspace, lambda s: relabel(s, item, "not-now", workspace.settings, now=now, reviewer="b")
    )
    with pytest.raises(ReviewError, match="decided again"):
        undo(workspace, "a")
    undo(workspace, "b")
    undo(workspace, "a")
    row = workspace.inbound(item)
    assert (row.label, row.status) == ("not-interested", InboundStatus.APPLIED)


def test_unknown_label_is_refused(workspace: Workspace) -> None:
    item = workspace.receive(NOT_INTERESTED)
    with pytest.raises(ReviewError, match="unknown label"):
        decide(
            workspace,
            lambda s: relabel(
                s, item, "maybe", workspace.settings, now=workspace.clock.now(), reviewer="r"
            ),
        )


def test_export_gives_the_raw_message_and_both_labels(workspace: Workspace) -> None:
    relabelled = workspace.receive(NOT_INTERESTED)
    accepted = workspace.receive(BELOW_THRESHOLD, sender="sam@acme.example", in_reply_to=None)
    undone = workspace.receive(UNCLEAR, sender="sam@acme.example", in_reply_to=None)
    now = workspace.clock.now()
    settings = workspace.settings
    decide(workspace, lambda s: relabel(s, relabelled, "interest", settings, now=now, reviewer="r"))
    decide(workspace, lambda s: accept(s, accepted, settings, now=now, reviewer="r"))
    decide(workspace, lambda s: relabel(s, undone, "not-now", settings, now=now, reviewer="u"))
    undo(workspace, "u")

    with Session(workspace.engine) as session:
        examples = {e["inbound_id"]: e for e in export_decisions(session)}

    assert set(examples) == {relabelled, accepted}
    example = examples[relabelled]
    assert (example["classifier_label"], example["label"]) == ("not-interested", "interest")
    assert example["reviewer"] == "r" and example["decision"] == "relabel"
    assert example["message_id"] == workspace.inbound(relabelled).message_id
    raw = decode_example_raw(example)
    assert raw == workspace.inbound(relabelled).raw
    assert str(classify_message(raw).label) == "not-interested"  # re-scorable as stored
    guessed = examples[accepted]
    assert guessed["classifier_label"] == "unclear"
    assert guessed["classifier_best_guess"] == "not-interested"
    assert guessed["label"] == "not-interested" and guessed["decision"] == "accept"
    with Session(workspace.engine) as session:
        assert list(export_decisions(session, since=now.replace(year=2030))) == []


def test_account_handed_off_is_the_only_account_change(workspace: Workspace) -> None:
    """Relabelling to interest leaves the colleague paused, as any human reply does."""
    item = workspace.receive(NOT_INTERESTED)
    decide(
        workspace,
        lambda s: relabel(
            s, item, "interest", workspace.settings, now=workspace.clock.now(), reviewer="r"
        ),
    )
    sam = workspace.get(Enrollment, workspace.ids["sam_enrollment"])
    assert sam.status is EnrollmentStatus.PAUSED
