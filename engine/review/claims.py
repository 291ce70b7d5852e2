"""Leases on queued replies: while one reviewer looks at a reply, nobody else decides it.

Opening a reply takes a lease of `LEASE`, which the open page renews every two minutes; deciding
needs the lease and gives it back. A lease nobody renews runs out, so a closed tab never locks a
reply for long. Taking a lease is
an UPDATE of a row that is ours or expired, else an INSERT that does nothing on conflict, each
RETURNING the row it wrote (which says whether it did): single statements, so two reviewers
racing for one reply on SQLite or PostgreSQL get one winner and one "X is looking at this".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from engine.store.models import ReviewClaim

LEASE = timedelta(minutes=5)


def claim(session: Session, inbound_id: int, reviewer: str, now: datetime) -> str | None:
    """Take or renew the lease on reply `inbound_id`: None when it is ours, else who holds it."""
    values = {"reviewer": reviewer, "claimed_at": now, "expires_at": now + LEASE}
    taken = session.execute(
        sa.update(ReviewClaim)
        .where(
            col(ReviewClaim.inbound_id) == inbound_id,
            sa.or_(col(ReviewClaim.reviewer) == reviewer, col(ReviewClaim.expires_at) <= now),
        )
        .values(values)
        .returning(col(ReviewClaim.inbound_id))
    ).first()
    if taken is not None:
        return None
    inserted = session.execute(
        _insert(session)
        .values(inbound_id=inbound_id, **values)
        .on_conflict_do_nothing()
        .returning(col(ReviewClaim.inbound_id))
    ).first()
    if inserted is not None:
        return None
    return holder(session, inbound_id, now) or reviewer


def release(session: Session, inbound_id: int, reviewer: str) -> None:
    """Give the lease back (only our own)."""
    session.execute(
        sa.delete(ReviewClaim).where(
            col(ReviewClaim.inbound_id) == inbound_id, col(ReviewClaim.reviewer) == reviewer
        )
    )


def holder(session: Session, inbound_id: int, now: datetime) -> str | None:
    """Who holds a live lease on the reply, if anyone."""
    return session.execute(
        sa.select(col(ReviewClaim.reviewer)).where(
            col(ReviewClaim.inbound_id) == inbound_id, col(ReviewClaim.expires_at) > now
        )
    ).scalar_one_or_none()


def holders(session: Session, inbound_ids: Iterable[int], now: datetime) -> dict[int, str]:
    """Live leases among `inbound_ids`: reply id -> reviewer."""
    ids = list(inbound_ids)
    if not ids:
        return {}
    rows = session.execute(
        sa.select(col(ReviewClaim.inbound_id), col(ReviewClaim.reviewer)).where(
            col(ReviewClaim.inbound_id).in_(ids), col(ReviewClaim.expires_at) > now
        )
    )
    return {inbound_id: reviewer for inbound_id, reviewer in rows}


def held_by_others(session: Session, reviewer: str, now: datetime) -> set[int]:
    """Replies someone else is looking at now."""
    rows = session.execute(
        sa.select(col(ReviewClaim.inbound_id)).where(
            col(ReviewClaim.reviewer) != reviewer, col(ReviewClaim.expires_at) > now
        )
    )
    return set(rows.scalars())


def _insert(session: Session) -> sqlite.Insert | postgresql.Insert:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(ReviewClaim)
    return sqlite.insert(ReviewClaim)
