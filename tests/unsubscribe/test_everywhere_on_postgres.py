"""A one-click unsubscribe on one host stops the message another daemon was about to send, on a
shared PostgreSQL database: the dispatcher reads the list again right before each message."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlmodel import Session, select

from engine.clock import FixedClock
from engine.config import OneClick, Secret
from engine.sending.dispatcher import Dispatcher
from engine.store.db import make_engine, upgrade
from engine.store.models import (
    Enrollment,
    EnrollmentStatus,
    OutboundMessage,
    OutboundStatus,
    Prospect,
    Suppression,
)
from engine.unsubscribe.app import one_click_app, serve
from engine.unsubscribe.tokens import make_token
from tests.sending.support import T0, Sink, port_of, seed_outbox, sink_config, start_sink

pytestmark = pytest.mark.postgres
SECRET = "shared-postgres-one-click-secret"


async def test_one_click_on_one_host_cancels_the_next_send_of_another(
    postgres_url: str, free_port: int
) -> None:
    upgrade(postgres_url)
    web_host, daemon_host = make_engine(postgres_url), make_engine(postgres_url)
    ids = seed_outbox(daemon_host, 2, scheduled_at=T0)
    with Session(daemon_host) as db:
        person0 = db.exec(
            select(Prospect).where(Prospect.email == "person0@prospect.example")
        ).one()
        assert person0.id is not None
        token = make_token(SECRET, person0.id, person0.email)

    settings = OneClick(public_url="https://u.example.com", secret=Secret(SECRET), port=free_port)
    stop = asyncio.Event()
    server = asyncio.create_task(
        serve(one_click_app(web_host, settings, FixedClock(T0)), settings, stop)
    )
    sink = Sink()
    smtp = await start_sink(sink)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.port}") as client:
            for _ in range(100):
                try:
                    response = await client.post(
                        f"/u/{token}", data={"List-Unsubscribe": "One-Click"}
                    )
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        assert response.status_code == 200
        with Session(daemon_host) as db:
            # Suppression alone must hold: as if another daemon had just re-activated the cadence.
            stopped = db.exec(select(Enrollment).where(Enrollment.prospect_id == person0.id)).one()
            assert stopped.status is EnrollmentStatus.STOPPED
            stopped.status = EnrollmentStatus.ACTIVE
            db.add(stopped)
            db.commit()
        dispatcher = Dispatcher(daemon_host, sink_config(port_of(smtp)), FixedClock(T0), "d2")
        stats = await dispatcher.run_once()
        await dispatcher.close()
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)
        smtp.close()
    assert (stats.cancelled, stats.sent) == (1, 1)
    assert [b"To: P1 <person1@prospect.example>" in m for m in sink.messages] == [True]
    with Session(daemon_host) as db:
        cancelled = db.get(OutboundMessage, ids[0])
    assert cancelled is not None and cancelled.status is OutboundStatus.CANCELLED
    assert "suppressed" in (cancelled.error or "")
    web_host.dispose()
    daemon_host.dispose()


async def test_clicks_at_the_same_moment_all_succeed_and_list_once(
    postgres_url: str, free_port: int
) -> None:
    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    seed_outbox(engine, 1, scheduled_at=T0)
    with Session(engine) as db:
        person = db.exec(select(Prospect)).one()
        assert person.id is not None
        token = make_token(SECRET, person.id, person.email)
    settings = OneClick(public_url="https://u.example.com", secret=Secret(SECRET), port=free_port)
    stop = asyncio.Event()
    server = asyncio.create_task(
        serve(one_click_app(engine, settings, FixedClock(T0)), settings, stop)
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.port}") as client:
            for _ in range(100):
                try:
                    await client.get("/")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            clicks = [
                client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"}) for _ in range(8)
            ]
            answers = await asyncio.gather(*clicks)
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)
    assert [a.status_code for a in answers] == [200] * 8
    with Session(engine) as db:
        assert [s.value for s in db.exec(select(Suppression))] == [person.email]
    engine.dispose()
