"""Uncertain is a stop: nothing follows an uncertain step until a person settles it.

The real planner and dispatcher against an aiosmtpd sink that drops the connection while it
answers the message body, so the client cannot know whether the message was accepted.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from engine.clock import FixedClock, utc
from engine.errors import SpearError
from engine.sending.dispatcher import Dispatcher
from engine.sending.planner import Planner
from engine.sending.uncertain import Settlement, settle, uncertain_rows
from engine.store.models import Enrollment, EnrollmentStatus, OutboundMessage

from .support import (
    T0,
    Sink,
    enrol,
    port_of,
    seed_outbox,
    sink_config,
    start_sink,
    statuses,
    two_mailboxes,
)


@pytest.fixture
async def sink() -> AsyncIterator[tuple[Sink, int]]:
    handler = Sink()
    server = await start_sink(handler)
    yield handler, port_of(server)
    server.close()


def outbox(engine: Engine) -> list[OutboundMessage]:
    with Session(engine) as db:
        return list(db.exec(select(OutboundMessage).order_by(OutboundMessage.id)))  # type: ignore[arg-type]


async def send_first_step_uncertain(
    engine: Engine, sink: Sink, port: int
) -> tuple[FixedClock, Planner, Dispatcher, int]:
    clock = FixedClock(T0 - timedelta(hours=2))  # Tuesday 05:00 in New York
    [enrollment_id] = enrol(engine, 1, clock)
    config = two_mailboxes(port)
    planner = Planner(engine, config, clock, random.Random(1))
    assert planner.plan_due().planned == 1
    [first] = outbox(engine)
    clock.set(utc(first.scheduled_at))  # type: ignore[arg-type]
    sink.data_answers = ["drop"]
    dispatcher = Dispatcher(engine, config, clock, worker_id="worker-1")
    assert (await dispatcher.run_once()).uncertain == 1
    return clock, planner, dispatcher, enrollment_id


async def test_no_step_follows_an_uncertain_one_until_settled_sent(
    db_engine: Engine, sink: tuple[Sink, int]
) -> None:
    handler, port = sink
    clock, planner, dispatcher, enrollment_id = await send_first_step_uncertain(
        db_engine, handler, port
    )
    [first] = outbox(db_engine)
    # Days later, the follow-up is long due: it waits for the uncertain step.
    clock.fast_forward(days=5)
    assert planner.plan_due().deferred == 1
    assert len(outbox(db_engine)) == 1

    with Session(db_engine) as db:
        [listed] = uncertain_rows(db)
    assert (listed.id, listed.to_address, listed.worker) == (
        first.id,
        "p0@acme.example",
        "worker-1",
    )
    assert listed.when is not None and "during DATA" in (listed.error or "")

    with Session(db_engine) as db:
        settled = settle(db, listed.id, Settlement.SENT, clock.now())
        db.commit()
    assert settled.status.value == "sent"
    with Session(db_engine) as db:
        enrollment = db.get(Enrollment, enrollment_id)
        assert enrollment is not None and enrollment.steps_sent == 1
        with pytest.raises(SpearError, match="not uncertain"):
            settle(db, listed.id, Settlement.NOT_SENT, clock.now())
    # The cadence goes on: the follow-up is planned (its wait counted from the first send).
    assert planner.plan_due().planned == 1
    assert [r.step_id for r in outbox(db_engine)] == ["ask", "bump"]
    await dispatcher.close()


async def test_settled_not_sent_goes_again_once_with_its_message_id(
    db_engine: Engine, sink: tuple[Sink, int]
) -> None:
    handler, port = sink
    clock, planner, dispatcher, enrollment_id = await send_first_step_uncertain(
        db_engine, handler, port
    )
    [first] = outbox(db_engine)
    handler.messages.clear()
    clock.fast_forward(minutes=30)  # a person looks into it, and settles it
    with Session(db_engine) as db:
        settle(db, first.id or 0, Settlement.NOT_SENT, clock.now())
        db.commit()
    assert planner.reslot_missed().reslotted == 1
    [again] = outbox(db_engine)
    clock.set(utc(again.scheduled_at))  # type: ignore[arg-type]
    assert (await dispatcher.run_once()).sent == 1
    assert handler.message_ids() == [first.message_id]
    assert statuses(db_engine) == {first.id: "sent"}

    # A second uncertain end, settled not sent again, gives the message up and ends the cadence.
    with db_engine.begin() as db:
        table = OutboundMessage.__table__  # type: ignore[attr-defined]
        db.execute(sa.update(table).values(status="uncertain"))
    with Session(db_engine) as db:
        settle(db, first.id or 0, Settlement.NOT_SENT, clock.now())
        db.commit()
    with Session(db_engine) as db:
        enrollment = db.get(Enrollment, enrollment_id)
        assert enrollment is not None and enrollment.status == EnrollmentStatus.STOPPED
    assert statuses(db_engine) == {first.id: "failed"}
    await dispatcher.close()


async def test_a_reused_worker_id_does_not_leave_rows_stuck(
    db_engine: Engine, sink: tuple[Sink, int]
) -> None:
    """A dispatcher started with the worker id of one that crashed: what the dead one had in
    flight becomes uncertain at once, what it had only claimed is sent."""
    handler, port = sink
    in_flight, claimed = seed_outbox(db_engine, 2, scheduled_at=T0)
    clock = FixedClock(T0 + timedelta(minutes=1))  # well inside the ten-minute lease
    with db_engine.begin() as db:
        table = OutboundMessage.__table__  # type: ignore[attr-defined]
        for outbound_id, status in ((in_flight, "sending"), (claimed, "planned")):
            db.execute(
                sa.update(table)
                .where(table.c.id == outbound_id)
                .values(status=status, claimed_by="worker-1", claimed_at=T0)
            )
    sender = Dispatcher(db_engine, sink_config(port), clock, worker_id="worker-1")
    stats = await sender.run_once()
    await sender.close()
    assert (stats.uncertain, stats.sent) == (1, 1)
    assert statuses(db_engine) == {in_flight: "uncertain", claimed: "sent"}
    assert len(handler.messages) == 1


def test_outbox_commands(tmp_path: object, db_engine: Engine) -> None:
    """`spear outbox uncertain` lists what is known; `settle` needs --sent or --not-sent."""
    from engine.cli import main

    [row_id] = seed_outbox(db_engine, 1, scheduled_at=T0)
    with db_engine.begin() as db:
        table = OutboundMessage.__table__  # type: ignore[attr-defined]
        db.execute(
            sa.update(table).values(
                status="uncertain",
                claimed_by="host:1:ab",
                claimed_at=T0,
                error="the sending process died during the SMTP transaction",
            )
        )
    url = str(db_engine.url)
    config = tmp_path / "spear.yaml"  # type: ignore[operator]
    config.write_text(f"database: {url}\n")
    runner = CliRunner()
    listed = runner.invoke(main, ["--config", str(config), "outbox", "uncertain"])
    assert listed.exit_code == 0, listed.output
    assert f"{row_id}\tperson0@prospect.example\tstep intro" in listed.output
    assert "worker host:1:ab" in listed.output and "process died" in listed.output
    usage = runner.invoke(main, ["--config", str(config), "outbox", "settle", str(row_id)])
    assert usage.exit_code == 2
    done = runner.invoke(main, ["--config", str(config), "outbox", "settle", str(row_id), "--sent"])
    assert done.exit_code == 0, done.output
    assert f"outbox row {row_id}: settled sent, now sent" in done.output
