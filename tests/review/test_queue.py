"""What the queue lists, its filters, one query for the whole list, and its three formats."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from engine.review.formatting import format_csv, format_json, format_table
from engine.review.queue import QueueFilter, get_item, list_queue, reply_text
from engine.review.session import parse_edit
from engine.store.models import InboundMessage

from .conftest import (
    BELOW_THRESHOLD,
    INTEREST,
    OUT_OF_OFFICE,
    REFERRAL_WITHOUT_ADDRESS,
    UNCLEAR,
    Workspace,
)


def queued(workspace: Workspace, **filters: Any) -> list[int]:
    with Session(workspace.engine) as session:
        items = list_queue(session, QueueFilter(**filters), workspace.clock.now())
    return [item.id for item in items]


def fill(workspace: Workspace) -> dict[str, int]:
    ids = {"applied": workspace.receive(INTEREST)}
    workspace.clock.fast_forward(hours=1)
    ids["below"] = workspace.receive(BELOW_THRESHOLD, sender="sam@acme.example", in_reply_to=None)
    workspace.clock.fast_forward(hours=1)
    ids["referral"] = workspace.receive(REFERRAL_WITHOUT_ADDRESS)
    workspace.clock.fast_forward(hours=1)
    ids["ooo"] = workspace.receive(
        OUT_OF_OFFICE, subject="Automatic reply", headers="Auto-Submitted: auto-replied\r\n"
    )
    workspace.clock.fast_forward(hours=1)
    ids["unmatched"] = workspace.receive(
        UNCLEAR, sender="kim@elsewhere.example", in_reply_to=None, mailbox="blake"
    )
    return ids


def test_the_queue_holds_what_needs_a_person_oldest_first(workspace: Workspace) -> None:
    ids = fill(workspace)
    assert queued(workspace) == [ids["below"], ids["referral"], ids["ooo"], ids["unmatched"]]
    assert queued(workspace, include_applied_days=1) == [ids["applied"], *queued(workspace)]
    workspace.clock.fast_forward(days=3)
    assert ids["applied"] not in queued(workspace, include_applied_days=2)


def test_items_carry_what_a_reviewer_needs(workspace: Workspace) -> None:
    ids = fill(workspace)
    with Session(workspace.engine) as session:
        items = {i.id: i for i in list_queue(session, QueueFilter(), workspace.clock.now())}
    referral = items[ids["referral"]]
    assert (referral.cadence, referral.step, referral.account) == (
        "outreach",
        "ask",
        "acme.example",
    )
    assert referral.prospect_email == "dana@acme.example" and referral.mailbox == "alex"
    assert referral.reason and "referral without an address" in referral.reason
    assert referral.snippet.startswith("Hi Alex, you should talk to Jane Smith")
    below = items[ids["below"]]
    assert (below.label, below.best_guess, below.proposed_label) == (
        "unclear",
        "not-interested",
        "not-interested",
    )
    # Matched by sender: the email he answers is the last one sent to him.
    assert below.cadence == "outreach" and below.step == "ask"
    unmatched = items[ids["unmatched"]]
    assert unmatched.prospect_email is None and unmatched.cadence is None
    assert unmatched.reason and "unmatched" in unmatched.reason
    assert "bob.backup@acme.example" in (items[ids["ooo"]].reason or "")


def test_filters(workspace: Workspace) -> None:
    ids = fill(workspace)
    assert queued(workspace, labels=("auto-reply",)) == [ids["ooo"]]
    assert queued(workspace, labels=("unclear", "referral")) == [
        ids["below"],
        ids["referral"],
        ids["unmatched"],
    ]
    assert queued(workspace, mailbox="blake") == [ids["unmatched"]]
    assert queued(workspace, cadence="outreach") == [ids["below"], ids["referral"], ids["ooo"]]
    assert queued(workspace, cadence="nurture") == []
    assert queued(workspace, account="ACME.example") == [ids["below"], ids["referral"], ids["ooo"]]
    with Session(workspace.engine) as session:
        received = get_item(session, ids["referral"]).received_at
    assert received is not None
    assert queued(workspace, since=received) == [ids["referral"], ids["ooo"], ids["unmatched"]]
    assert queued(workspace, until=received) == [ids["below"]]
    assert queued(workspace, since=received, until=received + timedelta(minutes=1)) == [
        ids["referral"]
    ]


def test_the_list_is_one_query_whatever_its_length(workspace: Workspace) -> None:
    fill(workspace)
    with Session(workspace.engine) as session, counted(workspace.engine) as statements:
        items = list_queue(session, QueueFilter(include_applied_days=30), workspace.clock.now())
    assert len(items) == 5 and len(statements) == 1
    assert "raw" not in statements[0].split("FROM")[0]  # the raw message is never loaded


def test_reply_text_is_computed_for_rows_stored_without_it(workspace: Workspace) -> None:
    item_id = workspace.receive(REFERRAL_WITHOUT_ADDRESS)
    with Session(workspace.engine) as session:
        row = session.get(InboundMessage, item_id)
        assert row is not None
        row.classification = {k: v for k, v in row.classification.items() if k != "reply_text"}
        session.add(row)
        session.commit()
        item = get_item(session, item_id)
        assert item.reply_text is None and item.snippet == ""
        assert reply_text(session, item).startswith("Hi Alex, you should talk to Jane Smith")


def test_formats(workspace: Workspace) -> None:
    ids = fill(workspace)
    with Session(workspace.engine) as session:
        items = list_queue(session, QueueFilter(), workspace.clock.now())

    table = format_table(items).splitlines()
    assert table[0].split()[:4] == ["ID", "RECEIVED", "FROM", "ACCOUNT"]
    assert len(table) == 1 + len(items) + 1 and table[-1] == "4 items"
    assert "unclear 0.20 (not-interested?)" in table[1]
    assert format_table([]) == "The review queue is empty."

    records = json.loads(format_json(items))
    assert [r["id"] for r in records] == [i.id for i in items]
    assert records[0]["best_guess"] == "not-interested" and records[0]["cadence"] == "outreach"

    rows = list(csv.DictReader(io.StringIO(format_csv(items))))
    assert [int(r["id"]) for r in rows] == [i.id for i in items]
    assert rows[-1]["mailbox"] == "blake" and int(rows[1]["id"]) == ids["referral"]


def test_parse_edit() -> None:
    edit = parse_edit("Jane Smith <Jane@Acme.example>, bob@acme.example", "unclear")
    assert edit.label == "referral" and edit.referrals is not None
    assert [(r.name, r.email) for r in edit.referrals] == [
        ("Jane Smith", "jane@acme.example"),
        (None, "bob@acme.example"),
    ]
    assert parse_edit("2026-09-01", "unclear").resume_after is not None
    assert parse_edit("2026-09-01", "not-now").label == "not-now"
    auto = parse_edit("2026-06-20", "auto-reply")
    assert auto.label == "auto-reply" and auto.return_date is not None
    for bad in ("Jane Smith", "next week"):
        try:
            parse_edit(bad, "referral")
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
