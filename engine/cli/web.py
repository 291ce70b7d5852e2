"""`spear web`: the review queue and its surroundings in a browser (and `hash-password`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from engine.cli.context import AppContext
from engine.cli.review import _default_reviewer

if TYPE_CHECKING:
    from engine.web.app import Inbox


@click.group("web", invoke_without_command=True)
@click.option(
    "--listen",
    help="HOST:PORT to serve on (default: web.listen in spear.yaml, else 127.0.0.1:8025). "
    "A non-loopback address needs a password.",
)
@click.option(
    "--reviewer",
    default=lambda: _default_reviewer(),
    help="Who decides, when no password is set (default: $USER); each browser may pick a name.",
)
@click.pass_context
def web(ctx: click.Context, listen: str | None, reviewer: str) -> None:
    """Serve the web inbox: work through replies in a browser, with the keys of `spear review`."""
    if ctx.invoked_subcommand is not None:
        return
    from engine.config import Web, split_listen
    from engine.store.db import upgrade
    from engine.web.server import server_for

    app = ctx.find_object(AppContext)
    assert app is not None
    config = app.config
    try:
        host, port = split_listen(listen or (config.web or Web()).listen)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--listen") from None
    server = server_for(build_inbox(app, reviewer), host, port)  # refuses an unsafe address
    upgrade(config.database_url)
    click.echo(f"Spear web inbox on http://{host}:{port}/ (Ctrl-C stops it)", err=True)
    server.run()


@web.command("hash-password")
def hash_password() -> None:
    """Ask for a password and print its hash for `web.password_hash` in spear.yaml."""
    from engine.web.access import hash_password as make_hash

    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    click.echo(make_hash(password))


def build_inbox(app: AppContext, reviewer: str) -> Inbox:
    from engine.cadences import load_cadences
    from engine.clock import SystemClock
    from engine.replies import ReplySettings
    from engine.web.app import Inbox

    config = app.config
    settings = ReplySettings.from_config(
        config, load_cadences(config.cadences_path, config.templates_path)
    )
    return Inbox(app.engine, config, settings, SystemClock(), default_reviewer=reviewer)
