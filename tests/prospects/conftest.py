"""Fixtures for prospect tests: a migrated SQLite session and a fixed `now`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session


@pytest.fixture
def now() -> datetime:
    return datetime(2025, 3, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def session(db_engine: Engine) -> Iterator[Session]:
    with Session(db_engine, expire_on_commit=False) as session:
        yield session
