"""`spear mailbox list|pause|resume` on a real configuration and SQLite database."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session, col, select

from engine.cli import main
from engine.config import load_config
from engine.sending.capacity import choose_mailbox
from engine.sending.mailboxes import mailbox_statuses
from engine.store.db import make_engine, session_scope, upgrade
from engine.store.models import Event, MailboxState, OutboundMessage, OutboundStatus

from .support import MAILBOX, seed_outbox

CONFIG = """
database: sqlite:///spear.db
timezone: UTC
mailboxes:
  - name: sales
    address: rep@spear.example
    daily_cap: 40
    smtp: {host: 127.0.0.1, port: 2525, tls: none}
  - name: support
    address: help@spear.example
    daily_cap: 30
    smtp: {host: 127.0.0.1, port: 2525, tls: none}
"""
AUTH_FAILURE = "SMTP authentication failed: (535, '5.7.8 Authentication credentials invalid')"
LAST_SEND = datetime(2025, 6, 2, 13, 5, tzinfo=UTC)

Spear = Callable[..., str]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "spear.yaml").write_text(CONFIG, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'spear.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        # As the dispatcher leaves a mailbox whose server refused its credentials.
        session.add(
            MailboxState(
                name="sales",
                paused=True,
                paused_reason=AUTH_FAILURE,
                first_send_on=date(2025, 6, 2),
                last_send_at=LAST_SEND,
            )
        )
        # A mailbox that sent once and was then taken out of the configuration.
        session.add(MailboxState(name="retired", last_send_at=LAST_SEND))
    engine.dispose()
    return tmp_path


@pytest.fixture
def spear(folder: Path) -> Spear:
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(main, ["--config", str(folder / "spear.yaml"), "mailbox", *args])
        assert result.exit_code == code, result.output
        return result.output

    return run


def state(folder: Path, name: str) -> MailboxState | None:
    engine = make_engine(f"sqlite:///{folder / 'spear.db'}")
    with Session(engine) as session:
        row = session.get(MailboxState, name)
    engine.dispose()
    return row


def events(folder: Path, kind: str) -> list[Event]:
    engine = make_engine(f"sqlite:///{folder / 'spear.db'}")
    with Session(engine) as session:
        found = list(session.exec(select(Event).where(Event.kind == kind)).all())
    engine.dispose()
    return found


def test_list_shows_configured_and_retired_mailboxes(spear: Spear) -> None:
    lines = spear("list").splitlines()
    assert lines == [
        "retired: (not configured), active, 0 sent today, last send 2025-06-02 13:05Z",
        f"sales: rep@spear.example, PAUSED ({AUTH_FAILURE}), 0 of 40 sent today, 40 left, "
        "last send 2025-06-02 13:05Z",
        "support: help@spear.example, active, 0 of 30 sent today, 30 left, last send never",
    ]

    listed = {m["name"]: m for m in json.loads(spear("list", "--json"))}
    assert listed["sales"]["paused"] is True
    assert listed["sales"]["paused_reason"] == AUTH_FAILURE
    assert listed["sales"]["last_send_at"] == "2025-06-02T13:05:00+00:00"
    assert (listed["support"]["daily_cap"], listed["support"]["remaining_today"]) == (30, 30)
    assert listed["retired"]["configured"] is False and listed["retired"]["daily_cap"] is None


def test_a_mailbox_paused_by_the_dispatcher_is_resumed(folder: Path, spear: Spear) -> None:
    engine = make_engine(f"sqlite:///{folder / 'spear.db'}")
    with session_scope(engine) as session:
        row = session.get(MailboxState, "sales")
        assert row is not None
        row.alarm = "3 policy/spam blocks in 40 sends (7.5%)"
        session.add(row)
    engine.dispose()

    out = spear("resume", "sales")
    assert out == (
        f"sales: resumed (was paused: {AUTH_FAILURE}; "
        "alarm cleared: 3 policy/spam blocks in 40 sends (7.5%))\n"
    )
    resumed = state(folder, "sales")
    assert resumed is not None
    assert (resumed.paused, resumed.paused_reason, resumed.alarm) == (False, None, None)
    assert resumed.first_send_on == date(2025, 6, 2)  # the warm-up ramp keeps counting
    [event] = events(folder, "mailbox-resumed")
    assert event.actor == "cli" and event.data["mailbox"] == "sales"
    assert event.data["paused_reason"] == AUTH_FAILURE
    assert "sales: rep@spear.example, active," in spear("list")

    # Resuming again changes nothing and says so.
    assert spear("resume", "sales") == "sales: not paused; nothing changed\n"
    assert len(events(folder, "mailbox-resumed")) == 1


def test_pause_by_hand_then_resume(folder: Path, spear: Spear) -> None:
    assert state(folder, "support") is None  # never sent: no state row yet

    assert spear("pause", "support", "--reason", "domain warming") == (
        "support: paused (domain warming)\n"
    )
    paused = state(folder, "support")
    assert paused is not None and paused.paused and paused.paused_reason == "domain warming"
    [event] = events(folder, "mailbox-paused")
    assert event.actor == "cli"
    assert event.data == {"mailbox": "support", "reason": "domain warming"}
    # The planner gives no new thread to a paused mailbox: what it reads is now true.
    engine = make_engine(f"sqlite:///{folder / 'spear.db'}")
    with Session(engine) as session:
        paused_names = session.exec(select(MailboxState.name).where(col(MailboxState.paused))).all()
    engine.dispose()
    assert set(paused_names) == {"sales", "support"}
    assert choose_mailbox(["sales", "support"], {}, paused_names) is None

    assert spear("pause", "support") == (
        "support: already paused (domain warming); nothing changed\n"
    )
    assert len(events(folder, "mailbox-paused")) == 1
    assert "support: help@spear.example, PAUSED (domain warming)" in spear("list")

    assert spear("resume", "support") == "support: resumed (was paused: domain warming)\n"
    resumed = state(folder, "support")
    assert resumed is not None and not resumed.paused and resumed.paused_reason is None

    assert spear("pause", "retired") == "retired: paused (paused by hand)\n"


def test_an_unknown_mailbox_is_one_line_and_exit_1(folder: Path, spear: Spear) -> None:
    for command in ("pause", "resume"):
        out = spear(command, "nope", code=1)
        assert out == "Error: no mailbox named 'nope' (known: sales, support)\n"
    assert state(folder, "nope") is None
    assert events(folder, "mailbox-paused") == []


def test_counts_sent_today_cap_and_what_is_left(folder: Path) -> None:
    now = datetime(2025, 6, 3, 15, 0, tzinfo=UTC)
    engine = make_engine(f"sqlite:///{folder / 'spear.db'}")
    # Three rows today on `sales`: one sent this morning, two planned for tonight.
    ids = seed_outbox(engine, 3, scheduled_at=now + timedelta(hours=2))
    with session_scope(engine) as session:
        sent = session.get(OutboundMessage, ids[0])
        assert sent is not None and MAILBOX == "sales"
        sent.status = OutboundStatus.SENT
        sent.sent_at = now - timedelta(hours=6)
        yesterday = session.get(OutboundMessage, ids[1])
        assert yesterday is not None
        yesterday.status = OutboundStatus.SENT
        yesterday.sent_at = now - timedelta(days=1)
    with Session(engine) as session:
        statuses = {
            m.name: m for m in mailbox_statuses(session, load_config(folder / "spear.yaml"), now)
        }
    engine.dispose()

    sales = statuses["sales"]
    assert (sales.sent_today, sales.sent_total, sales.daily_cap) == (1, 2, 40)
    assert sales.remaining_today == 38  # the sent one and the one planned for tonight
    assert sales.last_send_at == LAST_SEND
    assert statuses["support"].remaining_today == 30
