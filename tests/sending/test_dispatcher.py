"""The dispatcher against a temporary SQLite outbox and a real aiosmtpd sink on loopback."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from email import message_from_bytes

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from engine.clock import FixedClock, utc
from engine.config import Secret
from engine.sending.dispatcher import Dispatcher, RetryPolicy
from engine.store.models import (
    Account,
    EmailStatus,
    Enrollment,
    EnrollmentStatus,
    Event,
    InboundMessage,
    MailboxState,
    OutboundMessage,
    PauseCause,
    Prospect,
    StopCause,
    Suppression,
    SuppressionSource,
)

from .support import MAILBOX, T0, Sink, port_of, seed_outbox, sink_config, start_sink, statuses


@pytest.fixture
async def sink() -> AsyncIterator[tuple[Sink, int]]:
    handler = Sink(users={"rep": "right"})
    server = await start_sink(handler)
    yield handler, port_of(server)
    server.close()


def dispatcher(engine: Engine, port: int, clock: FixedClock, **kwargs: object) -> Dispatcher:
    return Dispatcher(engine, sink_config(port), clock, **kwargs)  # type: ignore[arg-type]


def row(engine: Engine, outbound_id: int) -> OutboundMessage:
    with Session(engine) as db:
        found = db.get(OutboundMessage, outbound_id)
        assert found is not None
        return found


async def test_sends_due_rows_and_records_the_reply(
    db_engine: Engine, sink: tuple[Sink, int]
) -> None:
    handler, port = sink
    due = seed_outbox(db_engine, 3, scheduled_at=T0)
    later = seed_outbox(db_engine, 1, scheduled_at=T0 + timedelta(hours=1), first=10)
    clock = FixedClock(T0 + timedelta(minutes=5))
    sender = dispatcher(db_engine, port, clock)
    stats = await sender.run_once()
    await sender.close()

    assert (stats.claimed, stats.sent) == (3, 3)
    assert statuses(db_engine) == {**dict.fromkeys(due, "sent"), later[0]: "planned"}
    sent = row(db_engine, due[0])
    assert sent.smtp_response is not None and sent.smtp_response.startswith("250")
    assert sent.sent_at is not None and utc(sent.sent_at) == clock.now()
    # The Date header says when it went, not when it was planned.
    received = message_from_bytes(handler.messages[0])
    assert received["Date"] == "Tue, 03 Jun 2025 11:05:00 +0000"
    assert sorted(handler.message_ids()) == sorted(row(db_engine, i).message_id for i in due)
    with Session(db_engine) as db:
        assert db.exec(select(Enrollment)).first().steps_sent == 1  # type: ignore[union-attr]
        state = db.get(MailboxState, MAILBOX)
        assert state is not None and state.first_send_on == clock.now().date()
        kinds = [e.kind for e in db.exec(select(Event))]
    # The outbox rows are the record of the sends: events are for what departs from the plan.
    assert kinds == []


async def test_the_caps_have_the_last_word_at_dispatch(
    db_engine: Engine, sink: tuple[Sink, int]
) -> None:
    """Rows planned under higher caps (the configuration changed since): the dispatcher sends
    what the hourly and daily caps still allow; the rest wait, claimed by nobody, and go out
    when the next hour or day has room."""
    handler, port = sink
    ids = seed_outbox(db_engine, 5, scheduled_at=T0)
    config = sink_config(port)
    capped = config.mailboxes[0].model_copy(update={"daily_cap": 3, "hourly_cap": 2})
    config = config.model_copy(update={"mailboxes": [capped]})
    clock = FixedClock(T0 + timedelta(minutes=5))
    sender = Dispatcher(db_engine, config, clock)

    first = await sender.run_once()
    assert (first.sent, first.released) == (2, 3), first
    waiting = [row(db_engine, i) for i in ids if statuses(db_engine)[i] == "planned"]
    assert len(waiting) == 3 and all(r.claimed_by is None for r in waiting)
    assert (await sender.run_once()).claimed == 0  # this hour is full: nothing is claimed
    clock.fast_forward(hours=1)
    assert (await sender.run_once()).sent == 1  # the day's third and last
    clock.fast_forward(hours=1)
    assert (await sender.run_once()).claimed == 0
    clock.fast_forward(days=1)
    assert (await sender.run_once()).sent == 2
    await sender.close()

    assert set(statuses(db_engine).values()) == {"sent"}
    assert len(handler.messages) == 5


async def test_4xx_retries_with_backoff_then_sends(
    db_engine: Engine, sink: tuple[Sink, int]
) -> None:
    handler, port = sink
    [outbound_id] = seed_outbox(db_engine, 1, scheduled_at=T0)
    handler.rcpt_answers["person0@prospect.example"] = "450 4.2.1 mailbox busy"
    clock = FixedClock(T0)
    sender = dispatcher(db_engine, port, clock)
    stats = await sender.run_once()
    assert stats.retried == 1
    first = row(db_engine, outbound_id)
    assert first.status == "retry" and first.attempts == 1
    assert first.next_attempt_at is not None
    assert utc(first.next_attempt_at) == T0 + timedelta(minutes=5)

    clock.fast_forward(minutes=1)
    assert (await sender.run_once()).claimed == 0  # not before its next attempt

    handler.rcpt_answers.clear()
    clock.fast_forward(minutes=5)
    assert (await sender.run_once()).sent == 1
    assert row(db_engine, outbound_id).attempts == 2
    await sender.close()


async def test_temporary_failures_stop_at_the_deadline(
    db_engine: Engine, sink: tuple[Sink, int]
) -> None:
    handler, port = sink
    [outbound_id] = seed_outbox(db_engine, 1, scheduled_at=T0)
    handler.rcpt_answers["person0@prospect.example"] = "451 4.3.0 try later"
    clock = FixedClock(T0)
    policy = RetryPolicy(first_delay=timedelta(minutes=10), deadline=timedelta(minutes=30))
    sender = dispatcher(db_engine, port, clock, retry=policy)
    for _ in range(5):
        await sender.run_once()
        clock.fast_forward(minutes=20)
    await sender.close()
    failed = row(db_engine, outbound_id)
    assert failed.status == "failed"
    assert failed.error is not None and "gave up after" in failed.error
    assert handler.messages == []


async def test_421_keeps_the_rest_of_the_batch_for_later(
    db_engine: Engine, sink: tuple[Sink, int]
) -> None:
    handler, port = sink
    ids = seed_outbox(db_engine, 3, scheduled_at=T0)
    handler.rcpt_answers["person0@prospect.example"] = "421 4.7.0 too many connections"
    sender = dispatcher(db_engine, port, FixedClock(T0))
    stats = await sender.dispatch_due(10)
    assert (stats.retried, stats.released, stats.sent) == (1, 2, 0)
    assert statuses(db_engine) == {ids[0]: "retry", ids[1]: "planned", ids[2]: "planned"}
    handler.rcpt_answers.clear()
    assert (await sender.dispatch_due(10)).sent == 2  # released rows are claimable at once
    await sender.close()


async def test_550_is_a_hard_bounce(db_engine: Engine, sink: tuple[Sink, int]) -> None:
    handler, port = sink
    [outbound_id] = seed_outbox(db_engine, 1, scheduled_at=T0)
    handler.rcpt_answers["person0@prospect.example"] = "550 5.1.1 user unknown"
    sender = dispatcher(db_engine, port, FixedClock(T0))
    stats = await sender.run_once()
    await sender.close()
    assert stats.bounced == 1
    bounced = row(db_engine, outbound_id)
    assert bounced.status == "failed" and "550" in (bounced.smtp_response or "")
    with Session(db_engine) as db:
        prospect = db.get(Prospect, bounced.prospect_id)
        enrollment = db.get(Enrollment, bounced.enrollment_id)
        suppressed = db.exec(select(Suppression)).all()
    assert prospect is not None and prospect.email_status == EmailStatus.INVALID
    assert enrollment is not None and enrollment.status == EnrollmentStatus.STOPPED
    # The same rule as a bounce read from a delivery report (`lifecycle.prune_address`).
    assert enrollment.stop_cause is StopCause.BOUNCED
    assert enrollment.stop_reason == "hard bounce: 550 5.1.1 user unknown"
    assert [(s.value, s.source) for s in suppressed] == [
        ("person0@prospect.example", SuppressionSource.BOUNCE)
    ]


async def test_dropped_connection_after_the_body_is_uncertain(
    db_engine: Engine, sink: tuple[Sink, int]
) -> None:
    handler, port = sink
    ids = seed_outbox(db_engine, 2, scheduled_at=T0)
    handler.data_answers.append("drop")
    sender = dispatcher(db_engine, port, FixedClock(T0))
    stats = await sender.run_once()
    await sender.close()
    assert stats.uncertain == 1 and stats.sent == 1
    assert statuses(db_engine) == {ids[0]: "uncertain", ids[1]: "sent"}
    assert len(handler.messages) == 2  # the server did get it: a retry would have doubled it


async def test_dropped_connection_before_the_body_retries(
    db_engine: Engine, sink: tuple[Sink, int]
) -> None:
    handler, port = sink
    [outbound_id] = seed_outbox(db_engine, 1, scheduled_at=T0)
    handler.rcpt_answers["person0@prospect.example"] = "drop"
    sender = dispatcher(db_engine, port, FixedClock(T0))
    assert (await sender.run_once()).retried == 1
    await sender.close()
    assert row(db_engine, outbound_id).status == "retry"


async def test_auth_failure_pauses_the_mailbox_with_one_error(
    db_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    handler = Sink(users={"rep": "right"})
    server = await start_sink(handler, require_auth=True)
    ids = seed_outbox(db_engine, 3, scheduled_at=T0)
    config = sink_config(port_of(server), user="rep", password=None)
    mailbox = config.mailboxes[0]
    bad = mailbox.model_copy(
        update={"smtp": mailbox.smtp.model_copy(update={"password": Secret("hunter2")})}
    )
    config = config.model_copy(update={"mailboxes": [bad]})
    sender = Dispatcher(db_engine, config, FixedClock(T0))
    with caplog.at_level(logging.INFO):
        stats = await sender.run_once()
        again = await sender.run_once()
    await sender.close()
    server.close()

    assert stats.sent == 0 and again.claimed == 0
    assert set(statuses(db_engine).values()) == {"planned"}
    assert all(row(db_engine, i).attempts == 0 for i in ids)
    with Session(db_engine) as db:
        state = db.get(MailboxState, MAILBOX)
    assert state is not None and state.paused and state.pause_cause is PauseCause.SMTP_REFUSED
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "paused" in errors[0].getMessage()
    assert "hunter2" not in caplog.text


async def test_last_moment_checks_cancel(db_engine: Engine, sink: tuple[Sink, int]) -> None:
    _handler, port = sink
    ids = seed_outbox(db_engine, 5, scheduled_at=T0, planned_at=T0 - timedelta(days=1))
    with Session(db_engine) as db:
        rows = [db.get(OutboundMessage, i) for i in ids]
        # 0: suppressed since planning; 1: replied since planning; 2: enrollment stopped;
        # 3: an auto-reply does not count; 4: address pruned by a bounce elsewhere.
        db.add(Suppression(value="person0@prospect.example", reason="asked"))
        db.add(
            InboundMessage(
                mailbox=MAILBOX,
                raw=b"",
                prospect_id=rows[1].prospect_id,  # type: ignore[union-attr]
                received_at=T0 - timedelta(hours=2),
            )
        )
        db.add(
            InboundMessage(
                mailbox=MAILBOX,
                raw=b"",
                prospect_id=rows[3].prospect_id,  # type: ignore[union-attr]
                received_at=T0 - timedelta(hours=2),
                label="auto-reply",
                uid=2,
            )
        )
        enrollment = db.get(Enrollment, rows[2].enrollment_id)  # type: ignore[union-attr]
        assert enrollment is not None
        enrollment.status = EnrollmentStatus.STOPPED
        prospect = db.get(Prospect, rows[4].prospect_id)  # type: ignore[union-attr]
        assert prospect is not None
        prospect.email_status = EmailStatus.INVALID
        db.commit()
    sender = dispatcher(db_engine, port, FixedClock(T0))
    stats = await sender.run_once()
    await sender.close()
    assert (stats.cancelled, stats.sent) == (4, 1)
    assert statuses(db_engine)[ids[3]] == "sent"
    reasons = {i: row(db_engine, i).error or "" for i in ids}
    assert "suppressed" in reasons[ids[0]]
    assert "replied" in reasons[ids[1]]
    assert "stopped" in reasons[ids[2]]
    assert "invalid" in reasons[ids[4]]


async def test_paused_account_cancels_all_but_the_referral(
    db_engine: Engine, sink: tuple[Sink, int]
) -> None:
    _handler, port = sink
    ids = seed_outbox(db_engine, 2, scheduled_at=T0)
    with Session(db_engine) as db:
        first = db.get(OutboundMessage, ids[0])
        second = db.get(OutboundMessage, ids[1])
        assert first is not None and second is not None
        referral = db.get(Enrollment, second.enrollment_id)
        assert referral is not None
        referral.referrer_id = first.prospect_id
        for account in db.exec(select(Account)):
            account.paused = True
        db.commit()
    sender = dispatcher(db_engine, port, FixedClock(T0))
    stats = await sender.run_once()
    await sender.close()
    assert (stats.cancelled, stats.sent) == (1, 1)
    assert statuses(db_engine) == {ids[0]: "cancelled", ids[1]: "sent"}


async def test_two_dispatchers_never_send_a_row_twice(
    db_engine: Engine, sink: tuple[Sink, int]
) -> None:
    handler, port = sink
    ids = seed_outbox(db_engine, 60, scheduled_at=T0)
    clock = FixedClock(T0)
    first, second = dispatcher(db_engine, port, clock), dispatcher(db_engine, port, clock)

    async def drain(one: Dispatcher) -> int:
        sent = 0
        while (stats := await one.dispatch_due(7)).claimed:
            sent += stats.sent
            await asyncio.sleep(0)
        return sent

    counts = await asyncio.gather(drain(first), drain(second))
    await first.close()
    await second.close()
    assert sum(counts) == len(ids)
    assert all(counts)  # both took part
    assert len(handler.message_ids()) == len(set(handler.message_ids())) == len(ids)


async def test_rows_left_sending_by_a_dead_process_become_uncertain(
    db_engine: Engine, sink: tuple[Sink, int]
) -> None:
    handler, port = sink
    dead, stale, live = seed_outbox(db_engine, 3, scheduled_at=T0)
    clock = FixedClock(T0)
    with db_engine.begin() as db:
        table = OutboundMessage.__table__  # type: ignore[attr-defined]
        for outbound_id, holder, at in (
            (dead, "nohost-that-is-us:1:aa", T0 - timedelta(hours=1)),
            (stale, "elsewhere:42:bb", T0 - timedelta(hours=1)),
            (live, "elsewhere:43:cc", T0 - timedelta(minutes=1)),
        ):
            db.execute(
                sa.update(table)
                .where(table.c.id == outbound_id)
                .values(status="sending", claimed_by=holder, claimed_at=at)
            )
    sender = dispatcher(db_engine, port, clock)
    stats = await sender.run_once()
    await sender.close()
    assert stats.uncertain == 2 and stats.sent == 0
    assert statuses(db_engine) == {dead: "uncertain", stale: "uncertain", live: "sending"}
    assert handler.messages == []


async def test_overdue_mail_keeps_the_gap_and_jitter_at_dispatch(
    db_engine: Engine, sink: tuple[Sink, int]
) -> None:
    """Seven messages held past their time (a paused mailbox, an outage, cron) leave one at a
    time: at least the minimum gap apart, with jitter on top, whichever pass sends them."""
    handler, port = sink
    ids = seed_outbox(db_engine, 7, scheduled_at=T0)
    base = sink_config(port)
    spaced = base.mailboxes[0].model_copy(update={"min_gap_seconds": 60, "jitter_seconds": 30})
    config = base.model_copy(update={"mailboxes": [spaced]})
    clock = FixedClock(T0 + timedelta(hours=1))
    for _ in range(20):
        # A new dispatcher each pass, as with `spear run --once` from cron every minute; within a
        # pass the dispatcher waits on the clock (a fixed clock moves on when slept on).
        sender = Dispatcher(db_engine, config, clock)
        await sender.run_once()
        await sender.close()
        if set(statuses(db_engine).values()) == {"sent"}:
            break
        clock.fast_forward(minutes=1)
    assert len(handler.messages) == len(ids)
    with Session(db_engine) as db:
        sent_at = sorted(utc(r.sent_at) for r in db.exec(select(OutboundMessage)))  # type: ignore[arg-type]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(sent_at)]
    assert min(gaps) >= 60 and max(gaps) <= 90 + 60, gaps
    assert len(set(gaps)) > 1, gaps  # jitter: not one fixed interval
