"""Alembic environment: runs Spear's migrations against the URL `engine.store.db` gives it."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import pool
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from engine.store import models  # noqa: F401  (registers the tables on the metadata)
from engine.store.db import make_engine

target_metadata = SQLModel.metadata


def render_item(kind: str, item: Any, _context: Any) -> str | Literal[False]:
    # Migrations speak plain SQLAlchemy, so they never depend on SQLModel's internals.
    if kind == "type" and isinstance(item, AutoString):
        return "sa.String()"
    return False


def run_migrations_offline() -> None:
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    connectable = make_engine(url, poolclass=pool.NullPool)
    with connectable.connect() as connection:
        # Batch mode lets the same migration alter tables on SQLite, which lacks ALTER COLUMN.
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
