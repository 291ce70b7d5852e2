"""`collect_status` on a hand-built database, and the same numbers over real HTTP as metrics."""

from __future__ import annotations

import itertools
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from engine.clock import FixedClock
from engine.config import Config, config_from_document
from engine.sending.capacity import MailboxLimits, remaining_today
from engine.sending.planner import mailbox_bookings
from engine.service.metrics import Metrics, MetricsServer, database_health, start_http
from engine.service.status import collect_status, render_status
from engine.store.db import make_engine, session_scope
from engine.store.models import (
    Enrollment,
    ImapFolderState,
    InboundMessage,
    InboundStatus,
    MailboxState,
    OutboundMessage,
    OutboundStatus,
    Prospect,
    Task,
)

NOW = datetime(2025, 3, 5, 15, 0, tzinfo=UTC)  # a Wednesday afternoon
_ids = itertools.count(1)


def make_config(tmp_path: Path) -> Config:
    def mailbox(name: str, **extra: object) -> dict[str, object]:
        return {
            "name": name,
            "address": f"{name}@example.com",
            "smtp": {"host": "127.0.0.1", "port": 2525, "tls": "none"},
            "imap": {"host": "127.0.0.1", "port": 1143, "tls": "none", "folders": ["INBOX"]},
            **extra,
        }

    document = {
        "mailboxes": [
            mailbox("alice", daily_cap=10),
            mailbox("bob", daily_cap=50, warmup={"start": 10, "step": 5}),
        ]
    }
    return config_from_document(document, tmp_path / "spear.yaml")


def outbound(
    enrollment: Enrollment, mailbox: str, status: OutboundStatus, sent_at: datetime | None = None
) -> OutboundMessage:
    n = next(_ids)
    return OutboundMessage(
        enrollment_id=enrollment.id or 0,
        prospect_id=enrollment.prospect_id,
        step_id=f"step{n}",
        mailbox=mailbox,
        message_id=f"<{n}@example.com>",
        to_address="p@example.org",
        subject="Who?",
        raw=b"",
        status=status,
        scheduled_at=sent_at or NOW,
        sent_at=sent_at,
    )


def inbound(label: str | None, status: InboundStatus, received_at: datetime) -> InboundMessage:
    return InboundMessage(
        mailbox="alice",
        uid=next(_ids),
        raw=b"",
        label=label,
        status=status,
        received_at=received_at,
    )


@pytest.fixture
def populated(db_engine: Engine) -> Engine:
    with session_scope(db_engine) as session:
        prospect = Prospect(email="p@example.org")
        session.add(prospect)
        session.flush()
        enrollment = Enrollment(prospect_id=prospect.id or 0, cadence="c", cadence_version="v1")
        session.add(enrollment)
        session.flush()
        today = NOW.replace(hour=6)
        yesterday = NOW - timedelta(days=1)
        session.add_all(
            [
                outbound(enrollment, "alice", OutboundStatus.SENT, today),
                outbound(enrollment, "alice", OutboundStatus.SENT, today),
                outbound(enrollment, "alice", OutboundStatus.SENT, today),
                outbound(enrollment, "alice", OutboundStatus.SENT, yesterday),
                outbound(enrollment, "bob", OutboundStatus.SENT, today),
                outbound(enrollment, "alice", OutboundStatus.FAILED),
                outbound(enrollment, "bob", OutboundStatus.PLANNED),
                outbound(enrollment, "bob", OutboundStatus.PLANNED),
                outbound(enrollment, "bob", OutboundStatus.UNCERTAIN),
                inbound("interest", InboundStatus.APPLIED, today),
                inbound("referral", InboundStatus.REVIEW, yesterday),
                inbound("unclear", InboundStatus.REVIEW, today),
                inbound(None, InboundStatus.NEW, today),
                MailboxState(name="alice", paused=True, paused_reason="auth failed"),
                MailboxState(name="bob", first_send_on=date(2025, 3, 3), alarm="block rate 7%"),
                ImapFolderState(
                    mailbox="alice", folder="INBOX", last_poll_at=NOW - timedelta(seconds=90)
                ),
                Task(
                    enrollment_id=enrollment.id or 0,
                    prospect_id=prospect.id or 0,
                    step_id="call",
                    kind="call",
                    due_at=NOW - timedelta(hours=1),
                ),
                Task(  # not due yet: not counted
                    enrollment_id=enrollment.id or 0,
                    prospect_id=prospect.id or 0,
                    step_id="linkedin",
                    kind="linkedin",
                    due_at=NOW + timedelta(days=1),
                ),
            ]
        )
    return db_engine


