"""The pages around the queue change and show what the CLI's modules do, over real HTTP."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from click.testing import CliRunner
from replies.acme import START
from review.conftest import SENDER, Workspace
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from engine.cli import main
from engine.clock import utc
from engine.config import MailboxConfig, ServerSettings, TlsMode, Web
from engine.replies import ReplySettings
from engine.store.events import EventKind
from engine.store.models import (
    Account,
    Enrollment,
    EnrollmentStatus,
    Event,
    MailboxState,
    OutboundMessage,
    OutboundStatus,
    Prospect,
    Task,
    TaskStatus,
)
from engine.web.app import Inbox
from tests.tasks.support import build, cadence

from .conftest import Client, Serve, pending_replies, running

HANDED_OVER = START - timedelta(minutes=5)  # when the dead dispatcher gave the server the body


def test_accounts_search_show_pause_and_resume(serve: Serve, workspace: Workspace) -> None:
    pending_replies(workspace)  # Dana replied: Acme is paused, Sam waits
    client = Client(serve(Web()))
    with Session(workspace.engine) as session:
        acme = session.get(Account, workspace.ids["account"])
        assert acme is not None and acme.paused
        acme.name = "<script>alert(1)</script> Acme"
        session.add(acme)
        session.commit()

    status, _, page = client.request("GET", "/accounts?q=sam")
    assert status == 200 and "sam@acme.example" in page
    page = client.request("GET", "/accounts")[2]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Acme" in page and "<script>alert" not in page
    page = client.request("GET", "/accounts/ACME.example")[2]
    assert "paused (account paused: reply from dana@acme.example)" in page

    token = client.csrf("/accounts/acme.example")
    assert client.request("POST", "/accounts/acme.example/resume", {})[0] == 403
    status, headers, _ = client.request("POST", "/accounts/acme.example/resume", {"csrf": token})
    assert (status, headers["location"]) == (303, "/accounts/acme.example")
    assert "Resumed acme.example: 1 enrollments go on" in client.request("GET", "/accounts")[2]
    with Session(workspace.engine) as session:
        sam = session.get(Enrollment, workspace.ids["sam_enrollment"])
        assert sam is not None and sam.status is EnrollmentStatus.ACTIVE
        [resumed] = session.exec(select(Event).where(Event.kind == EventKind.ACCOUNT_RESUMED)).all()
        assert resumed.actor == "alex"

    client.request("POST", "/accounts/acme.example/pause", {"csrf": token, "reason": "trade show"})
    with Session(workspace.engine) as session:
        acme = session.get(Account, workspace.ids["account"])
        sam = session.get(Enrollment, workspace.ids["sam_enrollment"])
        assert acme is not None and acme.paused
        assert sam is not None and sam.status is EnrollmentStatus.PAUSED


def test_mailboxes_pause_and_resume(serve: Serve, inbox: Inbox, workspace: Workspace) -> None:
    alex = MailboxConfig(
        name="alex",
        address=SENDER,
        smtp=ServerSettings(host="127.0.0.1", port=2525, tls=TlsMode.NONE),
        daily_cap=40,
    )
    inbox.config = inbox.config.model_copy(update={"mailboxes": [alex]})
    client = Client(serve(Web()))
    page = client.request("GET", "/mailboxes")[2]
    assert SENDER in page and ">40<" in page
    token = client.csrf("/mailboxes")
    client.request("POST", "/mailboxes/alex/pause", {"csrf": token, "reason": "<b>spam</b>"})
    page = client.request("GET", "/mailboxes")[2]
    assert "<b>paused</b>: &lt;b&gt;spam&lt;/b&gt;" in page
    with Session(workspace.engine) as session:
        state = session.get(MailboxState, "alex")
        assert state is not None and state.paused and state.paused_reason == "<b>spam</b>"
    client.request("POST", "/mailboxes/alex/resume", {"csrf": token})
    with Session(workspace.engine) as session:
        state = session.get(MailboxState, "alex")
        assert state is not None and not state.paused


def make_uncertain(workspace: Workspace, to_address: str) -> int:
    """The first email to `to_address`, left as a dispatcher that died during DATA leaves it."""
    with Session(workspace.engine) as session:
        row = session.exec(
            select(OutboundMessage).where(OutboundMessage.to_address == to_address)
        ).one()
        row.status = OutboundStatus.UNCERTAIN
        row.sent_at = None
        row.claimed_by = "worker-1"
        row.claimed_at = HANDED_OVER
        row.error = "<b>connection dropped</b> during DATA"
        session.add(row)
        session.commit()
        return row.id or 0


def settled_record(
    workspace: Workspace, row_id: int, enrollment_id: int
) -> tuple[OutboundStatus, datetime | None, EnrollmentStatus, int, dict[str, object], str]:
    """What settling left: the row, its enrollment, and the `send-settled` event."""
    with Session(workspace.engine) as session:
        row = session.get(OutboundMessage, row_id)
        enrollment = session.get(Enrollment, enrollment_id)
        [event] = session.exec(
            select(Event).where(Event.kind == EventKind.SEND_SETTLED, Event.outbound_id == row_id)
        ).all()
        assert row is not None and enrollment is not None
        sent_at = utc(row.sent_at) if row.sent_at else None
        return (
            row.status,
            sent_at,
            enrollment.status,
            enrollment.steps_sent,
            event.data,
            event.actor,
        )


def settle_on_page(client: Client, row_id: int, outcome: str) -> str:
    """Press the row's button on the outbox page; the page it comes back to."""
    token = client.csrf("/outbox")
    form = {"csrf": token, "outcome": outcome}
    status, headers, _ = client.request("POST", f"/outbox/{row_id}/settle", form)
    assert (status, headers["location"]) == (303, "/outbox")
    return client.request("GET", "/outbox")[2]


