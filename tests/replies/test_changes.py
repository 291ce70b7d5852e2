"""`ChangeLog` as a property: whatever an action sets and adds, undo puts the state back, and
redo of that undo puts the action's state back.

The log goes through JSON on the way, as it does when it is stored in the action's event.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from engine.clock import utc
from engine.store.changes import TABLES, UNDO_KEY, ChangeLog, redo, revert
from engine.store.db import session_scope
from engine.store.models import (
    Account,
    AccountStatus,
    EmailStatus,
    EnrollmentStatus,
    MailboxState,
    Suppression,
    SuppressionKind,
)

from .acme import seed_acme

moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1))
texts = st.none() | st.text(max_size=12)

# Fields the reply actions set, with values each may take, by table.
FIELDS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "account": {
        "status": st.sampled_from(AccountStatus),
        "status_reason": texts,
        "paused": st.booleans(),
    },
    "prospect": {
        "title": texts,
        "email_status": st.sampled_from(EmailStatus),
        "soft_bounces": st.integers(0, 5),
        "last_interaction": st.none() | days,
    },
    "enrollment": {
        "status": st.sampled_from(EnrollmentStatus),
        "stop_reason": texts,
        "next_step": texts,
        "next_due_at": st.none() | moments,
    },
    "mailbox_state": {
        "paused": st.booleans(),
        "paused_reason": texts,
        "first_send_on": st.none() | days,
        "last_send_at": st.none() | moments,
    },
}


@st.composite
def field_change(draw: st.DrawFn) -> tuple[str, int, str, Any]:
    """(table, which of its rows, field, new value)."""
    table = draw(st.sampled_from(sorted(FIELDS)))
    name = draw(st.sampled_from(sorted(FIELDS[table])))
    return table, draw(st.integers(0, 1)), name, draw(FIELDS[table][name])


# A step sets a field, or adds a suppression row (undo deletes what an action inserted).
steps = st.lists(field_change() | st.integers(0, 999), max_size=12)


@pytest.fixture
def seeded(db_engine: Engine) -> Iterator[Engine]:
    seed_acme(db_engine, "v1")
    with session_scope(db_engine) as session:
        session.add(Account(domain="globex.example", name="Globex", paused=True))
        session.add(MailboxState(name="alex"))
        session.add(MailboxState(name="blake", paused=True, paused_reason="by hand"))
    yield db_engine


def snapshot(session: Session) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table actions may change, as the database holds it."""
    session.expire_all()
    state: dict[str, list[dict[str, Any]]] = {}
    for name, model in TABLES.items():
        rows = session.exec(select(model)).all()
        state[name] = sorted(
            ({k: _comparable(v) for k, v in row.model_dump().items()} for row in rows),
            key=repr,
        )
    return state


def _comparable(value: Any) -> Any:
    return utc(value) if isinstance(value, datetime) else value


def rows_of(session: Session, table: str) -> list[SQLModel]:
    model = TABLES[table]
    key = model.__table__.primary_key  # type: ignore[attr-defined]
    return list(session.exec(select(model).order_by(*key)).all())


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions=st.lists(steps, min_size=1, max_size=3))
def test_undo_after_apply_restores_the_state_and_redo_the_change(
    seeded: Engine, actions: list[list[tuple[str, int, str, Any] | int]]
) -> None:
    with Session(seeded) as session:
        before = snapshot(session)
        logs = []
        for action in actions:  # several actions, each with its own log, as replies make them
            log = ChangeLog(session)
            for step in action:
                if isinstance(step, int):
                    value = f"gone{step}-{len(logs)}@elsewhere.example"
                    if session.exec(select(Suppression).where(Suppression.value == value)).first():
                        continue
                    log.add(Suppression(kind=SuppressionKind.ADDRESS, value=value, reason="t"))
                else:
                    table, which, name, value = step
                    log.set(rows_of(session, table)[which], name, value)
            session.flush()
            logs.append(json.loads(json.dumps(log.as_data())))
        applied = snapshot(session)

        undone = []
        for data in reversed(logs):  # undone newest first, as a person re-classifies
            done: list[dict[str, Any]] = []
            assert revert(session, data, done) == []
            undone.append({**data, UNDO_KEY: json.loads(json.dumps(done))})
        assert snapshot(session) == before

        for data in reversed(undone):
            assert redo(session, data) == []
        assert snapshot(session) == applied
        session.rollback()
