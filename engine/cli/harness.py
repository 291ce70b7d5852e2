"""`spear harness`: local SMTP + IMAP servers (and optionally the scripted responder).

spear harness [--store DIR] [--smtp-port N] [--imap-port N] [--user EMAIL]... [--scenario F]
spear harness messages [--store DIR] [--show ID] [--json]
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from pathlib import Path

import click

from engine.cli.output import chosen_format, format_option
from engine.clock import SystemClock
from engine.display import OutputFormat, records_text
from engine.harness.harness import DEFAULT_USER, PASSWORD_ENV, Harness
from engine.harness.mailstore import MailStore
from engine.harness.responder import Responder
from engine.harness.scenario import Scenario, default_scenario, load_scenario

DEFAULT_STORE = ".spear-harness"
DEV_PASSWORD = "spear-harness"  # loopback only; override with SPEAR_HARNESS_PASSWORD
RESPONDER_TICK_SECONDS = 5.0


@click.group("harness", invoke_without_command=True)
@click.option("--store", default=DEFAULT_STORE, show_default=True, type=click.Path(file_okay=False))
@click.option("--smtp-port", default=2525, show_default=True, type=click.IntRange(0, 65535))
@click.option("--imap-port", default=1143, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--user",
    "users",
    multiple=True,
    metavar="EMAIL",
    help=f"A mailbox served over IMAP (repeatable; default {DEFAULT_USER}).",
)
@click.option(
    "--password",
    envvar=PASSWORD_ENV,
    default=DEV_PASSWORD,
    show_default=True,
    help=f"Password for every harness user (env {PASSWORD_ENV}).",
)
@click.option(
    "--scenario",
    metavar="FILE",
    help="Run the scripted responder with this scenario ('default' for the shipped one).",
)
@click.pass_context
def command(
    ctx: click.Context,
    store: str,
    smtp_port: int,
    imap_port: int,
    users: tuple[str, ...],
    password: str,
    scenario: str | None,
) -> None:
    """Run a local SMTP and IMAP server on 127.0.0.1 until Ctrl-C."""
    if ctx.invoked_subcommand is not None:
        return
    chosen = _scenario(scenario) if scenario else None
    addresses = users or (DEFAULT_USER,)
    harness = Harness(
        Path(store),
        dict.fromkeys(addresses, password),
        smtp_port=smtp_port,
        imap_port=imap_port,
    )
    asyncio.run(_serve(harness, chosen))


def _scenario(name: str) -> Scenario:
    return default_scenario() if name == "default" else load_scenario(Path(name))


async def _serve(harness: Harness, scenario: Scenario | None) -> None:
    logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd logs every command
    await harness.start()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    responder_task: asyncio.Task[None] | None = None
    try:
        _print_settings(harness, scenario)
        if scenario is not None:
            responder = Responder(
                harness.store,
                harness.users,
                scenario,
                SystemClock(),
                tick_seconds=RESPONDER_TICK_SECONDS,
            )
            responder_task = asyncio.create_task(responder.run())
        await stopping.wait()
    finally:
        click.echo("stopping harness", err=True)
        if responder_task is not None:
            responder_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await responder_task
        await harness.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    click.echo("harness stopped", err=True)


def _print_settings(harness: Harness, scenario: Scenario | None) -> None:
    click.echo(
        f"SMTP on {harness.host}:{harness.smtp_port}, IMAP on {harness.host}:{harness.imap_port}, "
        f"store {harness.store_path}"
    )
    if scenario is not None:
        click.echo(f"responder on: reply rate {scenario.reply_rate:.0%}, seed {scenario.seed}")
    click.echo(f"\nexport {PASSWORD_ENV}={next(iter(harness.users.values()))}\n")
    click.echo("# for spear.yaml:")
    click.echo(harness.settings_yaml())
    click.echo("Ctrl-C stops both servers.", err=True)


@command.command("messages")
@click.option("--store", default=DEFAULT_STORE, show_default=True, type=click.Path(file_okay=False))
@click.option("--show", "show_id", type=int, metavar="ID", help="Print one message in full.")
@format_option
def messages(store: str, show_id: int | None, output: str, as_json: bool) -> None:
    """List the mail the harness captured, or show one message (json: with its raw text)."""
    chosen = chosen_format(output, as_json)
    as_json = chosen is OutputFormat.JSON
    mail = MailStore(Path(store))
    if show_id is not None:
        captured = mail.get(show_id)
        if as_json:
            summary = captured.summary()
            summary["raw"] = captured.read_bytes().decode("utf-8", "replace")
            click.echo(json.dumps(summary, indent=2))
        else:
            click.echo(f"Envelope-From: {captured.mail_from}")
            click.echo(f"Envelope-To: {', '.join(captured.rcpt_tos)}")
            click.echo(f"Received-At: {captured.received_at.isoformat()}\n")
            click.echo(captured.read_bytes().decode("utf-8", "replace"))
        return
    summaries = [captured.summary() for captured in mail.captured()]
    if chosen is not OutputFormat.TABLE:
        click.echo(records_text(summaries, chosen))
        return
    if not summaries:
        click.echo(f"no captured mail in {store}")
        return
    for s in summaries:
        when = s["received_at"][:19].replace("T", " ")
        click.echo(f"{s['id']:>5}  {when}  {s['mail_from']} -> {', '.join(s['rcpt_tos'])}")
        click.echo(f"       {s['subject']}")