def test_uncertain_rows_are_listed(serve: Serve, workspace: Workspace) -> None:
    client = Client(serve(Web()))
    assert "Nothing uncertain." in client.request("GET", "/outbox")[2]
    row_id = make_uncertain(workspace, "dana@acme.example")
    page = client.request("GET", "/outbox")[2]
    assert "dana@acme.example" in page and "Quick question" in page and "worker-1" in page
    assert (
        "&lt;b&gt;connection dropped&lt;/b&gt; during DATA" in page and "<b>connection" not in page
    )
    assert f'action="/outbox/{row_id}/settle"' in page


def test_settled_sent_on_the_page_is_what_the_cli_records(
    serve: Serve, workspace: Workspace
) -> None:
    client = Client(serve(Web()))
    dana_row = make_uncertain(workspace, "dana@acme.example")
    sam_row = make_uncertain(workspace, "sam@acme.example")

    page = settle_on_page(client, dana_row, "sent")
    assert f"outbox row {dana_row}: settled sent, now sent; enrollment active" in page
    assert "dana@acme.example" not in page and "sam@acme.example" in page
    cli = ["--config", str(workspace.config_file), "outbox", "settle", str(sam_row), "--sent"]
    done = CliRunner().invoke(main, cli)
    assert done.exit_code == 0, done.output

    on_page = settled_record(workspace, dana_row, workspace.ids["dana_enrollment"])
    by_cli = settled_record(workspace, sam_row, workspace.ids["sam_enrollment"])
    # Sent when it was handed to the server; the step counts and the cadence goes on.
    assert on_page[:5] == (
        OutboundStatus.SENT,
        HANDED_OVER,
        EnrollmentStatus.ACTIVE,
        1,
        {"outcome": "sent", "step_id": "ask"},
    )
    assert on_page[:5] == by_cli[:5]
    assert (on_page[5], by_cli[5]) == ("alex", "cli")
    with Session(workspace.engine) as session:
        dana = session.get(Enrollment, workspace.ids["dana_enrollment"])
        assert dana is not None and dana.next_due_at is not None
        assert utc(dana.next_due_at) == START  # the next step's wait counts from now

    # Settled already: a second press is refused in one line.
    page = settle_on_page(client, dana_row, "not-sent")
    assert f"Not done: outbox row {dana_row} is sent, not uncertain." in page
    assert "Traceback" not in page


