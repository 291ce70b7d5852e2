"""The suppression list: addresses and whole domains never to be contacted, with reason and time.

An entry is an address (`jane@acme.com`), a domain (`@acme.com` or `acme.com`, covering its
subdomains too) or the sha256 hash of a forgotten person's address (written by `spear forget`, so
they are never contacted again without keeping who they were).

`is_suppressed` is checked at enrolment and again by the sender right before each message, so it
is one query on the unique index of `suppression.value`.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from engine.errors import ImportRowError, InputError, Location
from engine.prospects.addresses import AddressError, email_hash, normalise_email, parse_address
from engine.prospects.fields import RowProblem, parse_domain
from engine.prospects.reading import open_import_file
from engine.store.models import Suppression, SuppressionKind, SuppressionSource

_TABLE = Suppression.__table__  # type: ignore[attr-defined]
_HEADER_VALUES = frozenset({"email", "address", "domain", "value", "entry", "e-mail"})


def parse_entry(text: str) -> tuple[SuppressionKind, str]:
    """`jane@Acme.com` -> (address, its normal form); `@acme.com` or `acme.com` -> (domain, ...)."""
    text = text.strip()
    if "@" in text.lstrip("@"):
        try:
            return SuppressionKind.ADDRESS, parse_address(text).email
        except AddressError as exc:
            raise ValueError(f"{text!r} is not a valid address: {exc}") from None
    try:
        return SuppressionKind.DOMAIN, parse_domain(text.lstrip("@"))
    except RowProblem:
        raise ValueError(f"{text!r} is neither an address nor a domain") from None


def is_suppressed(session: Session, email: str) -> str | None:
    """Why `email` must not be contacted (its address, domain or hash is listed), or None."""
    reasons = suppression_reasons(session, [email])
    return reasons.get(normalise_email(email))


def suppression_reasons(session: Session, emails: Iterable[str]) -> dict[str, str]:
    """For each suppressed address among `emails` (by normal form): the reason. One query."""
    return suppression_reasons_normalised(session, {normalise_email(e) for e in emails})


def suppression_reasons_normalised(
    db: Session | Connection, emails: Iterable[str]
) -> dict[str, str]:
    """`suppression_reasons` for addresses already in normal form (e.g. `Prospect.email`).

    They are only trimmed and lower-cased, not validated again: the sender checks every message
    just before it goes, and validating would cost more than the send itself.
    """
    entries = suppression_entries_normalised(db, emails)
    return {email: why for email, (_kind, why) in entries.items()}


def suppression_entries_normalised(
    db: Session | Connection, emails: Iterable[str]
) -> dict[str, tuple[SuppressionKind, str]]:
    """For each suppressed address among `emails`: the kind of the entry that lists it, and why."""
    keys = {email: _listed_forms(email) for email in {e.strip().lower() for e in emails}}
    values = {value for candidates in keys.values() for value in candidates}
    if not values:
        return {}
    connection = db.connection() if isinstance(db, Session) else db
    found = {
        row.value: row
        for row in connection.execute(
            sa.select(_TABLE.c.kind, _TABLE.c.value, _TABLE.c.reason).where(
                _TABLE.c.value.in_(values)
            )
        )
    }
    entries = {}
    for email, candidates in keys.items():
        entry = next((found[v] for v in candidates if v in found), None)
        if entry is not None:
            kind = SuppressionKind(entry.kind)
            entries[email] = (kind, _describe(kind, entry.value, entry.reason))
    return entries


def describe(entry: Suppression) -> str:
    return _describe(entry.kind, entry.value, entry.reason)


def _describe(kind: SuppressionKind, value: str, reason: str) -> str:
    if kind is SuppressionKind.HASH:
        return "forgotten on request (suppressed by hash)"
    what = "address" if kind is SuppressionKind.ADDRESS else f"domain {value}"
    return f"suppressed {what}" + (f": {reason}" if reason else "")


def add_suppression(
    session: Session,
    text: str,
    *,
    now: datetime,
    reason: str = "",
    source: SuppressionSource = SuppressionSource.MANUAL,
) -> tuple[Suppression, bool]:
    """Add an entry (see `parse_entry`); returns it and whether it is new (else kept as it was)."""
    kind, value = parse_entry(text)
    return _add(session, kind, value, now=now, reason=reason, source=source)


def add_hash(
    session: Session, email: str, *, now: datetime, reason: str, source: SuppressionSource
) -> None:
    _add(session, SuppressionKind.HASH, email_hash(email), now=now, reason=reason, source=source)


def _add(
    session: Session,
    kind: SuppressionKind,
    value: str,
    *,
    now: datetime,
    reason: str,
    source: SuppressionSource,
) -> tuple[Suppression, bool]:
    existing = session.exec(select(Suppression).where(Suppression.value == value)).first()
    if existing is not None:
        return existing, False
    entry = Suppression(kind=kind, value=value, reason=reason, source=source, created_at=now)
    session.add(entry)
    session.flush()
    return entry, True


def remove_suppression(session: Session, text: str) -> bool:
    """Remove an address or domain entry; False when it was not listed."""
    _kind, value = parse_entry(text)
    entry = session.exec(select(Suppression).where(Suppression.value == value)).first()
    if entry is None:
        return False
    session.delete(entry)
    session.flush()
    return True


def list_suppressions(session: Session) -> list[Suppression]:
    return list(session.exec(select(Suppression).order_by(col(Suppression.created_at))))


@dataclass
class SuppressionImport:
    added: int = 0
    already_listed: int = 0
    problems: list[ImportRowError] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.added} added, {self.already_listed} already listed, "
            f"{len(self.problems)} rejected"
        )


def import_suppressions(
    session: Session,
    path: Path,
    *,
    now: datetime,
    reason: str = "",
    source: SuppressionSource = SuppressionSource.IMPORT,
) -> SuppressionImport:
    """One address or `@domain` per line, or a CSV whose header names an email/domain column and
    optionally a reason column. Lines starting with `#` are comments."""
    result = SuppressionImport()
    source_file = open_import_file(path)
    with source_file.open() as stream:
        value_column, reason_column = 0, None
        for number, line in enumerate(stream, start=1):
            cells = [c.strip() for c in next(csv.reader([line]), [])]
            if not any(cells) or cells[0].startswith("#"):
                continue
            lowered = [c.lower() for c in cells]
            if number == 1 and _HEADER_VALUES & set(lowered):
                value_column = next(i for i, c in enumerate(lowered) if c in _HEADER_VALUES)
                reason_column = lowered.index("reason") if "reason" in lowered else None
                continue
            row_reason = reason
            if reason_column is not None and reason_column < len(cells):
                row_reason = cells[reason_column] or reason
            try:
                _entry, added = add_suppression(
                    session, cells[value_column], now=now, reason=row_reason, source=source
                )
            except (ValueError, IndexError) as exc:
                result.problems.append(ImportRowError(Location(path.name, number), str(exc)))
                continue
            result.added += added
            result.already_listed += not added
    if not result.added and not result.already_listed and not result.problems:
        raise InputError(Location(path), "no addresses or domains in the file")
    return result


def _listed_forms(email: str) -> list[str]:
    """What the list may hold for `email`: itself, its hash, its domain and parent domains."""
    # `email_hash` of an address already in normal form, without validating it again.
    digest = hashlib.sha256(email.encode("utf-8")).hexdigest()
    return [email, digest, *_domains_of(email)]


def _domains_of(email: str) -> list[str]:
    """`a@mail.eu.acme.com` -> mail.eu.acme.com, eu.acme.com, acme.com (never the bare TLD)."""
    domain = email.rpartition("@")[2]
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]
