"""`spear queue`, `spear queue export` and `spear review` through click's test runner."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner, Result
from sqlmodel import Session, col, select

from engine.cli import main
from engine.review import claims
from engine.review.session import ReviewSession, Terminal
from engine.store.db import session_scope
from engine.store.models import (
    Account,
    AccountStatus,
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


def spear(workspace: Workspace, *args: str, keys: str | None = None) -> Result:
    result = CliRunner().invoke(
        main, ["--config", str(workspace.config_file), *args], input=keys, catch_exceptions=False
    )
    return result


def decisions(workspace: Workspace) -> list[ReviewDecision]:
    with Session(workspace.engine) as session:
        return list(session.exec(select(ReviewDecision).order_by(col(ReviewDecision.id))).all())


def test_queue_lists_as_a_table_json_and_csv(workspace: Workspace) -> None:
    referral = workspace.receive(REFERRAL_WITHOUT_ADDRESS)
    applied = workspace.receive(NOT_INTERESTED, sender="sam@acme.example", in_reply_to=None)

    table = spear(workspace, "queue")
    assert table.exit_code == 0, table.output
    assert "dana@acme.example" in table.output and "1 item" in table.output

    records = json.loads(spear(workspace, "queue", "--format", "json").output)
    assert [r["id"] for r in records] == [referral]
    everything = json.loads(
        spear(workspace, "queue", "--all", "--days", "100000", "--format", "json").output
    )
    assert [r["id"] for r in everything] == [referral, applied]

    csv_lines = spear(workspace, "queue", "--format", "csv", "--label", "bounce").output
    assert csv_lines.splitlines() == [
        "id,received_at,from,subject,label,confidence,best_guess,reason,status,mailbox,"
        "prospect,account,cadence,step,snippet"
    ]
    assert spear(workspace, "queue", "--account", "other.example").output.strip() == (
        "The review queue is empty."
    )


def test_review_with_a_label_and_accept_for_scripts(workspace: Workspace) -> None:
    item = workspace.receive(NOT_INTERESTED)
    other = workspace.receive(BELOW_THRESHOLD, sender="sam@acme.example", in_reply_to=None)

    result = spear(workspace, "review", str(item), "--label", "interest", "--reviewer", "kim")
    assert result.exit_code == 0, result.output
    assert f"#{item}: not-interested -> interest" in result.output
    assert workspace.get(Account, workspace.ids["account"]).status is AccountStatus.HANDED_OFF

    result = spear(workspace, "review", str(other), "--accept", "--reviewer", "kim")
    assert f"#{other}: unclear -> not-interested" in result.output
    assert workspace.inbound(other).status is InboundStatus.REVIEWED

    assert [(d.reviewer, d.old_label, d.new_label) for d in decisions(workspace)] == [
        ("kim", "not-interested", "interest"),
        ("kim", "unclear", "not-interested"),
    ]
    assert "is back to unclear" in spear(workspace, "review", "--undo", "--reviewer", "kim").output
    assert "is back to not-interested" in (
        spear(workspace, "review", "--undo", "--reviewer", "kim").output
    )
    assert workspace.get(Account, workspace.ids["account"]).status is AccountStatus.ENGAGED


def test_review_with_a_referral_enrols_the_person(workspace: Workspace) -> None:
    item = workspace.receive(REFERRAL_WITHOUT_ADDRESS)
    result = spear(workspace, "review", str(item), "--referral", "Jane Smith <jane@acme.example>")
    assert result.exit_code == 0, result.output
    with Session(workspace.engine) as session:
        jane = session.exec(select(Prospect).where(Prospect.email == "jane@acme.example")).one()
    assert (jane.first_name, jane.last_name, jane.referred_by_id) == (
        "Jane",
        "Smith",
        workspace.ids["dana"],
    )


def test_review_refuses_what_makes_no_sense(workspace: Workspace) -> None:
    item = workspace.receive(NOT_INTERESTED)
    assert spear(workspace, "review", "--label", "interest").exit_code == 2
    assert spear(workspace, "review", str(item), "--accept", "--label", "interest").exit_code == 2
    missing = spear(workspace, "review", "999", "--accept")
    assert missing.exit_code == 1 and "no inbound message 999" in missing.output
    nothing = spear(workspace, "review", "--undo", "--reviewer", "nobody")
    assert nothing.exit_code == 1 and "no decision to undo" in nothing.output


def test_interactive_review_with_line_input(workspace: Workspace) -> None:
    first = workspace.receive(REFERRAL_WITHOUT_ADDRESS)
    second = workspace.receive(UNCLEAR, sender="sam@acme.example", in_reply_to=None)
    before = workspace.snapshot()

    # First reply: help, view raw, edit the referral. Second: relabel as wrong-person (6),
    # then undo it, see it again, skip it, quit.
    keys = "?\nv\ne\nJane Smith <jane@acme.example>\n" + "r\n6\n" + "u\ns\nq\n"
    result = spear(workspace, "review", "--reviewer", "kim", keys=keys)

    assert result.exit_code == 0, result.output
    out = result.output
    assert "1 of 2" in out and "Answers:  outreach/ask" in out
    assert "press e to add one" in out  # what accepting a referral without an address does
    assert "Message-ID: <reply-1@acme.example>" in out  # the raw view
    assert f"#{first}: referral -> referral (saved)" in out
    assert f"#{second}: unclear -> wrong-person (saved)" in out
    assert f"Undone: #{second} is back to unclear" in out
    # The undone decision no longer counts, and the reply is still the second of two.
    assert "Done: 0 accepted, 1 relabelled, 1 skipped, 1 undone." in out
    assert out.count("── 2 of 2 ──") == 2 and "of 3" not in out
    [decision] = [d for d in decisions(workspace) if d.undone_at is None]
    assert decision.inbound_id == first and decision.reviewer == "kim"
    assert workspace.inbound(second) == before_row(before, second)


def before_row(snapshot: dict[str, list[dict[str, object]]], inbound_id: int) -> object:
    from engine.store.models import InboundMessage

    [row] = [r for r in snapshot["inbound"] if r["id"] == inbound_id]
    return InboundMessage(**row)


def test_export_writes_json_lines(workspace: Workspace, tmp_path: Path) -> None:
    item = workspace.receive(NOT_INTERESTED)
    spear(workspace, "review", str(item), "--label", "interest", "--reviewer", "kim")
    target = tmp_path / "labelled.jsonl"

    result = spear(workspace, "queue", "export", "--output", str(target))

    assert result.exit_code == 0 and "Wrote 1 labelled reply" in result.output
    [line] = target.read_text().splitlines()
    example = json.loads(line)
    assert (example["classifier_label"], example["label"]) == ("not-interested", "interest")
    assert "we are not interested" in example["raw"]
    stdout = spear(workspace, "queue", "export", "--since", "2999-01-01").output
    assert stdout == ""


def test_a_label_that_needs_a_detail_asks_for_it(workspace: Workspace) -> None:
    # Without a date nurture never starts; without a person nobody is enrolled.
    later = workspace.receive(UNCLEAR)
    referred = workspace.receive(UNCLEAR, sender="sam@acme.example", in_reply_to=None)
    keys = "r\n3\nsoon\n2026-09-01\n" + "r\n1\nJane Smith <jane@acme.example>\n" + "q\n"
    result = spear(workspace, "review", "--reviewer", "kim", keys=keys)

    assert result.exit_code == 0, result.output
    out = result.output
    assert "When to write again? (YYYY-MM-DD; empty to cancel)" in out
    assert "not a date (YYYY-MM-DD): 'soon'" in out  # asked again, not given up
    assert f"#{later}: unclear -> not-now (saved)" in out
    assert "Who did they refer you to?" in out
    assert f"#{referred}: unclear -> referral (saved)" in out
    assert workspace.inbound(later).classification["resume_after"] == "2026-09-01"
    assert workspace.inbound(referred).classification["referrals"][0]["email"] == (
        "jane@acme.example"
    )


def test_accepting_a_not_now_without_a_date_asks_for_one(workspace: Workspace) -> None:
    not_now = workspace.receive("Not right now, thanks. We are busy with other projects.")
    assert workspace.inbound(not_now).label == "not-now"
    result = spear(workspace, "review", "--reviewer", "kim", keys="a\n2026-10-05\nq\n")
    assert result.exit_code == 0, result.output
    assert "When to write again?" in result.output
    assert workspace.inbound(not_now).classification["resume_after"] == "2026-10-05"
    assert "Done: 1 accepted" in result.output


def test_the_terminal_passes_over_a_reply_open_elsewhere_and_holds_the_one_it_shows(
    workspace: Workspace,
) -> None:
    held = workspace.receive(UNCLEAR)
    mine = workspace.receive(BELOW_THRESHOLD, sender="sam@acme.example", in_reply_to=None)
    with session_scope(workspace.engine) as session:  # alex has it open in the web inbox
        assert claims.claim(session, held, "alex", datetime.now(UTC)) is None

    seen_by_alex: list[str | None] = []

    def key() -> str:
        if seen_by_alex:
            return "q"
        # While kim's terminal shows the second reply, the web inbox cannot take it.
        with session_scope(workspace.engine) as session:
            seen_by_alex.append(claims.claim(session, mine, "alex", datetime.now(UTC)))
        return "a"

    out: list[str] = []
    ReviewSession(
        workspace.engine,
        workspace.settings,
        Terminal(read_key=key, read_line=lambda _: "", write=out.append),
        reviewer="kim",
        now=lambda: datetime.now(UTC),
    ).run()

    text = "\n".join(out)
    assert f"#{held}: alex is looking at this reply; passed over." in text
    assert f"#{mine}: " in text and "(saved)" in text
    assert seen_by_alex == ["kim"]
    assert [d.inbound_id for d in decisions(workspace)] == [mine]
    assert workspace.inbound(held).status == InboundStatus.REVIEW
    with session_scope(workspace.engine) as session:  # given back once decided
        assert claims.holder(session, mine, datetime.now(UTC)) is None
