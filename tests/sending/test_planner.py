"""The planner end to end: enrol, plan, dispatch into a sink, plan the threaded follow-up."""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator
from datetime import timedelta
from email import message_from_bytes
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from engine.basics.windows import in_window
from engine.clock import FixedClock, utc
from engine.prospects.pauses import pause_account
from engine.sending.dispatcher import Dispatcher
from engine.sending.planner import Planner
from engine.store.models import Account, Enrollment, EnrollmentStatus, OutboundMessage

from .support import T0, Sink, cadence, enrol, port_of, start_sink, two_mailboxes

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
async def sink() -> AsyncIterator[tuple[Sink, int]]:
    handler = Sink()
    server = await start_sink(handler)
    yield handler, port_of(server)
    server.close()


async def test_plan_send_and_thread_the_follow_up(
    db_engine: Engine, sink: tuple[Sink, int]
) -> None:
    handler, port = sink
    clock = FixedClock(T0 - timedelta(hours=2))  # Tuesday 05:00 in New York
    [enrollment_id] = enrol(db_engine, 1, clock)
    config = two_mailboxes(port)
    planner = Planner(db_engine, config, clock, random.Random(1))
    assert planner.plan_due().planned == 1

    with Session(db_engine) as db:
        first = db.exec(select(OutboundMessage)).one()
        enrollment = db.get(Enrollment, enrollment_id)
    assert enrollment is not None
    assert enrollment.next_step == "bump" and enrollment.mailbox == first.mailbox
    assert enrollment.thread_message_id == first.message_id
    assert first.message_id.endswith("@spear.example>")
    scheduled = utc(first.scheduled_at)  # type: ignore[arg-type]
    assert in_window(scheduled, NEW_YORK, cadence().schedule.rules)
    assert scheduled.astimezone(NEW_YORK).hour == 7
    assert first.subject == "Acme logistics"

    # Planning again before the first message went: nothing new.
    assert planner.plan_due().planned == 0

    clock.set(scheduled)
    dispatcher = Dispatcher(db_engine, config, clock)
    assert (await dispatcher.run_once()).sent == 1

    clock.fast_forward(days=1)
    assert planner.plan_due().planned == 0  # the wait is two days from the send
    clock.fast_forward(days=1, hours=1)
    assert planner.plan_due().planned == 1
    with Session(db_engine) as db:
        second = db.exec(select(OutboundMessage).where(OutboundMessage.step_id == "bump")).one()
    assert second.mailbox == first.mailbox  # one sender for the whole thread
    clock.set(utc(second.scheduled_at))  # type: ignore[arg-type]
    assert (await dispatcher.run_once()).sent == 1
    await dispatcher.close()

    follow_up = message_from_bytes(handler.messages[1])
    assert follow_up["Subject"] == "Re: Acme logistics"
    assert follow_up["In-Reply-To"] == first.message_id
    assert follow_up["References"] == first.message_id
    with Session(db_engine) as db:
        done = db.get(Enrollment, enrollment_id)
    assert done is not None and done.status == EnrollmentStatus.COMPLETED


def test_caps_spread_sends_and_mailboxes_rotate(db_engine: Engine) -> None:
    clock = FixedClock(T0 - timedelta(hours=2))
    enrol(db_engine, 8, clock)
    planner = Planner(db_engine, two_mailboxes(1025, daily_cap=2), clock, random.Random(2))
    assert planner.plan_due().planned == 8
    with Session(db_engine) as db:
        rows = db.exec(select(OutboundMessage)).all()
    by_mailbox: dict[str, list[object]] = {}
    for row in rows:
        by_mailbox.setdefault(row.mailbox, []).append(row.scheduled_at)
    assert sorted(len(v) for v in by_mailbox.values()) == [4, 4]
    rules = cadence().schedule.rules
    for times in by_mailbox.values():
        days = [utc(t).astimezone(NEW_YORK).date() for t in times]  # type: ignore[arg-type]
        assert max(days.count(d) for d in days) <= 2
        ordered = sorted(utc(t) for t in times)  # type: ignore[arg-type]
        assert all(b - a >= timedelta(minutes=5) for a, b in itertools.pairwise(ordered))
        assert all(in_window(t, NEW_YORK, rules) for t in ordered)


