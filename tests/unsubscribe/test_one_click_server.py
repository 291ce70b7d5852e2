"""The RFC 8058 endpoint under uvicorn on loopback, spoken to with a real HTTP client."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from engine.clock import FixedClock
from engine.config import OneClick, Secret
from engine.store.db import session_scope
from engine.store.models import (
    Enrollment,
    EnrollmentStatus,
    Prospect,
    Suppression,
    SuppressionSource,
)
from engine.unsubscribe.app import MAX_BODY, OneClickError, one_click_app, serve
from engine.unsubscribe.tokens import make_token

SECRET = "one-click-test-secret-0123456789"
NOW = datetime(2026, 6, 2, 10, 0, tzinfo=UTC)
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@dataclass
class Endpoint:
    client: httpx.AsyncClient
    engine: Engine
    dana: int
    sam: int

    def token(self, prospect_id: int, email: str) -> str:
        return make_token(SECRET, prospect_id, email)

    def suppressed(self) -> list[tuple[str, SuppressionSource]]:
        with Session(self.engine) as session:
            return [(s.value, s.source) for s in session.exec(select(Suppression))]


def settings(port: int) -> OneClick:
    return OneClick(public_url="https://u.example.com", secret=Secret(SECRET), port=port)


@pytest_asyncio.fixture
async def endpoint(db_engine: Engine, free_port: int) -> AsyncIterator[Endpoint]:
    with session_scope(db_engine) as session:
        dana = Prospect(email="dana@acme.example")
        sam = Prospect(email="sam@acme.example")
        session.add_all([dana, sam])
        session.flush()
        assert dana.id is not None and sam.id is not None
        session.add(Enrollment(prospect_id=dana.id, cadence="outreach", cadence_version="v1"))
        ids = (dana.id, sam.id)
    one_click = settings(free_port)
    stop = asyncio.Event()
    server = asyncio.create_task(
        serve(one_click_app(db_engine, one_click, FixedClock(NOW)), one_click, stop)
    )
    base = f"http://127.0.0.1:{one_click.port}"
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        for _ in range(100):  # until uvicorn answers
            try:
                await client.get("/")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.05)
        yield Endpoint(client, db_engine, *ids)
    stop.set()
    await asyncio.wait_for(server, 10)


async def test_post_one_click_suppresses_at_once_and_answers_200(endpoint: Endpoint) -> None:
    token = endpoint.token(endpoint.dana, "dana@acme.example")
    response = await endpoint.client.post(f"/u/{token}", data=ONE_CLICK)
    assert response.status_code == 200
    assert endpoint.suppressed() == [("dana@acme.example", SuppressionSource.ONE_CLICK)]
    with Session(endpoint.engine) as session:
        enrollment = session.exec(select(Enrollment)).one()
    assert enrollment.status is EnrollmentStatus.STOPPED
    # A second click (or a retry by the provider) is still a success, and changes nothing.
    again = await endpoint.client.post(f"/u/{token}", data=ONE_CLICK)
    assert again.status_code == 200 and len(endpoint.suppressed()) == 1


async def test_multipart_form_data_is_accepted_too(endpoint: Endpoint) -> None:
    token = endpoint.token(endpoint.sam, "sam@acme.example")
    response = await endpoint.client.post(
        f"/u/{token}", files={"List-Unsubscribe": (None, "One-Click")}
    )
    assert response.status_code == 200
    assert endpoint.suppressed() == [("sam@acme.example", SuppressionSource.ONE_CLICK)]


async def test_get_shows_a_confirm_button_and_unsubscribes_no_one(endpoint: Endpoint) -> None:
    token = endpoint.token(endpoint.dana, "dana@acme.example")
    page = await endpoint.client.get(f"/u/{token}")
    assert page.status_code == 200
    assert '<form method="post">' in page.text and "<button" in page.text
    assert 'name="List-Unsubscribe" value="One-Click"' in page.text
    assert "dana" not in page.text  # a forwarded link shows no one's address
    assert page.headers["cache-control"] == "no-store"
    head = await endpoint.client.head(f"/u/{token}")
    assert head.status_code == 200
    assert endpoint.suppressed() == []


async def test_bad_tokens_get_the_same_bare_400(endpoint: Endpoint) -> None:
    good = endpoint.token(endpoint.dana, "dana@acme.example")
    prospect_id, mac = good.split("-", 1)
    bad = [
        f"{prospect_id}-{mac[::-1]}",  # tampered
        f"{endpoint.sam}-{mac}",  # another recipient's id with Dana's MAC
        make_token("some-other-secret-value", endpoint.dana, "dana@acme.example"),
        "99999-" + mac,  # no such prospect
        "not-a-token",
    ]
    answers = set()
    for token in bad:
        for response in (
            await endpoint.client.post(f"/u/{token}", data=ONE_CLICK),
            await endpoint.client.get(f"/u/{token}"),
        ):
            assert response.status_code == 400
            answers.add(response.text)
    assert answers == {"Bad request\n"}
    assert endpoint.suppressed() == []


async def test_a_post_must_say_one_click_within_a_small_body(endpoint: Endpoint) -> None:
    token = endpoint.token(endpoint.dana, "dana@acme.example")
    for body in (
        {},
        {"List-Unsubscribe": "Maybe"},
        {"List-Unsubscribe": "One-Click", "x": "y" * MAX_BODY},
    ):
        response = await endpoint.client.post(f"/u/{token}", data=body)
        assert response.status_code == 400
    assert endpoint.suppressed() == []
    assert (await endpoint.client.post("/elsewhere", data=ONE_CLICK)).status_code == 404


async def test_a_port_in_use_is_a_one_line_error(endpoint: Endpoint) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        one_click = settings(taken.getsockname()[1])
        app = one_click_app(endpoint.engine, one_click, FixedClock(NOW))
        with pytest.raises(OneClickError, match=r"cannot listen on 127\.0\.0\.1:\d+"):
            await serve(app, one_click, asyncio.Event())
