"""The `spear` command line.

Each command group lives in its own module here and is added to `main` below. Every
`SpearError` becomes one clear line on stderr and exit code 1; usage errors exit 2 (click's rule).
"""

from __future__ import annotations

from typing import Any

import click

from engine import __version__
from engine.cli import cadence as cadence_cmd
from engine.cli import classify as classify_cmd
from engine.cli import harness as harness_cmd
from engine.cli import prospects as prospects_cmd
from engine.cli import service as service_cmd
from engine.cli import setup
from engine.errors import SpearError


class SpearGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SpearError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=SpearGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    envvar="SPEAR_CONFIG",
    help="Configuration file (default: ./spear.yaml; env SPEAR_CONFIG).",
)
@click.version_option(__version__, prog_name="spear")
@click.pass_context
def main(ctx: click.Context, config_file: str | None) -> None:
    """Spear: the Cold Calling 2.0 referral play, from cadences to classified replies."""
    ctx.obj = setup.AppContext(config_file)


@main.command()
def version() -> None:
    """Print Spear's version."""
    click.echo(__version__)


main.add_command(setup.init)
main.add_command(setup.db)
main.add_command(cadence_cmd.command)
main.add_command(classify_cmd.command)
main.add_command(harness_cmd.command)
for command in prospects_cmd.commands:
    main.add_command(command)
for command in service_cmd.commands:
    main.add_command(command)