def test_account_pause_spares_the_referral(db_engine: Engine) -> None:
    clock = FixedClock(T0)
    ids = enrol(db_engine, 3, clock)
    with Session(db_engine) as db:
        enrollments = [db.get(Enrollment, i) for i in ids]
        replier, other, referral = enrollments
        assert replier and other and referral
        referral.referrer_id = replier.prospect_id
        db.commit()
        account_id = db.exec(select(Account.id)).one()
        assert account_id is not None
        paused = pause_account(db, account_id, replier.prospect_id, clock.now())
        db.commit()
        assert paused == [other.id]
        states = {e.id: db.get(Enrollment, e.id).status for e in enrollments}  # type: ignore[union-attr]
    assert states == {
        replier.id: EnrollmentStatus.ACTIVE,  # the reply's own action deals with the replier
        other.id: EnrollmentStatus.PAUSED,
        referral.id: EnrollmentStatus.ACTIVE,
    }


async def test_a_late_row_is_not_sent_but_moved_to_the_next_window(
    db_engine: Engine, sink: tuple[Sink, int]
) -> None:
    handler, port = sink
    clock = FixedClock(T0 - timedelta(hours=2))  # Tuesday 05:00 in New York
    enrol(db_engine, 1, clock)
    config = two_mailboxes(port)
    planner = Planner(db_engine, config, clock, random.Random(3))
    assert planner.plan_due().planned == 1
    with Session(db_engine) as db:
        planned = db.exec(select(OutboundMessage)).one()
    assert planned.send_before is not None
    assert utc(planned.send_before).astimezone(NEW_YORK).strftime("%a %H:%M") == "Tue 09:00"

    clock.set(T0 + timedelta(hours=3, minutes=10))  # 10:10 local: the daemon was down
    dispatcher = Dispatcher(db_engine, config, clock)
    assert (await dispatcher.run_once()).claimed == 0
    assert handler.messages == []

    assert planner.plan_due().reslotted == 1
    with Session(db_engine) as db:
        moved = db.exec(select(OutboundMessage)).one()
    scheduled = utc(moved.scheduled_at)  # type: ignore[arg-type]
    assert in_window(scheduled, NEW_YORK, cadence().schedule.rules)
    assert scheduled.astimezone(NEW_YORK).strftime("%a %H") == "Tue 17"
    assert utc(moved.send_before).astimezone(NEW_YORK).strftime("%H:%M") == "19:00"  # type: ignore[arg-type]
    assert (moved.message_id, moved.raw) == (planned.message_id, planned.raw)
    assert planner.plan_due().reslotted == 0  # once moved, it waits for its new slot

    clock.set(scheduled)
    assert (await dispatcher.run_once()).sent == 1
    await dispatcher.close()
    assert handler.message_ids() == [planned.message_id]
    sent = message_from_bytes(handler.messages[0])
    assert sent["Date"] == format_datetime(scheduled.replace(microsecond=0))


async def test_a_retry_proposed_after_the_window_closes_lands_in_the_next_one(
    db_engine: Engine, sink: tuple[Sink, int]
) -> None:
    handler, port = sink
    clock = FixedClock(T0 - timedelta(hours=2))
    enrol(db_engine, 1, clock)
    config = two_mailboxes(port)
    planner = Planner(db_engine, config, clock, random.Random(4))
    planner.plan_due()
    handler.rcpt_answers["p0@acme.example"] = "450 4.2.1 mailbox busy"
    clock.set(T0 + timedelta(hours=1, minutes=58))  # 08:58 local: the backoff ends after 09:00
    dispatcher = Dispatcher(db_engine, config, clock)
    assert (await dispatcher.run_once()).retried == 1

    clock.fast_forward(minutes=10)  # the proposed 09:03 is outside every window
    assert (await dispatcher.run_once()).claimed == 0
    assert planner.plan_due().reslotted == 1
    with Session(db_engine) as db:
        retry = db.exec(select(OutboundMessage)).one()
    assert retry.status == "retry" and retry.next_attempt_at is not None
    attempt = utc(retry.next_attempt_at)
    assert in_window(attempt, NEW_YORK, cadence().schedule.rules)
    assert attempt.astimezone(NEW_YORK).strftime("%a %H") == "Tue 17"

    handler.rcpt_answers.clear()
    clock.set(attempt)
    assert (await dispatcher.run_once()).sent == 1
    await dispatcher.close()
    with Session(db_engine) as db:
        assert db.exec(select(OutboundMessage)).one().attempts == 2
