"""Hand-off emails to the account executive, sent to the local mail harness on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from engine.clock import FixedClock, utc
from engine.config import Config, HandOff, MailboxConfig, ServerSettings, TlsMode
from engine.harness.harness import Harness
from engine.harness.pytest_plugin import HarnessFactory
from engine.replies import undo_actions
from engine.replies.handoff import HandoffSender
from engine.replies.intake import FetchedMessage, Intake
from engine.store.db import session_scope
from engine.store.events import EventKind
from engine.store.models import Event, InboundMessage, InboundStatus

from .conftest import SENDER, World, build_world, reply_settings

EXECUTIVE = "ae@example-sender.com"
INTEREST = (
    "Hi Alex,\r\n\r\nThis sounds interesting. Can we set up a call next week?\r\n\r\n"
    "Dana\r\nVP Sales, Acme"
)


def config_for(port: int, **hand_off: str) -> Config:
    alex = MailboxConfig(
        name="alex",
        address=SENDER,
        display_name="Alex Rep",
        smtp=ServerSettings(host="127.0.0.1", port=port, tls=TlsMode.NONE, timeout=5),
    )
    return Config(mailboxes=[alex], hand_off=HandOff(account_executive=EXECUTIVE, **hand_off))


@pytest.fixture
async def harness(mail_harness_factory: HarnessFactory) -> Harness:
    return await mail_harness_factory({SENDER: "alex-pw", EXECUTIVE: "ae-pw"})


@pytest.fixture
def world(db_engine: Engine, clock: FixedClock) -> World:
    return build_world(
        db_engine, clock, reply_settings(hand_off=HandOff(account_executive=EXECUTIVE))
    )


async def receive(world: World, raw: bytes) -> InboundMessage:
    """Through `Intake`, as the IMAP syncer hands a fetched message over."""
    world.uid += 1
    await Intake(world.engine, world.settings, world.clock)(
        FetchedMessage("alex", "INBOX", 1, world.uid, raw)
    )
    with Session(world.engine) as session:
        return session.exec(select(InboundMessage).where(InboundMessage.uid == world.uid)).one()


def handoff_event(world: World) -> Event:
    [event] = [e for e in world.events(live=False) if e.kind == "handoff.email"]
    return event


@pytest.fixture
async def sender_factory() -> AsyncIterator[list[HandoffSender]]:
    made: list[HandoffSender] = []
    yield made
    for sender in made:
        await sender.close()


def new_sender(made: list[HandoffSender], world: World, config: Config) -> HandoffSender:
    sender = HandoffSender(world.engine, config, world.clock)
    made.append(sender)
    return sender


async def test_interest_reply_reaches_the_account_executive(
    world: World, harness: Harness, sender_factory: list[HandoffSender]
) -> None:
    inbound = await receive(world, world.reply(INTEREST))
    assert inbound.label == "interest" and inbound.status is InboundStatus.APPLIED
    sender = new_sender(sender_factory, world, config_for(harness.smtp_port))

    assert await sender.deliver_due() == 1

    captured = await harness.wait_for_captured(2)
    assert [c.rcpt_tos for c in captured] == [(EXECUTIVE,), (SENDER,)]  # the AE, then the rep
    assert captured[0].read_bytes() == captured[1].read_bytes()
    email = captured[0].parse()
    assert email["To"] == EXECUTIVE and email["Cc"] == SENDER
    assert email["From"] == f"Alex Rep <{SENDER}>"
    assert email["Subject"] == "Hand-off: Dana at Acme is interested"
    body = email.get_content()
    assert "Can we set up a call next week?" in body  # the reply
    assert "Hi Dana" in body  # the message they answered, from the thread below
    assert "Account:  Acme (acme.example)" in body and "Answered: outreach, step ask" in body
    assert body.index("Their reply:") < body.index("the thread") < body.index("we wrote")
    # The AE's own inbox has it.
    assert harness.store.inbox_count(EXECUTIVE) == 1

    event = handoff_event(world)
    assert event.data["status"] == "sent" and event.data["smtp_response"].startswith("250")
    assert event.data["sent_at"] == world.clock.now().isoformat()
    assert event.data["delivered_to"] == [EXECUTIVE, SENDER] and event.data["attempts"] == 1
    # Sent once: a later call has nothing to do.
    assert await sender.deliver_due() == 0
    assert len(harness.captured()) == 2

    # The Cc lands in the rep's polled mailbox: intake knows its own hand-off and ignores it.
    copy = await receive(world, captured[1].read_bytes())
    assert copy.status is InboundStatus.IGNORED and copy.label is None
    assert handoff_event(world).data["status"] == "sent"


async def test_two_daemons_send_one_hand_off_once(
    world: World, harness: Harness, sender_factory: list[HandoffSender]
) -> None:
    await receive(world, world.reply(INTEREST))
    config = config_for(harness.smtp_port)
    daemons = [new_sender(sender_factory, world, config) for _ in range(2)]

    sent = await asyncio.gather(*(daemon.deliver_due() for daemon in daemons))

    assert sorted(sent) == [0, 1]
    assert [c.rcpt_tos for c in harness.captured()] == [(EXECUTIVE,), (SENDER,)]
    assert handoff_event(world).data["attempts"] == 1


async def test_a_hand_off_a_crashed_sender_held_goes_out_when_its_lease_runs_out(
    world: World, harness: Harness, sender_factory: list[HandoffSender]
) -> None:
    await receive(world, world.reply(INTEREST))
    config = config_for(harness.smtp_port)
    crashed = new_sender(sender_factory, world, config)
    assert crashed.jobs.claim(handoff_event(world), world.clock.now()) is not None  # then died
    sender = new_sender(sender_factory, world, config)

    assert await sender.deliver_due() == 0  # the crashed sender's lease still runs
    world.clock.fast_forward(sender.jobs.lease)
    assert await sender.deliver_due() == 1

    assert len(await harness.wait_for_captured(2)) == 2
    data = handoff_event(world).data
    assert data["status"] == "sent" and "claim" not in data and "claimed_at" not in data


async def test_an_undone_hand_off_is_not_sent(
    world: World, harness: Harness, sender_factory: list[HandoffSender]
) -> None:
    inbound = await receive(world, world.reply(INTEREST))
    assert inbound.id is not None
    with session_scope(world.engine) as session:
        undo_actions(session, inbound.id, now=world.clock.now(), actor="reviewer")
    sender = new_sender(sender_factory, world, config_for(harness.smtp_port))

    assert await sender.deliver_due() == 0
    await asyncio.sleep(0.05)
    assert harness.captured() == []
    assert handoff_event(world).data["status"] == "pending"


async def _answer_421(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"421 4.3.2 try again later\r\n")
    await writer.drain()
    writer.close()


async def test_a_temporary_failure_is_retried_on_a_later_call(
    world: World,
    tmp_path: Path,
    sender_factory: list[HandoffSender],
) -> None:
    await receive(world, world.reply(INTEREST))
    busy = await asyncio.start_server(_answer_421, "127.0.0.1", 0)
    port = busy.sockets[0].getsockname()[1]
    sender = new_sender(sender_factory, world, config_for(port))

    assert await sender.deliver_due() == 0
    data = handoff_event(world).data
    assert data["status"] == "pending" and data["attempts"] == 1
    assert "421" in data["error"] and data["next_attempt_at"] > world.clock.now().isoformat()
    assert await sender.deliver_due() == 0  # not due yet: nothing tried
    assert handoff_event(world).data["attempts"] == 1

    busy.close()
    await busy.wait_closed()
    # The server is back on the same port.
    async with Harness(tmp_path / "mail", {EXECUTIVE: "ae-pw"}, smtp_port=port) as harness:
        world.clock.fast_forward(minutes=10)
        assert await sender.deliver_due() == 1
        [to_ae, to_rep] = await harness.wait_for_captured(2)
        assert to_ae.rcpt_tos == (EXECUTIVE,) and to_rep.rcpt_tos == (SENDER,)
    data = handoff_event(world).data
    assert data["status"] == "sent" and data["attempts"] == 2 and data["error"] is None


async def test_gives_up_after_the_deadline(
    world: World, sender_factory: list[HandoffSender]
) -> None:
    await receive(world, world.reply(INTEREST))
    busy = await asyncio.start_server(_answer_421, "127.0.0.1", 0)
    try:
        sender = new_sender(sender_factory, world, config_for(busy.sockets[0].getsockname()[1]))
        for _ in range(40):
            await sender.deliver_due()
            if handoff_event(world).data["status"] != "pending":
                break
            world.clock.fast_forward(hours=2)
    finally:
        busy.close()
        await busy.wait_closed()
    data = handoff_event(world).data
    assert data["status"] == "failed" and data["error"].startswith("gave up after")
    first = handoff_event(world).at
    # Retried every 2 hours (the backoff's longest wait) until the 48-hour deadline.
    assert first is not None and world.clock.now() == utc(first) + timedelta(hours=48)
    assert data["attempts"] == 25


async def test_one_bad_hand_off_does_not_stop_the_others(
    world: World, harness: Harness, sender_factory: list[HandoffSender]
) -> None:
    await receive(world, world.reply(INTEREST))
    good = handoff_event(world)
    with session_scope(world.engine) as session:
        bad = Event(
            at=world.clock.now(),
            kind=EventKind.HANDOFF_EMAIL,
            data={**good.data, "mailbox": "nobody", "to": EXECUTIVE},
        )
        session.add(bad)
        session.flush()
        bad_id = bad.id
    sender = new_sender(sender_factory, world, config_for(harness.smtp_port))

    assert await sender.deliver_due() == 1

    with Session(world.engine) as session:
        failed = session.get(Event, bad_id)
        assert failed is not None
    assert failed.data["status"] == "failed" and "nobody" in failed.data["error"]
    assert handoff_event_by_id(world, good.id).data["status"] == "sent"


def handoff_event_by_id(world: World, event_id: int | None) -> Event:
    event: Event = world.get(Event, event_id)
    return event
