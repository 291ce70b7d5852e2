"""The queue page's filters, counts and pages, over real HTTP."""

from __future__ import annotations

import re

import pytest
from review.conftest import Workspace
from sqlmodel import Session

from engine.config import Web
from engine.store.models import InboundMessage, InboundStatus
from engine.web import reviewing

from .conftest import Client, Serve, pending_replies


def listed(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-href="/reply/(\d+)', page)]


def test_filters_narrow_the_list_and_counts_stay_per_label(
    serve: Serve, workspace: Workspace
) -> None:
    ids = pending_replies(workspace)
    client = Client(serve(Web()))
    page = client.request("GET", "/queue")[2]
    assert listed(page) == ids
    assert "unclear <b>2</b>" in page and "referral <b>1</b>" in page

    page = client.request("GET", "/queue?label=referral")[2]
    assert listed(page) == [ids[2]]
    assert "unclear <b>2</b>" in page  # the chips count every label under the other filters
    assert listed(client.request("GET", "/queue?label=no-such-label")[2]) == ids
    assert listed(client.request("GET", "/queue?account=ACME.example&cadence=outreach")[2]) == ids
    assert listed(client.request("GET", "/queue?account=other.example")[2]) == []
    assert listed(client.request("GET", "/queue?since=2026-06-02&until=2026-06-02")[2]) == ids
    assert listed(client.request("GET", "/queue?since=2026-06-03")[2]) == []
    assert listed(client.request("GET", "/queue?until=2026-06-01")[2]) == []
    assert listed(client.request("GET", "/queue?since=not-a-date")[2]) == ids


def test_pages(serve: Serve, workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = pending_replies(workspace)
    monkeypatch.setattr(reviewing, "PAGE_SIZE", 3)
    client = Client(serve(Web()))
    first = client.request("GET", "/queue")[2]
    assert listed(first) == ids[:3] and "page 1 of 2" in first
    second = client.request("GET", "/queue?page=2")[2]
    assert listed(second) == ids[3:] and "page 2 of 2" in second
    assert listed(client.request("GET", "/queue?page=99")[2]) == ids[3:]
    assert listed(client.request("GET", "/queue?page=x")[2]) == ids[:3]


def test_the_next_reply_keeps_the_filters(serve: Serve, workspace: Workspace) -> None:
    ids = pending_replies(workspace)
    client = Client(serve(Web()))
    status, headers, _ = client.request("GET", "/queue/next?label=unclear")
    assert (status, headers["location"]) == (303, f"/reply/{ids[0]}?label=unclear")
    _, headers, _ = client.request("GET", f"/queue/next?label=unclear&after={ids[0]}")
    assert headers["location"] == f"/reply/{ids[1]}?label=unclear"
    _, headers, _ = client.request("GET", f"/queue/next?label=unclear&after={ids[1]}")
    assert headers["location"] == "/queue?label=unclear"


def test_an_open_reply_renews_its_lease_and_another_reviewer_cannot(
    serve: Serve, workspace: Workspace
) -> None:
    [item, *_] = pending_replies(workspace)
    url = serve(Web())
    alex, kim = Client(url), Client(url)
    alex_token = alex.csrf(f"/reply/{item}")
    kim.request("POST", "/signin", {"csrf": kim.csrf("/signin"), "name": "kim"})
    kim_token = kim.csrf("/queue")
    assert alex.request("POST", f"/reply/{item}/claim", {"csrf": alex_token})[:3:2] == (
        200,
        "yours",
    )
    status, _, text = kim.request("POST", f"/reply/{item}/claim", {"csrf": kim_token})
    assert (status, text) == (409, "alex is looking at this reply")
    assert kim.request("POST", f"/reply/{item}/claim", {})[0] == 403


def test_a_message_without_a_label_is_counted_and_listed(
    serve: Serve, workspace: Workspace
) -> None:
    ids = pending_replies(workspace)
    with Session(workspace.engine) as session:
        broken = InboundMessage(
            mailbox="alex", raw=b"\xff\xfe not mail", status=InboundStatus.REVIEW, uid=99
        )
        session.add(broken)
        session.commit()
        assert broken.id is not None
        broken_id = broken.id
    client = Client(serve(Web()))
    page = client.request("GET", "/queue")[2]
    assert '<span class="count" id="total">5</span>' in page
    assert sorted(listed(page)) == sorted([*ids, broken_id])
    assert "label-None" not in page and 'chip label-"' not in page
