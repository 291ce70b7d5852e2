"""Fixtures shared by every test folder: migrated databases, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from engine.harness import ports
from engine.store.db import make_engine, normalise_url, upgrade

# The local mail harness's fixtures (mail_harness, mail_harness_factory, harness_user).
pytest_plugins = ["engine.harness.pytest_plugin"]

POSTGRES_ENV = "SPEAR_TEST_POSTGRES_URL"


async def _wait_until(condition: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"still not {what} after {timeout:g}s")
        await asyncio.sleep(0.02)


@pytest.fixture
def wait_until() -> Callable[[Callable[[], object], str], Awaitable[None]]:
    """`await wait_until(condition, "what it means")`: wait for the state a test depends on
    instead of sleeping and hoping it came (a sleep passes on a fast machine without the state
    and fails on a slow one with it)."""
    return _wait_until


@pytest.fixture
def free_port() -> int:
    """A loopback port nothing listens on right now, for a server the test starts."""
    return ports.free_port()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite database in a temporary file."""
    url = f"sqlite:///{tmp_path / 'spear.db'}"
    upgrade(url)
    return url


@pytest.fixture
def db_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A migrated database on SQLite, then on PostgreSQL: the test runs on both."""
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """An empty database of its own on the PostgreSQL server named by $SPEAR_TEST_POSTGRES_URL.

    scripts/test.sh starts a throwaway server when PostgreSQL is installed (.ci/run installs it).
    """
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        pytest.skip(
            f"no PostgreSQL server: set {POSTGRES_ENV}, or install PostgreSQL and use "
            "scripts/test.sh, which starts one"
        )
    name = f"spear_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(normalise_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            sa.engine.make_url(normalise_url(server))
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
