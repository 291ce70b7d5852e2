"""Undoable changes: every field an action sets and every row it adds, written down as it happens.

An action never assigns to a row directly; it goes through a `ChangeLog`, which applies the change
and remembers the value before and after. The log is stored in the action's `Event`, and
`revert` plays it backwards, so a reply re-classified by a person restores exactly the state the
first classification found, with no per-action undo code to keep in step.

`revert` can also write down what it did (the fields it restored, the rows it deleted with every
value they held, the rows it had to keep), and `redo` plays that record forwards again: undoing an
undo puts back the very rows, ids and values, instead of running the actions a second time
against a database that may have moved on. Both follow the same rule: a field is changed only if
it still holds the value the other side wrote; otherwise the later decision stands and a note
says so.
"""

from __future__ import annotations

import enum
import logging
import types
import typing
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
    StopCause,
    Suppression,
    Task,
)

log = logging.getLogger(__name__)
typing_union = type(typing.Union[int, None])  # noqa: UP007 - the class of Optional[X]

# The tables actions may change, by table name (the name stored in the log).
TABLES: dict[str, type[SQLModel]] = {
    "account": Account,
    "prospect": Prospect,
    "enrollment": Enrollment,
    "suppression": Suppression,
    "mailbox_state": MailboxState,
    "task": Task,
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


def revert(
    session: Session, data: dict[str, Any], done: list[dict[str, Any]] | None = None
) -> list[str]:
    """Undo one action's recorded changes, newest first; returns notes on what could not be.

    A field is restored only if it still holds the value the action wrote: when something else
    changed it since (another reply, a person), that later decision stands.

    When `done` is given, every change made here is appended to it, in order, so that `redo` can
    make it again: `{"table", "key", "field", "from", "to"}` for a field set from one value to
    another, `{"table", "key", "deleted": values}` for a row deleted (all its column values). Store
    it beside the action's data under `UNDO_KEY`.
    """
    notes: list[str] = []
    record: list[dict[str, Any]] = []
    for created in reversed(data.get("created", [])):
        notes += _delete_created(session, created, record)
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
        _set(
            session, row, change["field"], _decode(model, change["field"], change["before"]), record
        )
    session.flush()
    if done is not None:
        done += record
    return notes


def redo(session: Session, data: dict[str, Any]) -> list[str]:
    """Make again what `revert` undid (its record under `UNDO_KEY`), oldest first; returns notes.

    The mirror of `revert`: a field goes back to the value the action had written only if it
    still holds the value the undo restored (else the later decision stands and a note says so),
    and a deleted row is inserted again with its id and every value it had, unless a row with
    that key exists by now. Doing it twice changes nothing the second time.
    """
    notes: list[str] = []
    for step in reversed(data.get(UNDO_KEY, [])):
        model = TABLES[step["table"]]
        row = session.get(model, step["key"])
        if "deleted" in step:
            values = {
                name: _decode_value(model, name, value) for name, value in step["deleted"].items()
            }
            if row is None:
                try:
                    with session.begin_nested():  # a row with its unique value made since stays
                        session.add(model(**values))
                except sa.exc.IntegrityError:
                    notes.append(f"{step['table']} {step['key']}: clashes with a row made since")
            elif any(not _same(getattr(row, n), v) for n, v in values.items()):
                notes.append(f"{step['table']} {step['key']}: a different row exists by now")
            continue
        if row is None:
            notes.append(f"{step['table']} {step['key']}: gone since")
            continue
        current = getattr(row, step["field"])
        before = _decode(model, step["field"], step["from"])
        if _same(current, before):
            continue
        if not _same(current, _decode(model, step["field"], step["to"])):
            notes.append(f"{step['table']} {step['key']}: {step['field']} changed since")
            continue
        setattr(row, step["field"], before)
        session.add(row)
    session.flush()
    return notes


# Where an event's data keeps what `revert` did to it, for `redo`.
UNDO_KEY = "undone_changes"


def _set(
    session: Session, row: SQLModel, name: str, value: Any, record: list[dict[str, Any]]
) -> None:
    record.append(
        {
            "table": _table_of(row),
            "key": _key_of(row),
            "field": name,
            "from": _encode(getattr(row, name)),
            "to": _encode(value),
        }
    )
    setattr(row, name, value)
    session.add(row)


def _delete_created(
    session: Session, created: dict[str, Any], record: list[dict[str, Any]]
) -> list[str]:
    model = TABLES[created["table"]]
    row = session.get(model, created["key"])
    if row is None:
        return []
    values = {name: _encode_value(getattr(row, name)) for name in model.model_fields}
    try:
        # A savepoint: a row others now depend on (an enrollment that has sent mail) stays.
        with session.begin_nested():
            session.delete(row)
    except sa.exc.IntegrityError:
        row = session.get(model, created["key"])
        if isinstance(row, Enrollment):
            if row.status != EnrollmentStatus.STOPPED:
                _set(session, row, "status", EnrollmentStatus.STOPPED, record)
            if row.stop_cause != StopCause.UNDONE:
                _set(session, row, "stop_cause", StopCause.UNDONE, record)
                _set(session, row, "stop_reason", "undone", record)
        return [f"{created['table']} {created['key']} kept: other rows refer to it"]
    record.append({"table": created["table"], "key": created["key"], "deleted": values})
    return []


def _table_of(row: SQLModel) -> str:
    name = str(type(row).__tablename__)
    if name not in TABLES:
        raise ValueError(f"actions may not change table {name}")
    return name


def _key_of(row: SQLModel) -> Any:
    if isinstance(row, MailboxState):
        return row.name
    assert isinstance(row, Account | Prospect | Enrollment | Suppression | Task)
    return row.id


def _same(a: Any, b: Any) -> bool:
    # Datetimes compare as they are: the columns read them back aware UTC.
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
    if isinstance(annotation, types.UnionType | typing_union):
        kinds = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = kinds[0] if len(kinds) == 1 else None
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum) and value is not None:
        return annotation(value)
    return value


def _encode_value(value: Any) -> Any:
    """A whole column value of a deleted row: JSON columns wrapped, so they decode as they were."""
    if isinstance(value, dict | list):
        return {"json": value}
    return _encode(value)


def _decode_value(model: type[SQLModel], name: str, value: Any) -> Any:
    if isinstance(value, dict) and "json" in value:
        return value["json"]
    return _decode(model, name, value)
