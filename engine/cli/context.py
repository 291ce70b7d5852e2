"""What every command may need, loaded only when it asks: the configuration and the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from engine.config import Config


@dataclass
class AppContext:
    config_file: str | None
    _config: Config | None = field(default=None, init=False)
    _engine: Engine | None = field(default=None, init=False)

    @property
    def config(self) -> Config:
        # Imported here: `spear --help` and `spear version` should not pay for pydantic models.
        from engine.config import config_path, load_config

        if self._config is None:
            self._config = load_config(config_path(self.config_file))
        return self._config

    @property
    def engine(self) -> Engine:
        from engine.store.db import make_engine

        if self._engine is None:
            self._engine = make_engine(self.config.database_url)
        return self._engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success; a database error is one line (`SpearGroup` turns
        the ones raised outside a session into the same line)."""
        import sqlalchemy as sa
        from sqlmodel import Session

        from engine.store.db import database_error

        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except sa.exc.DBAPIError as exc:
                session.rollback()
                raise database_error(exc) from None
            except BaseException:
                session.rollback()
                raise


pass_app = click.make_pass_decorator(AppContext)
