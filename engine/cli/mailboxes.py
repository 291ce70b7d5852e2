"""`spear mailbox list|pause|resume`: see why a sender mailbox is paused, resume it, pause one."""

from __future__ import annotations

import click

from engine.cli.context import AppContext, SuggestingGroup, pass_app
from engine.cli.output import chosen_format, format_option
from engine.clock import SystemClock
from engine.display import OutputFormat, records_text
from engine.sending.mailboxes import (
    MailboxStatus,
    mailbox_record,
    mailbox_statuses,
    pause_mailbox,
    resume_mailbox,
)

DEFAULT_PAUSE_REASON = "paused by hand"


@click.group("mailbox", cls=SuggestingGroup)
def command() -> None:
    """Sender mailboxes: their state today, and pausing or resuming them by hand.

    Spear pauses a mailbox itself when its SMTP server refuses the credentials or too many of its
    messages are blocked; nothing is sent from it until it is resumed here.
    """


@command.command("list")
@format_option
@pass_app
def list_command(app: AppContext, output: str, as_json: bool) -> None:
    """Every mailbox: address, paused and why, alarm, sent today, cap, left today, last send.

    Today's cap is after the warm-up ramp; what is left is what the planner may still book today
    (messages planned for later today count). Mailboxes the database knows of but the
    configuration no longer has are listed as not configured.
    """
    with app.session() as session:
        mailboxes = mailbox_statuses(session, app.config, SystemClock().now())
    chosen = chosen_format(output, as_json)
    if chosen is not OutputFormat.TABLE:
        click.echo(records_text([mailbox_record(m) for m in mailboxes], chosen))
        return
    for mailbox in mailboxes:
        click.echo(_describe(mailbox))
    if not mailboxes:
        click.echo("No mailboxes configured (add them under `mailboxes:` in the config).")


@command.command("pause")
@click.argument("name")
@click.option("--reason", default=DEFAULT_PAUSE_REASON, show_default=True, help="Why (kept).")
@pass_app
def pause_command(app: AppContext, name: str, reason: str) -> None:
    """Stop sending from mailbox NAME until it is resumed (planned messages wait)."""
    with app.session() as session:
        change = pause_mailbox(session, app.config, name, SystemClock().now(), reason)
    if change.changed:
        click.echo(f"{name}: paused ({change.paused_reason})")
    else:
        click.echo(f"{name}: already paused ({change.paused_reason}); nothing changed")


@command.command("resume")
@click.argument("name")
@pass_app
def resume_command(app: AppContext, name: str) -> None:
    """Send from mailbox NAME again: clears its pause, the pause's reason and its alarm."""
    with app.session() as session:
        change = resume_mailbox(session, app.config, name, SystemClock().now())
    if not change.changed:
        click.echo(f"{name}: not paused; nothing changed")
        return
    alarm = f"; alarm cleared: {change.alarm}" if change.alarm else ""
    click.echo(f"{name}: resumed (was paused: {change.paused_reason or 'no reason given'}{alarm})")


def _describe(m: MailboxStatus) -> str:
    address = m.address or "(not configured)"
    state = f"PAUSED ({m.paused_reason or 'no reason given'})" if m.paused else "active"
    if m.daily_cap is None:
        capacity = f"{m.sent_today} sent today"
    else:
        capacity = f"{m.sent_today} of {m.daily_cap} sent today, {m.remaining_today} left"
    last = f"{m.last_send_at:%Y-%m-%d %H:%MZ}" if m.last_send_at else "never"
    alarm = f", ALARM: {m.alarm}" if m.alarm else ""
    return f"{m.name}: {address}, {state}, {capacity}, last send {last}{alarm}"