def test_settled_not_sent_on_the_page_goes_back_to_the_queue(
    serve: Serve, workspace: Workspace
) -> None:
    client = Client(serve(Web()))
    row_id = make_uncertain(workspace, "dana@acme.example")

    page = settle_on_page(client, row_id, "not-sent")
    assert f"outbox row {row_id}: settled not-sent, now planned; enrollment active" in page
    assert "Nothing uncertain." in page
    record = settled_record(workspace, row_id, workspace.ids["dana_enrollment"])
    assert record[2:] == (
        EnrollmentStatus.ACTIVE,
        0,
        {"outcome": "not-sent", "step_id": "ask"},
        "alex",
    )
    with Session(workspace.engine) as session:
        row = session.get(OutboundMessage, row_id)
        assert row is not None and row.status is OutboundStatus.PLANNED
        assert (row.claimed_by, row.claimed_at, row.error) == (None, None, None)
        # Missed its window as of now: the planner re-slots it into the next allowed slot.
        assert row.send_before is not None and utc(row.send_before) == START


def test_settling_needs_the_csrf_token_a_known_row_and_an_outcome(
    serve: Serve, workspace: Workspace
) -> None:
    client = Client(serve(Web()))
    row_id = make_uncertain(workspace, "dana@acme.example")
    token = client.csrf("/outbox")

    refused = client.request("POST", f"/outbox/{row_id}/settle", {"outcome": "sent"})
    assert refused[0] == 403
    forged = {"csrf": "forged", "outcome": "sent"}
    assert client.request("POST", f"/outbox/{row_id}/settle", forged)[0] == 403
    unknown = {"csrf": token, "outcome": "maybe"}
    assert client.request("POST", f"/outbox/{row_id}/settle", unknown)[0] == 400
    with Session(workspace.engine) as session:
        row = session.get(OutboundMessage, row_id)
        assert row is not None and row.status is OutboundStatus.UNCERTAIN

    page = settle_on_page(client, 9999, "sent")
    assert "Not done: no outbox row 9999." in page and "Traceback" not in page


def test_the_report_draws_the_weekly_trend_and_the_forecast(
    serve: Serve, workspace: Workspace
) -> None:
    pending_replies(workspace)
    client = Client(serve(Web()))
    status, _, page = client.request("GET", "/report?since=2026-05-25&until=2026-06-14")
    assert status == 200
    assert '<svg class="chart"' in page and "2026-W23: 2 sent, 1 replied" in page
    assert "qualified leads in 13 days" in page
    assert client.request("GET", "/report?since=2026-06-14&until=2026-05-25")[0] == 400


def test_tasks_page_records_an_outcome_as_the_cli_does(db_engine: Engine) -> None:
    world = build(db_engine)
    assert world.planner.plan_due().tasks == 1  # the call step becomes a task for Robin
    world.clock.fast_forward(hours=1)  # the morning window in New York: the call is due
    with Session(db_engine) as session:
        prospect = session.get(Prospect, world.prospect_id)
        assert prospect is not None
        prospect.first_name = "<b>Pat</b>"  # anything from a spreadsheet is escaped
        session.add(prospect)
        session.commit()
    settings = ReplySettings.from_config(world.config, {"call-first": cadence()})
    inbox = Inbox(db_engine, world.config, settings, world.clock, default_reviewer="robin")
    with running(inbox) as url:
        client = Client(url)
        page = client.request("GET", "/tasks")[2]
        [task_id] = [int(n) for n in re.findall(r'action="/tasks/(\d+)/done"', page)]
        assert "+1 212 555 0100" in page and "Ask who owns the forecast at Acme." in page
        assert "&lt;b&gt;Pat&lt;/b&gt;" in page and "<b>Pat</b>" not in page
        assert "No task is due." in client.request("GET", "/tasks?owner=somebody-else")[2]

        token = client.csrf("/tasks")
        form = {"csrf": token, "outcome": "rejected", "note": "said no thanks"}
        assert client.request("POST", f"/tasks/{task_id}/done", {"outcome": "x"})[0] == 403
        status, headers, _ = client.request("POST", f"/tasks/{task_id}/done", form)
        assert (status, headers.get("location")) == (303, "/tasks"), (status, _)
        page = client.request("GET", "/tasks")[2]
    assert f"task {task_id}: " in page and "enrollment stopped" in page
    assert "No task is due." in page
    with Session(db_engine) as session:
        task = session.get(Task, task_id)
        enrollment = session.get(Enrollment, world.enrollment_id)
        assert task is not None and enrollment is not None
        assert (task.status, task.outcome, task.note, task.done_by) == (
            TaskStatus.DONE,
            "rejected",
            "said no thanks",
            "robin",
        )
        assert enrollment.status is EnrollmentStatus.STOPPED
