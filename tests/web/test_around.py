"""The pages around the queue change and show what the CLI's modules do, over real HTTP."""

from __future__ import annotations

from review.conftest import SENDER, Workspace
from sqlmodel import Session, select

from engine.config import MailboxConfig, ServerSettings, TlsMode, Web
from engine.store.models import (
    Account,
    Enrollment,
    EnrollmentStatus,
    Event,
    MailboxState,
    OutboundMessage,
    OutboundStatus,
)
from engine.web.app import Inbox

from .conftest import Client, Serve, pending_replies


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
        [resumed] = session.exec(select(Event).where(Event.kind == "account-resumed")).all()
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


def test_uncertain_rows_are_listed(serve: Serve, workspace: Workspace) -> None:
    client = Client(serve(Web()))
    assert "Nothing uncertain." in client.request("GET", "/outbox")[2]
    with Session(workspace.engine) as session:
        row = session.exec(
            select(OutboundMessage).where(OutboundMessage.to_address == "dana@acme.example")
        ).one()
        row.status = OutboundStatus.UNCERTAIN
        session.add(row)
        session.commit()
    page = client.request("GET", "/outbox")[2]
    assert "dana@acme.example" in page and "Quick question" in page


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
