"""Webhooks against a real HTTP server on loopback: signature, retries, deadline, dead receivers."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from engine.clock import FastClock, FixedClock
from engine.config import Config, Secret, Webhook
from engine.demo.world import open_world
from engine.harness.scenario import scenario_from
from engine.service.daemon import Daemon
from engine.service.runtime import RuntimeOptions, build_runtime
from engine.service.webhooks import WebhookSender
from engine.store.db import session_scope
from engine.store.events import EventKind
from engine.store.jobs import RetryPolicy
from engine.store.models import Event

START = datetime(2025, 3, 5, 12, 0, tzinfo=UTC)
SECRET = "whsec-test-0123"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP server recording POSTs; it answers a path with its next scripted status, or 200."""

    answers: dict[str, list[int]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def url(self, path: str = "/hook") -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append(Received(self.path, dict(self.headers.items()), body))
            script = state.answers.get(self.path, [])
            status = script.pop(0) if script else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    state.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=state.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield state
    state.server.shutdown()
    state.server.server_close()


def pending(engine: Engine, name: str = "interest", at: datetime = START) -> int:
    with session_scope(engine) as session:
        event = Event(
            kind=EventKind.WEBHOOK_PENDING,
            at=at,
            prospect_id=7,
            data={"event": name, "payload": {"prospect": "jane@example.org", "label": name}},
        )
        session.add(event)
        session.flush()
        return event.id or 0


def stored(engine: Engine, event_id: int) -> Event:
    with Session(engine) as session:
        event = session.get(Event, event_id)
        assert event is not None
        return event


def sender(
    engine: Engine, clock: FixedClock, *webhooks: Webhook, timeout: float = 5.0
) -> WebhookSender:
    return WebhookSender(Config(webhooks=list(webhooks)), engine, clock, timeout=timeout)


async def test_delivers_a_signed_post(db_engine: Engine, receiver: Receiver) -> None:
    event_id = pending(db_engine)
    clock = FixedClock(START)
    hook = Webhook(url=receiver.url(), secret=Secret(SECRET))
    assert await sender(db_engine, clock, hook).deliver_due() == 1

    [request] = receiver.received
    assert request.path == "/hook"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Spear-Event"] == "interest"
    assert request.headers["X-Spear-Delivery"] == str(event_id)
    expected = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Spear-Signature"] == f"sha256={expected}"
    assert json.loads(request.body) == {
        "id": event_id,
        "event": "interest",
        "at": "2025-03-05T12:00:00+00:00",
        "data": {"prospect": "jane@example.org", "label": "interest"},
    }
    event = stored(db_engine, event_id)
    assert event.kind == EventKind.WEBHOOK_DELIVERED
    assert event.data["targets"][hook.url]["attempts"] == 1
    # Delivered once: nothing more to do.
    assert await sender(db_engine, clock, hook).deliver_due() == 0
    assert len(receiver.received) == 1


async def test_two_senders_post_an_event_once(db_engine: Engine, receiver: Receiver) -> None:
    event_id = pending(db_engine)
    clock = FixedClock(START)
    hook = Webhook(url=receiver.url())
    daemons = [sender(db_engine, clock, hook) for _ in range(2)]

    settled = await asyncio.gather(*(daemon.deliver_due() for daemon in daemons))

    assert sorted(settled) == [0, 1]
    assert len(receiver.received) == 1
    assert stored(db_engine, event_id).data["targets"][hook.url]["attempts"] == 1


async def test_retries_with_backoff_after_a_500(db_engine: Engine, receiver: Receiver) -> None:
    receiver.answers = {"/hook": [500, 503]}
    event_id = pending(db_engine)
    clock = FixedClock(START)
    webhooks = sender(db_engine, clock, Webhook(url=receiver.url()))

    assert await webhooks.deliver_due() == 0
    event = stored(db_engine, event_id)
    assert event.kind == EventKind.WEBHOOK_PENDING
    target = event.data["targets"][receiver.url()]
    assert (target["attempts"], target["error"]) == (1, "HTTP 500")
    assert event.data["next_attempt_at"] == (START + timedelta(seconds=30)).isoformat()

    clock.fast_forward(seconds=29)
    assert await webhooks.deliver_due() == 0
    assert len(receiver.received) == 1  # not due yet

    clock.fast_forward(seconds=1)
    await webhooks.deliver_due()
    assert (
        stored(db_engine, event_id).data["next_attempt_at"]
        == (
            clock.now() + timedelta(seconds=60)  # doubled
        ).isoformat()
    )

    clock.fast_forward(seconds=60)
    assert await webhooks.deliver_due() == 1
    event = stored(db_engine, event_id)
    assert event.kind == EventKind.WEBHOOK_DELIVERED
    assert event.data["targets"][receiver.url()]["attempts"] == 3
    assert "X-Spear-Signature" not in receiver.received[0].headers  # no secret, no signature


async def test_gives_up_at_the_deadline(db_engine: Engine, receiver: Receiver) -> None:
    receiver.answers = {"/hook": [500] * 10}
    event_id = pending(db_engine)
    clock = FixedClock(START)
    retry = RetryPolicy(first_delay=timedelta(minutes=1), deadline=timedelta(minutes=5))
    webhooks = WebhookSender(
        Config(webhooks=[Webhook(url=receiver.url())]), db_engine, clock, retry=retry
    )
    settled = 0
    for _ in range(10):
        settled += await webhooks.deliver_due()
        clock.fast_forward(minutes=4)
    event = stored(db_engine, event_id)
    assert settled == 1
    assert event.kind == EventKind.WEBHOOK_FAILED
    # Attempts at 0 and 4 minutes; the 2-minute wait after the second would pass the deadline.
    assert event.data["targets"][receiver.url()]["attempts"] == 2
    assert len(receiver.received) == 2


async def test_only_subscribed_webhooks_and_only_unfinished_targets(
    db_engine: Engine, receiver: Receiver
) -> None:
    receiver.answers = {"/b": [500]}
    bounce = pending(db_engine, "bounce")
    clock = FixedClock(START)
    hooks = [
        Webhook(url=receiver.url("/a")),
        Webhook(url=receiver.url("/b")),
        Webhook(url=receiver.url("/c"), events=["interest"]),
    ]
    webhooks = sender(db_engine, clock, *hooks)
    await webhooks.deliver_due()
    assert sorted(r.path for r in receiver.received) == ["/a", "/b"]
    clock.fast_forward(minutes=1)
    assert await webhooks.deliver_due() == 1
    assert sorted(r.path for r in receiver.received) == ["/a", "/b", "/b"]
    assert stored(db_engine, bounce).kind == "webhook.delivered"


async def test_nothing_subscribed_is_skipped(db_engine: Engine) -> None:
    event_id = pending(db_engine, "unsubscribe")
    hook = Webhook(url="http://127.0.0.1:9/never", events=["interest"])
    assert await sender(db_engine, FixedClock(START), hook).deliver_due() == 1
    assert stored(db_engine, event_id).kind == "webhook.skipped"


async def test_a_dead_receiver_never_blocks_the_loop(db_engine: Engine) -> None:
    # A socket that accepts connections (the kernel does, from the backlog) and never answers,
    # and a port where nothing listens at all.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    try:
        event_id = pending(db_engine)
        hooks = [
            Webhook(url=f"http://127.0.0.1:{silent.getsockname()[1]}/hook"),
            Webhook(url=f"http://127.0.0.1:{closed_port}/hook"),
        ]
        webhooks = sender(db_engine, FixedClock(START), *hooks, timeout=0.5)

        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticking = asyncio.create_task(ticker())
        try:
            assert await webhooks.deliver_due() == 0
        finally:
            ticking.cancel()
        assert ticks >= 20  # the loop kept running for the whole half-second time-out
        targets = stored(db_engine, event_id).data["targets"]
        assert "timed out" in targets[hooks[0].url]["error"]
        assert "Refused" in targets[hooks[1].url]["error"]
        assert all(t["status"] == "retrying" for t in targets.values())
    finally:
        silent.close()


async def test_a_stale_claim_is_released(db_engine: Engine, receiver: Receiver) -> None:
    # A sender that crashed after claiming: the event waits, then is delivered by another.
    with session_scope(db_engine) as session:
        event = Event(
            kind=EventKind.WEBHOOK_SENDING,
            at=START,
            data={"event": "referral", "payload": {}, "claimed_at": START.isoformat()},
        )
        session.add(event)
    clock = FixedClock(START + timedelta(minutes=5))
    webhooks = sender(db_engine, clock, Webhook(url=receiver.url()))
    assert await webhooks.deliver_due() == 0
    clock.fast_forward(minutes=5)
    assert await webhooks.deliver_due() == 1
    assert len(receiver.received) == 1


async def test_a_real_interested_reply_reaches_a_signed_webhook(
    tmp_path: Path, receiver: Receiver
) -> None:
    """The whole path, no hand-made event: the running daemon sends the first email over SMTP,
    the prospect answers with interest over IMAP, the reply is classified and acted on, and the
    webhook sender posts it to a receiver that checks the signature."""
    speed = 6 * 3600.0  # six simulated hours a second, as the demo
    clock = FastClock(datetime(2026, 3, 3, 11, 0, tzinfo=UTC), speed)  # a Tuesday morning
    answers = scenario_from(
        {"reply_rate": 1.0, "outcomes": {"interest": 1}, "reply_delay": {"min": "5m", "max": "10m"}}
    )
    world = await open_world(
        tmp_path / "world", clock, prospects=3, scenario=answers, poll_interval_seconds=0.2 * speed
    )
    (world.workdir / "webhook-secret").write_text(SECRET)
    with world.config_path.open("a") as config:
        config.write(
            f"webhooks:\n  - url: {receiver.url()}\n    events: [interest]\n"
            "    secret: {file: webhook-secret}\n"
        )
    options = RuntimeOptions(
        clock=clock,
        worker_id="webhook-e2e",
        speed=speed,
        plan_every=0.1 * speed,
        dispatch_every=0.05 * speed,
        housekeeping_every=0.2 * speed,
    )
    daemon = Daemon(
        lambda: build_runtime(world.config_path, options),
        shutdown_grace=5,
        stopping=options.stopping,
    )
    responder = asyncio.create_task(world.responder.run())
    running = asyncio.create_task(daemon.run())
    try:
        for _ in range(600):
            if receiver.received or running.done():
                break
            await asyncio.sleep(0.1)
    finally:
        daemon.request_stop()
        await running
        responder.cancel()
        await asyncio.gather(responder, return_exceptions=True)
        await world.harness.stop()

    assert receiver.received, "no webhook arrived within a minute"
    request = receiver.received[0]
    expected = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Spear-Signature"] == f"sha256={expected}"
    assert request.headers["X-Spear-Event"] == "interest"
    document = json.loads(request.body)
    assert document["event"] == "interest"
    assert document["data"]["classification"]["label"] == "interest"
    answered = {answer.deliver_to for answer in world.responder.delivered}
    assert document["data"]["prospect"] not in answered  # the prospect, not our own mailbox
    assert "@" in document["data"]["prospect"]
