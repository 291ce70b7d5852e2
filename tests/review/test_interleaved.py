"""Decisions on two replies at the same account, made and undone in every order the code allows:
each undo puts back exactly what was there, ids included, compared table by table."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, col, select

from engine.classify import Referral
from engine.review.decisions import ReviewError, relabel, undo_last
from engine.store.events import EventKind
from engine.store.models import (
    Account,
    Enrollment,
    EnrollmentStatus,
    Event,
    InboundMessage,
    MailboxState,
    Prospect,
    ReviewDecision,
    Suppression,
)

from .conftest import NOT_INTERESTED, UNCLEAR, Workspace

Snapshot = dict[str, dict[Any, dict[str, Any]]]
TABLES: dict[str, Any] = {
    "account": Account,
    "prospect": Prospect,
    "enrollment": Enrollment,
    "suppression": Suppression,
    "mailbox_state": MailboxState,
    "inbound_message": InboundMessage,
    "event": Event,
    "review_decision": ReviewDecision,
}


def snapshot(workspace: Workspace) -> Snapshot:
    """Every row of the tables a decision may touch, by primary key, every column."""
    with Session(workspace.engine) as session:
        return {
            name: {
                (row.name if isinstance(row, MailboxState) else row.id): row.model_dump()
                for row in session.exec(select(model)).all()
            }
            for name, model in TABLES.items()
        }


def assert_restored(before: Snapshot, after: Snapshot) -> None:
    """The state tables are equal row for row; the logs keep every earlier row exactly, and what
    was added since is undone (or is the record of an undo)."""
    for name in TABLES:
        if name in ("event", "review_decision"):
            assert {k: after[name].get(k) for k in before[name]} == before[name], name
        else:
            assert after[name] == before[name], name
    for event in (e for k, e in after["event"].items() if k not in before["event"]):
        assert event["undone_at"] is not None or event["kind"].startswith("undo."), event
    for row in (
        d for k, d in after["review_decision"].items() if k not in before["review_decision"]
    ):
        assert row["undone_at"] is not None, row


@pytest.fixture
def replies(workspace: Workspace) -> tuple[int, int]:
    """Dana says not interested (her colleague Sam is paused); then Sam writes, unclear."""
    dana = workspace.receive(NOT_INTERESTED)
    sam = workspace.receive(UNCLEAR, sender="Sam <sam@acme.example>", in_reply_to=None)
    assert workspace.inbound(sam).prospect_id == workspace.ids["sam"]
    workspace.clock.fast_forward(hours=1)
    return dana, sam


def decide(workspace: Workspace, item: int, label: str, reviewer: str, **edits: Any) -> None:
    workspace.clock.fast_forward(minutes=5)
    with Session(workspace.engine) as session:
        now = workspace.clock.now()
        relabel(session, item, label, workspace.settings, now=now, reviewer=reviewer, **edits)
        session.commit()


def undo(workspace: Workspace, reviewer: str) -> int:
    workspace.clock.fast_forward(minutes=5)
    with Session(workspace.engine, expire_on_commit=False) as session:
        decision = undo_last(session, reviewer, workspace.settings, now=workspace.clock.now())
        session.commit()
    return decision.inbound_id


JANE = [Referral(email="jane.smith@acme.example", name="Jane Smith")]


@pytest.mark.parametrize(
    ("a_label", "a_edits", "b_label"),
    [
        ("interest", {}, "not-interested"),
        ("not-now", {}, "interest"),
        ("referral", {"referrals": JANE}, "interest"),
        ("wrong-person", {}, "referral"),
    ],
)
def test_relabel_a_relabel_b_undo_b_undo_a(
    workspace: Workspace,
    replies: tuple[int, int],
    a_label: str,
    a_edits: dict[str, Any],
    b_label: str,
) -> None:
    dana, sam = replies
    start = snapshot(workspace)
    decide(workspace, dana, a_label, "rep", **a_edits)
    middle = snapshot(workspace)
    decide(workspace, sam, b_label, "rep")

    assert undo(workspace, "rep") == sam
    assert_restored(middle, snapshot(workspace))
    assert undo(workspace, "rep") == dana
    assert_restored(start, snapshot(workspace))


@pytest.mark.parametrize("first", ["a", "b"])
def test_two_reviewers_undo_in_either_order(
    workspace: Workspace, replies: tuple[int, int], first: str
) -> None:
    dana, sam = replies
    start = snapshot(workspace)
    decide(workspace, dana, "interest", "a")
    decide(workspace, sam, "not-interested", "b")

    second = "b" if first == "a" else "a"
    undo(workspace, first)
    undo(workspace, second)
    assert_restored(start, snapshot(workspace))


def test_b_first_then_a_undone_in_order(workspace: Workspace, replies: tuple[int, int]) -> None:
    dana, sam = replies
    start = snapshot(workspace)
    decide(workspace, sam, "interest", "rep")
    middle = snapshot(workspace)
    decide(workspace, dana, "referral", "rep", referrals=JANE)
    undo(workspace, "rep")
    assert_restored(middle, snapshot(workspace))
    undo(workspace, "rep")
    assert_restored(start, snapshot(workspace))


def test_deleted_rows_come_back_with_their_ids(
    workspace: Workspace, replies: tuple[int, int]
) -> None:
    """A referral enrols Jane; relabelling deletes her; undoing that brings back the same rows."""
    dana, sam = replies
    decide(workspace, dana, "referral", "rep", referrals=JANE)
    referred = snapshot(workspace)
    jane = next(p for p in referred["prospect"].values() if p["email"].startswith("jane"))
    decide(workspace, dana, "not-interested", "rep")
    assert jane["id"] not in snapshot(workspace)["prospect"]
    decide(workspace, sam, "interest", "rep")

    undo(workspace, "rep")
    undo(workspace, "rep")
    after = snapshot(workspace)
    assert after["prospect"][jane["id"]] == jane
    assert_restored(referred, after)


def test_account_stays_paused_after_undo_when_a_colleague_was_decided_since(
    workspace: Workspace, replies: tuple[int, int]
) -> None:
    """The case a re-run got wrong: Sam's reply stopped him, so re-running Dana's not-interested
    found nobody to pause and left the account unpaused."""
    dana, _ = replies
    assert workspace.get(Account, workspace.ids["account"]).paused is True
    start = snapshot(workspace)
    decide(workspace, dana, "interest", "rep")
    undo(workspace, "rep")
    assert workspace.get(Account, workspace.ids["account"]).paused is True
    sam = workspace.get(Enrollment, workspace.ids["sam_enrollment"])
    assert sam.status is EnrollmentStatus.STOPPED
    assert_restored(start, snapshot(workspace))


def test_the_undo_is_in_the_event_log(workspace: Workspace, replies: tuple[int, int]) -> None:
    dana, _ = replies
    decide(workspace, dana, "interest", "rep")
    undo(workspace, "rep")
    with Session(workspace.engine) as session:
        record = session.exec(
            select(Event).where(Event.kind == EventKind.UNDO_REVIEW).order_by(col(Event.id))
        ).one()
    assert record.actor == "rep" and record.inbound_id == dana
    assert record.data["redone"] and record.data["undone"] and record.data["notes"] == []


def test_redo_twice_changes_nothing_more(workspace: Workspace, replies: tuple[int, int]) -> None:
    """Undoing a relabel leaves the old application live: applying it again is a no-op."""
    from engine.replies import apply_actions

    dana, _ = replies
    decide(workspace, dana, "interest", "rep")
    undo(workspace, "rep")
    restored = snapshot(workspace)
    with Session(workspace.engine) as session:
        result = apply_actions(session, dana, workspace.settings, now=workspace.clock.now())
        session.commit()
    assert result.already_applied
    assert snapshot(workspace) == restored


def test_same_reply_decided_by_two_reviewers_is_undone_latest_first(
    workspace: Workspace, replies: tuple[int, int]
) -> None:
    dana, _ = replies
    start = snapshot(workspace)
    decide(workspace, dana, "interest", "a")
    middle = snapshot(workspace)
    decide(workspace, dana, "not-now", "b")
    with pytest.raises(ReviewError, match="decided again"):
        undo(workspace, "a")
    undo(workspace, "b")
    assert_restored(middle, snapshot(workspace))
    undo(workspace, "a")
    assert_restored(start, snapshot(workspace))
