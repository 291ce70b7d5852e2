"""Opening the database, migrating it, and sessions.

SQLite in a file is the embedded default: WAL lets the CLI read while the daemon writes, and a
busy timeout makes short write contention wait instead of fail. PostgreSQL is reached by URL
(`postgresql+psycopg://...`, the `postgres` extra).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from engine.errors import DatabaseError

if TYPE_CHECKING:
    # Alembic is imported where it is used: commands that only read never migrate.
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Plain `postgresql://` URLs use psycopg 3, the driver of the `postgres` extra."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    try:
        if is_sqlite(url):
            engine = sa.create_engine(
                url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs
            )
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = sa.create_engine(url, pool_pre_ping=True, **kwargs)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise DatabaseError(f"cannot use database URL {redact(url)}: {exc}") from None
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparseable URL>"


def alembic_config(url: str) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would choke on '%' in passwords.
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema at `url` up to `revision`; safe to call on every start."""
    if is_sqlite(url):
        _make_parent_dir(url)
    from alembic import command

    try:
        command.upgrade(alembic_config(url), revision)
    except sa.exc.OperationalError as exc:
        raise DatabaseError(f"cannot migrate {redact(url)}: {exc.orig}") from None


def database_error(exc: sa.exc.DBAPIError) -> DatabaseError:
    """One line for a failure of the database itself, instead of SQLAlchemy's long report."""
    reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc).__name__
    missing_table = "no such table" in reason or getattr(exc.orig, "pgcode", None) == "42P01"
    if missing_table:
        return DatabaseError(
            f"the database has no Spear tables yet ({reason}): run `spear db upgrade`"
        )
    return DatabaseError(f"database error: {reason}")


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _make_parent_dir(url: str) -> None:
    database = sa.engine.make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
