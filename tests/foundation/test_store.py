"""Migrations: applied on SQLite and PostgreSQL, idempotent, and in step with the models."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import Session, SQLModel, col, select

from engine.store.db import current_revision, make_engine, upgrade
from engine.store.events import EventKind
from engine.store.models import Account, AccountStatus, Event, OutboundMessage

TABLES = {
    "account",
    "prospect",
    "cadence_version",
    "enrollment",
    "outbound_message",
    "inbound_message",
    "suppression",
    "mailbox_state",
    "imap_folder_state",
    "event",
    "review_decision",
}


def schema_drift(url: str) -> list[object]:
    engine = make_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        drift: list[object] = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    return drift


def test_sqlite_upgrade_creates_every_table_with_wal(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'spear.db'}"
    upgrade(url)
    upgrade(url)  # a second run on start-up changes nothing
    engine = make_engine(url)
    assert set(sa.inspect(engine).get_table_names()) >= TABLES
    assert current_revision(engine) is not None
    engine.dispose()
    raw = sqlite3.connect(tmp_path / "nested" / "spear.db")
    assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_migrations_match_the_models_on_sqlite(sqlite_url: str) -> None:
    assert schema_drift(sqlite_url) == []


def test_statuses_are_stored_as_their_values(db_engine: sa.Engine) -> None:
    with Session(db_engine) as session:
        session.add(Account(domain="acme.example", status=AccountStatus.HANDED_OFF))
        session.commit()
        stored = session.execute(sa.text("SELECT status FROM account")).scalar_one()
        assert stored == "handed-off"
        account = session.exec(select(Account)).one()
        assert account.status is AccountStatus.HANDED_OFF


def test_event_kinds_are_stored_as_the_strings_older_databases_hold(db_engine: sa.Engine) -> None:
    with Session(db_engine) as session:
        session.add(Event(kind=EventKind.SEND_FAILED, data={}))
        session.commit()
    with db_engine.begin() as connection:
        assert connection.execute(sa.text("SELECT kind FROM event")).scalar_one() == "send-failed"
        # What an older version wrote, and no code writes any more, still reads as a code.
        connection.execute(
            sa.text("INSERT INTO event (kind, actor, data) VALUES ('sent', 'x', '{}')")
        )
    with Session(db_engine) as session:
        kinds = session.exec(select(Event.kind).order_by(col(Event.id))).all()
    assert kinds == [EventKind.SEND_FAILED, EventKind.SENT]
    assert all(type(kind) is EventKind for kind in kinds)


def test_one_outbox_row_per_enrollment_step(db_engine: sa.Engine) -> None:
    assert any(
        set(c["column_names"]) == {"enrollment_id", "step_id"}
        for c in sa.inspect(db_engine).get_unique_constraints(OutboundMessage.__tablename__)
    )


@pytest.mark.postgres
def test_postgres_upgrade_and_drift(postgres_url: str) -> None:
    upgrade(postgres_url)
    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    assert set(sa.inspect(engine).get_table_names()) >= TABLES
    with Session(engine) as session:
        session.add(Account(domain="acme.example", status=AccountStatus.NOT_FIT))
        session.commit()
        assert session.exec(select(Account)).one().status is AccountStatus.NOT_FIT
    engine.dispose()
    assert schema_drift(postgres_url) == []


def test_stop_and_pause_causes_are_filled_from_the_old_text(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'spear.db'}"
    upgrade(url, "0006")
    engine = make_engine(url)
    old = {
        "account paused: reply from prospect 7": ("paused", "account-paused"),
        None: ("paused", "account-paused"),  # older versions paused colleagues without a reason
        "step first cannot be rendered": ("paused", "plan-failed"),
        "replied: interest": ("stopped", "replied"),
        "hard bounce": ("stopped", "bounced"),
        "unsubscribed (one-click)": ("stopped", "unsubscribed"),
        "forgotten: erased on request": ("stopped", "contact-state"),
        "step 2 could not be delivered": ("stopped", "undeliverable"),
        "something a person typed": ("stopped", None),
    }
    with engine.begin() as db:
        db.execute(
            sa.text(
                "INSERT INTO prospect (id, email, first_name, last_name, custom, role_address,"
                " disposable, email_status, soft_bounces)"
                " VALUES (1, 'a@acme.example', '', '', '{}', 0, 0, 'unknown', 0)"
            )
        )
        for n, (reason, (status, _)) in enumerate(old.items(), start=1):
            db.execute(
                sa.text(
                    "INSERT INTO enrollment (id, prospect_id, cadence, cadence_version, status,"
                    " stop_reason, variant_seed, steps_sent)"
                    " VALUES (:id, 1, 'intro', 'v1', :status, :reason, 0, 0)"
                ),
                {"id": n, "status": status, "reason": reason},
            )
        for name, reason in (
            ("imap", "IMAP refused: bad password"),
            ("smtp", "SMTP authentication failed: 535"),
            ("hand", "domain warming"),
        ):
            db.execute(
                sa.text(
                    "INSERT INTO mailbox_state (name, paused, paused_reason)"
                    " VALUES (:name, 1, :reason)"
                ),
                {"name": name, "reason": reason},
            )
    upgrade(url)
    with engine.connect() as db:
        causes = dict(db.execute(sa.text("SELECT id, stop_cause FROM enrollment")).all())
        pauses = dict(db.execute(sa.text("SELECT name, pause_cause FROM mailbox_state")).all())
    engine.dispose()
    assert [causes[n] for n in range(1, len(old) + 1)] == [cause for _, cause in old.values()]
    assert pauses == {"imap": "imap-refused", "smtp": "smtp-refused", "hand": None}


def test_cancel_causes_are_filled_from_the_old_error_text(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'spear.db'}"
    upgrade(url, "0007")
    engine = make_engine(url)
    old = {
        "enrollment is paused": "enrollment-paused",
        "account is paused": "account-paused",
        "enrollment is stopped": "enrollment-ended",
        "suppressed: unsubscribed (reply)": "suppressed",
        "account is not-fit: competitor": "account-ruled-out",
        "something else": None,
    }
    with engine.begin() as db:
        db.execute(
            sa.text(
                "INSERT INTO prospect (id, email, first_name, last_name, custom, role_address,"
                " disposable, email_status, soft_bounces)"
                " VALUES (1, 'a@acme.example', '', '', '{}', 0, 0, 'unknown', 0)"
            )
        )
        db.execute(
            sa.text(
                "INSERT INTO enrollment (id, prospect_id, cadence, cadence_version, status,"
                " variant_seed, steps_sent) VALUES (1, 1, 'intro', 'v1', 'active', 0, 0)"
            )
        )
        for n, error in enumerate(old, start=1):
            db.execute(
                sa.text(
                    "INSERT INTO outbound_message (id, enrollment_id, prospect_id, step_id,"
                    " mailbox, message_id, to_address, subject, raw, status, scheduled_at,"
                    " attempts, error) VALUES (:id, 1, 1, :step, 'm', :mid, 'a@acme.example',"
                    " 's', x'00', 'cancelled', '2026-01-01 00:00:00', 0, :error)"
                ),
                {"id": n, "step": f"s{n}", "mid": f"<{n}@spear.example>", "error": error},
            )
    upgrade(url)
    with engine.connect() as db:
        causes = dict(db.execute(sa.text("SELECT id, cancel_cause FROM outbound_message")).all())
    engine.dispose()
    assert [causes[n] for n in range(1, len(old) + 1)] == list(old.values())
