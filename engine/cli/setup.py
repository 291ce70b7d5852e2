"""`spear init` and `spear db`: a new working folder and its database."""

from __future__ import annotations

from pathlib import Path

import click

from engine.cli.context import AppContext, SuggestingGroup, pass_app
from engine.shipped import copy_files, starter_files
from engine.store.db import redact, upgrade


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
def init(directory: Path, force: bool) -> None:
    """Write a commented starter config, the example cadences and their templates to DIRECTORY."""
    copies = starter_files(directory)
    existing = [target for _, target in copies if target.exists()]
    if existing and not force:
        raise click.ClickException(f"{existing[0]} already exists; use --force to overwrite")
    copy_files(copies)
    click.echo(
        f"Wrote {len(copies)} files to {directory}. Next: cd {directory} && spear db upgrade"
    )


@click.group(cls=SuggestingGroup)
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
