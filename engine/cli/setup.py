"""`spear init` and `spear db`: a new working folder and its database."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import click
from sqlalchemy.engine import Engine

from engine.config import Config, config_path, load_config
from engine.shipped import STARTER_CONFIG, shipped_dir
from engine.store.db import make_engine, redact, upgrade


@dataclass
class AppContext:
    """What every command may need, loaded only when asked for."""

    config_file: str | None
    _engine: Engine | None = field(default=None, init=False)

    @cached_property
    def config(self) -> Config:
        return load_config(config_path(self.config_file))

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.config.database_url)
        return self._engine


pass_app = click.make_pass_decorator(AppContext)


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
def init(directory: Path, force: bool) -> None:
    """Write a commented starter config, the example cadences and their templates to DIRECTORY."""
    directory.mkdir(parents=True, exist_ok=True)
    copies = [(STARTER_CONFIG, directory / "spear.yaml")]
    for name in ("cadences", "templates"):
        source = shipped_dir(name)
        copies += [(f, directory / name / f.name) for f in sorted(source.iterdir()) if f.is_file()]
    existing = [target for _, target in copies if target.exists()]
    if existing and not force:
        raise click.ClickException(f"{existing[0]} already exists; use --force to overwrite")
    for source, target in copies:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    click.echo(
        f"Wrote {len(copies)} files to {directory}. Next: cd {directory} && spear db upgrade"
    )


@click.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option("--url", help="Database URL (default: the config's `database`).")
@pass_app
def db_upgrade(app: AppContext, url: str | None) -> None:
    """Apply schema migrations (also done automatically when the daemon starts)."""
    target = url or app.config.database_url
    upgrade(target)
    click.echo(f"Database {redact(target)} is at the latest schema.")
