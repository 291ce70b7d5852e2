"""`spear outbox uncertain|settle`: the messages that may or may not have gone, and deciding."""

from __future__ import annotations

import click

from engine.cli.context import AppContext, pass_app
from engine.clock import SystemClock
from engine.sending.uncertain import Settlement, settle, uncertain_rows


@click.group("outbox")
def command() -> None:
    """The outbox: messages whose delivery is uncertain, and settling them.

    A message is uncertain when the SMTP transaction broke off after its body was handed over
    (the process died, the connection dropped): it may have been delivered. Spear never sends it
    again on its own, and the prospect's cadence waits until a person settles it.
    """


@command.command("uncertain")
@pass_app
def uncertain_command(app: AppContext) -> None:
    """List uncertain messages: id, recipient, step, when, which worker, what the server said."""
    with app.session() as session:
        rows = uncertain_rows(session)
    for row in rows:
        when = row.when.isoformat(timespec="seconds") if row.when else "-"
        click.echo(
            f"{row.id}\t{row.to_address}\tstep {row.step_id}\t{row.mailbox}\t{when}\t"
            f"worker {row.worker or '-'}\tserver: {row.server_reply or 'no reply'}\t"
            f"{row.error or ''}"
        )
    click.echo(
        f"{len(rows)} uncertain"
        + ("; settle each: spear outbox settle ID --sent|--not-sent" if rows else ""),
        err=True,
    )


@command.command("settle")
@click.argument("outbound_id", metavar="ID", type=int)
@click.option("--sent", "outcome", flag_value=Settlement.SENT.value, help="It was delivered.")
@click.option(
    "--not-sent", "outcome", flag_value=Settlement.NOT_SENT.value, help="It was not: send it."
)
@pass_app
def settle_command(app: AppContext, outbound_id: int, outcome: str | None) -> None:
    """Settle uncertain message ID: --sent (the cadence goes on) or --not-sent (queued once more).

    A message settled --not-sent goes back into the outbox with its Message-ID and is re-slotted
    into the next allowed send time; if it ends up uncertain again, --not-sent gives it up and
    ends that enrollment.
    """
    if outcome is None:
        raise click.UsageError("say --sent or --not-sent")
    with app.session() as session:
        settled = settle(session, outbound_id, Settlement(outcome), SystemClock().now())
    click.echo(settled.summary())