def test_collect_status(populated: Engine, tmp_path: Path) -> None:
    with Session(populated) as session:
        status = collect_status(session, make_config(tmp_path), NOW)
    alice, bob = status.mailboxes
    assert (alice.name, alice.sent_today, alice.sent_total, alice.failed) == ("alice", 3, 4, 1)
    assert (alice.daily_cap, alice.remaining_today) == (10, 7)
    assert alice.paused and alice.paused_reason == "auth failed"
    # Warm-up: 10 on the first day (March 3rd), 5 more a day: 20 on March 5th. What is left is
    # what the planner may still book: 1 sent, 2 planned and 1 uncertain already hold a place.
    assert (bob.daily_cap, bob.sent_today, bob.remaining_today) == (20, 1, 16)
    assert bob.alarm == "block rate 7%"
    assert status.alarms == ["bob: block rate 7%"]
    assert (status.sent_today, status.sent_total, status.failed) == (4, 5, 1)
    assert status.queued == 3
    assert status.uncertain == 1
    assert status.replies_by_label == {"interest": 1, "referral": 1, "unclear": 1}
    assert status.replies_today == 2
    assert status.review_queue == 2
    lags = {(f.mailbox, f.folder): f.lag_seconds for f in status.folders}
    assert lags == {("alice", "INBOX"): 90.0, ("bob", "INBOX"): None}
    text = render_status(status)
    assert "alice: PAUSED (auth failed), 3 sent today, 7 of 10 left today" in text
    assert "  outbox: 2 waiting to go (2 planned); 1 uncertain, for a person to check" in text
    assert "bob/INBOX: last poll never" in text
    assert '"review_queue": 2' in status.to_json()


def test_status_of_an_empty_database(db_engine: Engine, tmp_path: Path) -> None:
    with Session(db_engine) as session:
        status = collect_status(session, make_config(tmp_path), NOW)
    assert [m.remaining_today for m in status.mailboxes] == [10, 10]
    assert status.queued == 0 and status.review_queue == 0


def test_status_counts_the_day_of_the_configured_zone(db_engine: Engine, tmp_path: Path) -> None:
    config = make_config(tmp_path).model_copy(update={"timezone": "America/New_York"})
    with session_scope(db_engine) as session:
        prospect = Prospect(email="p@example.org")
        session.add(prospect)
        session.flush()
        enrollment = Enrollment(prospect_id=prospect.id or 0, cadence="c", cadence_version="v1")
        session.add(enrollment)
        session.flush()
        # 03:00 UTC on March 5th is still March 4th in New York: not today there.
        late = NOW.replace(hour=3)
        session.add(outbound(enrollment, "alice", OutboundStatus.SENT, late))
        session.add(outbound(enrollment, "alice", OutboundStatus.SENT, NOW))
    with Session(db_engine) as session:
        status = collect_status(session, config, NOW)
        alice = status.mailboxes[0]
        limits = MailboxLimits.of(config.mailboxes[0], None, ZoneInfo(config.timezone))
        bookings = mailbox_bookings(session, "alice", NOW - timedelta(days=2))
    assert (alice.sent_today, alice.remaining_today) == (1, 9)
    assert alice.remaining_today == remaining_today(limits, bookings, NOW)  # one formula


# --- over HTTP ----------------------------------------------------------------------------------


@pytest.fixture
def served(populated: Engine, tmp_path: Path) -> Iterator[tuple[Metrics, MetricsServer]]:
    metrics = Metrics(populated, make_config(tmp_path), FixedClock(NOW))
    server = start_http("127.0.0.1", 0, metrics.registry, database_health(populated))
    yield metrics, server
    server.close()


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_metrics_are_read_from_the_database(served: tuple[Metrics, MetricsServer]) -> None:
    metrics, server = served
    metrics.sent("alice")
    metrics.sent("alice")
    metrics.failed("bob", "temporary")
    metrics.reply("interest")
    code, body = get(server.url + "/metrics")
    assert code == 200
    expected = [
        "spear_database_up 1.0",
        'spear_sent_total{mailbox="alice"} 4.0',
        'spear_sent_today{mailbox="alice"} 3.0',
        'spear_send_failed_total{mailbox="alice"} 1.0',
        'spear_mailbox_remaining_capacity{mailbox="alice"} 7.0',
        'spear_mailbox_remaining_capacity{mailbox="bob"} 16.0',
        'spear_mailbox_paused{mailbox="alice"} 1.0',
        'spear_mailbox_alarm{mailbox="bob"} 1.0',
        'spear_replies_total{label="referral"} 1.0',
        "spear_review_queue 2.0",
        "spear_tasks_due 1.0",
        "spear_outbox_queue 3.0",
        "spear_outbox_uncertain 1.0",
        'spear_poll_lag_seconds{folder="INBOX",mailbox="alice"} 90.0',
        'spear_daemon_sent_total{mailbox="alice"} 2.0',
        'spear_daemon_send_failures_total{kind="temporary",mailbox="bob"} 1.0',
        'spear_daemon_replies_total{label="interest"} 1.0',
    ]
    missing = [line for line in expected if line not in body.splitlines()]
    assert not missing, body


def test_healthz(served: tuple[Metrics, MetricsServer]) -> None:
    _, server = served
    assert get(server.url + "/healthz") == (200, "ok\n")


def test_healthz_unhealthy_and_a_dead_database(populated: Engine, tmp_path: Path) -> None:
    dead = make_engine(f"sqlite:///{tmp_path / 'missing' / 'nowhere.db'}")
    metrics = Metrics(dead, make_config(tmp_path), FixedClock(NOW))
    server = start_http("127.0.0.1", 0, metrics.registry, database_health(dead))
    try:
        assert get(server.url + "/healthz") == (503, "unhealthy\n")
        code, body = get(server.url + "/metrics")
        assert code == 200
        assert "spear_database_up 0.0" in body.splitlines()
    finally:
        server.close()
        server.close()  # idempotent
