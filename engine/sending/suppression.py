"""The suppression checks the dispatcher runs inside its own transactions.

The list and its rules belong to `engine.prospects.suppression`: an address is suppressed when it,
its domain or a parent domain, or the hash kept of a forgotten person is listed. The dispatcher
asks for a whole batch of addresses at once and on its own connection. Addresses reach it already
in their normal form (the outbox copies `Prospect.email`), so they are only trimmed and
lower-cased here rather than validated again, which would cost more than the send itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session, SQLModel

from engine.prospects.suppression import add_suppression
from engine.store import models  # noqa: F401  (defines the tables)

SUPPRESSION = SQLModel.metadata.tables["suppression"]


def suppression_reasons(db: Connection, emails: Sequence[str]) -> dict[str, str]:
    """For each suppressed address among `emails` (trimmed, lower-cased): why. One query."""
    candidates = {email: _listed_forms(email) for email in {e.strip().lower() for e in emails}}
    values = {value for forms in candidates.values() for value in forms}
    if not values:
        return {}
    found = {
        row.value: row
        for row in db.execute(
            sa.select(SUPPRESSION.c.kind, SUPPRESSION.c.value, SUPPRESSION.c.reason).where(
                SUPPRESSION.c.value.in_(values)
            )
        )
    }
    reasons = {}
    for email, forms in candidates.items():
        entry = next((found[form] for form in forms if form in found), None)
        if entry is not None:
            shown = "(forgotten person)" if entry.kind == "hash" else entry.value
            reasons[email] = f"{entry.kind} {shown}: {entry.reason}".rstrip(": ")
    return reasons


def suppress_bounced(db: Connection, email: str, reply: str, now: datetime) -> None:
    """Put a hard-bounced address on the suppression list (kept as it was if already there)."""
    with Session(bind=db) as session:
        add_suppression(
            session, email, now=now, reason=f"hard bounce: {reply}"[:500], source="smtp"
        )


def _listed_forms(email: str) -> list[str]:
    """What the list may hold for `email`: itself, its hash, its domain and parent domains."""
    labels = email.rpartition("@")[2].split(".")
    domains = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    return [email, hashlib.sha256(email.encode("utf-8")).hexdigest(), *domains]
