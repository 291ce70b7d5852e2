"""`spear schedule`: what is planned, when (recipient's time and UTC), and what capacity is left."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import click
from sqlmodel import Session, col, select

from engine.cli.context import AppContext, pass_app
from engine.clock import SystemClock, utc
from engine.config import Config
from engine.prospects.timezones import prospect_timezone
from engine.sending.mailboxes import mailbox_statuses
from engine.store.models import Account, OutboundMessage, OutboundStatus, Prospect

DUE = (OutboundStatus.PLANNED, OutboundStatus.RETRY)


@click.command("schedule")
@click.option("--limit", default=50, show_default=True, help="How many planned messages to list.")
@pass_app
def command(app: AppContext, limit: int) -> None:
    """Show planned messages (who, step, mailbox, local and UTC time) and capacity left today."""
    config = app.config
    now = SystemClock().now()
    with Session(app.engine) as db:
        rows = db.exec(
            select(OutboundMessage, Prospect, Account)
            .join(Prospect, col(Prospect.id) == OutboundMessage.prospect_id)
            .outerjoin(Account, col(Account.id) == Prospect.account_id)
            .where(col(OutboundMessage.status).in_(DUE))
            .order_by(col(OutboundMessage.scheduled_at))
            .limit(limit)
        ).all()
        click.echo(f"Planned ({len(rows)} shown):")
        if not rows:
            click.echo("  nothing planned")
        for message, prospect, account in rows:
            places = [(prospect.country, prospect.region)]
            if account is not None:
                places.append((account.country, account.region))
            zone = ZoneInfo(prospect_timezone(prospect.timezone, places, config.timezone))
            at = utc(message.scheduled_at or now)
            if message.status == OutboundStatus.RETRY and message.next_attempt_at is not None:
                at = utc(message.next_attempt_at)
            click.echo(
                f"  {at.astimezone(zone):%a %Y-%m-%d %H:%M} {zone.key:<20} "
                f"{at:%Y-%m-%d %H:%M}Z  {prospect.email:<32} {message.step_id:<10} "
                f"{message.mailbox}{'  (retry)' if message.status == OutboundStatus.RETRY else ''}"
            )
        click.echo("")
        click.echo("Mailboxes (remaining today):")
        for line in _capacity_lines(db, config, now):
            click.echo(f"  {line}")


def _capacity_lines(db: Session, config: Config, now: datetime) -> list[str]:
    lines = []
    for mailbox in mailbox_statuses(db, config, now):
        if not mailbox.configured:
            continue  # `spear mailbox list` shows those
        paused = f"  PAUSED: {mailbox.paused_reason}" if mailbox.paused else ""
        lines.append(
            f"{mailbox.name:<16} {mailbox.remaining_today:>4} of {mailbox.daily_cap:<4} "
            f"{mailbox.address}{paused}"
        )
    return lines or ["no mailboxes configured"]
