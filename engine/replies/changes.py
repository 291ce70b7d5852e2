"""Undoable changes: every field an action sets and every row it adds, written down as it happens.

An action never assigns to a row directly; it goes through a `ChangeLog`, which applies the change
and remembers the value before and after. The log is stored in the action's `Event`, and
`revert` plays it backwards, so a reply re-classified by a person restores exactly the state the
first classification found, with no per-action undo code to keep in step.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from engine.clock import utc
from engine.store.models import (
    Account,
    Enrollment,
    EnrollmentStatus,
    MailboxState,
    Prospect,
    Suppression,
)

log = logging.getLogger(__name__)

# The tables actions may change, by table name (the name stored in the log).
TABLES: dict[str, type[SQLModel]] = {
    "account": Account,
    "prospect": Prospect,
    "enrollment": Enrollment,
    "suppression": Suppression,
    "mailbox_state": MailboxState,
}


@dataclass
class ChangeLog:
    """Field changes and new rows made by one action, in the order they happened."""

    session: Session
    fields: list[dict[str, Any]] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)

    def set(self, row: SQLModel, name: str, value: Any) -> bool:
        """Set `row.name` to `value` and record it; False (nothing recorded) when already so."""
        before = getattr(row, name)
        if _same(before, value):
            return False
        self.fields.append(
            {
                "table": _table_of(row),
                "key": _key_of(row),
                "field": name,
                "before": _encode(before),
                "after": _encode(value),
            }
        )
        setattr(row, name, value)
        self.session.add(row)
        return True

    def add(self, row: SQLModel) -> SQLModel:
        """Insert `row` and record it, so undo deletes it again."""
        self.session.add(row)
        self.session.flush()
        self.created.append({"table": _table_of(row), "key": _key_of(row)})
        return row

    def created_row(self, row: SQLModel) -> None:
        """Record a row another module inserted on this action's behalf."""
        self.created.append({"table": _table_of(row), "key": _key_of(row)})

    def as_data(self) -> dict[str, Any]:
        return {"changes": list(self.fields), "created": list(self.created)}

    @property
    def empty(self) -> bool:
        return not self.fields and not self.created


def revert(session: Session, data: dict[str, Any]) -> list[str]:
    """Undo one action's recorded changes, newest first; returns notes on what could not be.

    A field is restored only if it still holds the value the action wrote: when something else
    changed it since (another reply, a person), that later decision stands.
    """
    notes: list[str] = []
    for created in reversed(data.get("created", [])):
        notes += _delete_created(session, created)
    for change in reversed(data.get("changes", [])):
        model = TABLES[change["table"]]
        row = session.get(model, change["key"])
        if row is None:
            continue
        current = getattr(row, change["field"])
        after = _decode(model, change["field"], change["after"])
        if not _same(current, after):
            notes.append(f"{change['table']} {change['key']}: {change['field']} changed since")
            continue
        setattr(row, change["field"], _decode(model, change["field"], change["before"]))
        session.add(row)
    session.flush()
    return notes


def _delete_created(session: Session, created: dict[str, Any]) -> list[str]:
    model = TABLES[created["table"]]
    row = session.get(model, created["key"])
    if row is None:
        return []
    try:
        # A savepoint: a row others now depend on (an enrollment that has sent mail) stays.
        with session.begin_nested():
            session.delete(row)
    except sa.exc.IntegrityError:
        row = session.get(model, created["key"])
        if isinstance(row, Enrollment):
            row.status = EnrollmentStatus.STOPPED
            row.stop_reason = "undone"
            session.add(row)
        return [f"{created['table']} {created['key']} kept: other rows refer to it"]
    return []


def _table_of(row: SQLModel) -> str:
    name = str(type(row).__tablename__)
    if name not in TABLES:
        raise ValueError(f"actions may not change table {name}")
    return name


def _key_of(row: SQLModel) -> Any:
    if isinstance(row, MailboxState):
        return row.name
    assert isinstance(row, Account | Prospect | Enrollment | Suppression)
    return row.id


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, datetime) and isinstance(b, datetime):
        return utc(a) == utc(b)
    return bool(a == b)


def _encode(value: Any) -> Any:
    """A JSON-safe form of a column value, tagged where JSON would lose its type."""
    if isinstance(value, datetime):
        return {"datetime": utc(value).isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _decode(model: type[SQLModel], name: str, value: Any) -> Any:
    if isinstance(value, dict) and "datetime" in value:
        return datetime.fromisoformat(value["datetime"])
    if isinstance(value, dict) and "date" in value:
        return date.fromisoformat(value["date"])
    annotation = model.model_fields[name].annotation
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum) and value is not None:
        return annotation(value)
    return value
