"""Alembic environment: runs Spear's migrations against the URL `engine.store.db` gives it."""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool

from engine.store import models  # noqa: F401  (registers the tables on the metadata)
from engine.store.db import make_engine
from sqlmodel import SQLModel

target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
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
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
