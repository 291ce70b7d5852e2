"""The `spear` command line.

Each command lives in a module of this package, named in `COMMANDS` and imported only when it
runs, so `spear --version` or `spear status` do not pay for the classifier or the harness. Every
`SpearError` becomes one clear line on stderr and exit code 1; usage errors exit 2 (click's rule).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from engine import __version__
from engine.cli.context import AppContext, SuggestingGroup
from engine.errors import SpearError

# command name -> "module:attribute", in the order of the flow.
COMMANDS = {
    "init": "engine.cli.setup:init",
    "db": "engine.cli.setup:db",
    "cadence": "engine.cli.cadence:command",
    "import": "engine.cli.prospects:import_command",
    "account": "engine.cli.accounts:command",
    "prospect": "engine.cli.sales:prospect_group",
    "segment": "engine.cli.prospects:segment_group",
    "enroll": "engine.cli.prospects:enroll_command",
    "suppress": "engine.cli.prospects:suppress_group",
    "unsubscribe": "engine.cli.unsubscribe:command",
    "schedule": "engine.cli.schedule:command",
    "tasks": "engine.cli.tasks:tasks",
    "task": "engine.cli.tasks:task",
    "mailbox": "engine.cli.mailboxes:command",
    "outbox": "engine.cli.outbox:command",
    "run": "engine.cli.run:run",
    "poll": "engine.cli.replies:poll",
    "inbox": "engine.cli.replies:inbox",
    "classify": "engine.cli.classify:command",
    "queue": "engine.cli.review:queue",
    "review": "engine.cli.review:review",
    "web": "engine.cli.web:web",
    "status": "engine.cli.service:status",
    "report": "engine.cli.service:report",
    "harness": "engine.cli.harness:command",
    "demo": "engine.cli.demo:demo",
    "forget": "engine.cli.prospects:forget_command",
    "export": "engine.cli.prospects:export_command",
}


class SpearGroup(SuggestingGroup):
    """Finds commands in `COMMANDS` on demand, and turns SpearErrors into one line, exit 1."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*COMMANDS, *super().list_commands(ctx)]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return super().get_command(ctx, name)
        module, attribute = COMMANDS[name].split(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SpearError as exc:
            raise click.ClickException(str(exc)) from None
        except Exception as exc:
            # Commands that query without `AppContext.session` (status, report, queue...): a
            # database without Spear's tables is the same one line, not SQLAlchemy's report.
            sqlalchemy = sys.modules.get("sqlalchemy")
            if sqlalchemy is None or not isinstance(exc, sqlalchemy.exc.DBAPIError):
                raise
            from engine.store.db import database_error

            raise click.ClickException(str(database_error(exc))) from None


@click.group(
    cls=SpearGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
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
    ctx.obj = AppContext(config_file)
    if ctx.invoked_subcommand is None:  # `spear` alone: the help, as a question answered
        click.echo(ctx.get_help())


@main.command()
def version() -> None:
    """Print Spear's version."""
    click.echo(__version__)
