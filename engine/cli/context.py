"""What every command may need, loaded only when it asks: the configuration and the database."""

from __future__ import annotations

import difflib
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


class SuggestingGroup(click.Group):
    """A command group that answers a mistyped command with the closest one, as git does."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if args and not name.startswith("-") and self.get_command(ctx, name) is None:
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1, cutoff=0.6)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise click.UsageError(f"No such command '{name}'.{hint}", ctx)
        return super().resolve_command(ctx, args)
