"""Leases on queued replies, on SQLite and on PostgreSQL: one holder at a time, until it expires."""

from __future__ import annotations

from datetime import timedelta

from replies.acme import START
from sqlalchemy.engine import Engine
from sqlmodel import Session

from engine.review import claims
from engine.store.db import session_scope
from engine.store.models import InboundMessage, InboundStatus


def reply(engine: Engine) -> int:
    with session_scope(engine) as session:
        row = InboundMessage(mailbox="alex", raw=b"x", status=InboundStatus.REVIEW)
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def test_one_holder_at_a_time_until_the_lease_runs_out(any_db_engine: Engine) -> None:
    item = reply(any_db_engine)
    with session_scope(any_db_engine) as session:
        assert claims.claim(session, item, "alex", START) is None
    with session_scope(any_db_engine) as session:
        assert claims.claim(session, item, "kim", START + timedelta(minutes=1)) == "alex"
        assert claims.claim(session, item, "alex", START + timedelta(minutes=2)) is None  # renewed
        assert claims.holders(session, [item], START) == {item: "alex"}
        assert claims.held_by_others(session, "kim", START) == {item}
        assert claims.held_by_others(session, "alex", START) == set()
    later = START + timedelta(minutes=2) + claims.LEASE
    with session_scope(any_db_engine) as session:
        assert claims.holder(session, item, later) is None
        assert claims.claim(session, item, "kim", later) is None  # expired: kim's now
        assert claims.claim(session, item, "alex", later) == "kim"


def test_release_gives_back_only_ones_own_lease(any_db_engine: Engine) -> None:
    item = reply(any_db_engine)
    with session_scope(any_db_engine) as session:
        claims.claim(session, item, "alex", START)
        claims.release(session, item, "kim")
        assert claims.holder(session, item, START) == "alex"
        claims.release(session, item, "alex")
        assert claims.holder(session, item, START) is None
    with Session(any_db_engine) as session:
        assert claims.claim(session, item, "kim", START) is None
