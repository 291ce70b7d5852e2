"""`spear unsubscribe serve`: the one-click unsubscribe endpoint on its own, for a separate host.

`spear run` serves the same endpoint itself when `unsubscribe.one_click` is set; this command is
for a host that only answers unsubscribe requests (beside a reverse proxy), sharing the database
with the daemons.
"""

from __future__ import annotations

import asyncio
import signal

import click

from engine.cli.context import AppContext, pass_app
from engine.clock import SystemClock
from engine.config import OneClick, config_path, config_secrets
from engine.errors import SpearError
from engine.service.logs import configure_logging
from engine.unsubscribe.app import one_click_app, serve


@click.group("unsubscribe")
def command() -> None:
    """The RFC 8058 one-click unsubscribe endpoint."""


@command.command("serve")
@click.option("--host", help="Listen on this address (default: unsubscribe.one_click.host).")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    help="Listen on this port (default: unsubscribe.one_click.port).",
)
@pass_app
def serve_command(app: AppContext, host: str | None, port: int | None) -> None:
    """Serve POST/GET /u/TOKEN until SIGTERM or SIGINT (put it behind an https reverse proxy)."""
    config = app.config
    settings = config.unsubscribe.one_click
    if settings is None:
        raise SpearError(
            f"{config_path(app.config_file)}: unsubscribe.one_click is not set "
            "(give it a public_url and a secret)"
        )
    settings = settings.model_copy(
        update={"host": host or settings.host, "port": port or settings.port}
    )
    configure_logging(config.log_format, secrets=list(config_secrets(config).values()))
    asyncio.run(_serve(app, settings))


async def _serve(app: AppContext, settings: OneClick) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await serve(one_click_app(app.engine, settings, SystemClock()), settings, stop)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        app.engine.dispose()
