"""`spear schedule`: what is planned, when (recipient's time and UTC), and what capacity is left."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import click
from sqlmodel import Session, col, select

from engine.cli.context import AppContext, pass_app
from engine.cli.output import chosen_format, format_option
from engine.clock import SystemClock
from engine.config import Config
from engine.display import OutputFormat, plural, records_text, table
from engine.prospects.timezones import prospect_timezone
from engine.sending.mailboxes import mailbox_statuses
from engine.store.models import DUE, Account, OutboundMessage, OutboundStatus, Prospect


@click.command("schedule")
@click.option("--limit", default=50, show_default=True, help="How many planned messages to list.")
@format_option
@pass_app
def command(app: AppContext, limit: int, output: str, as_json: bool) -> None:
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
        planned = [
            _planned(config, message, prospect, account, now) for message, prospect, account in rows
        ]
        mailboxes = [m for m in mailbox_statuses(db, config, now) if m.configured]
    chosen = chosen_format(output, as_json)
    if chosen is not OutputFormat.TABLE:
        click.echo(records_text(planned, chosen))
        return
    click.echo(f"Planned ({plural(len(planned), 'message')} shown):")
    if planned:
        headers = ["LOCAL TIME", "ZONE", "UTC", "TO", "STEP", "MAILBOX", ""]
        cells = [
            [*(str(p[key]) for key in ("local_time", "zone", "utc", "to", "step", "mailbox")),
             "(retry)" if p["retry"] else ""]
            for p in planned
        ]  # fmt: skip
        for line in table(headers, cells):
            click.echo(f"  {line}")
    else:
        click.echo("  nothing planned")
    click.echo("")
    click.echo("Mailboxes (remaining today):")
    if not mailboxes:
        click.echo("  no mailboxes configured")
    lines = table(
        ["MAILBOX", "LEFT TODAY", "DAILY CAP", "ADDRESS", ""],
        [
            [m.name, str(m.remaining_today), str(m.daily_cap), m.address or "",
             f"PAUSED: {m.paused_reason}" if m.paused else ""]
            for m in mailboxes
        ],
        right=(1, 2),
    )  # fmt: skip
    for line in lines if mailboxes else []:
        click.echo(f"  {line}")


def _planned(
    config: Config,
    message: OutboundMessage,
    prospect: Prospect,
    account: Account | None,
    now: datetime,
) -> dict[str, object]:
    places = [(prospect.country, prospect.region)]
    if account is not None:
        places.append((account.country, account.region))
    zone = ZoneInfo(prospect_timezone(prospect.timezone, places, config.timezone))
    at = message.scheduled_at or now
    retry = message.status == OutboundStatus.RETRY
    if retry and message.next_attempt_at is not None:
        at = message.next_attempt_at
    return {
        "local_time": f"{at.astimezone(zone):%a %Y-%m-%d %H:%M}",
        "zone": zone.key,
        "utc": f"{at:%Y-%m-%d %H:%M}Z",
        "to": prospect.email,
        "step": message.step_id,
        "mailbox": message.mailbox,
        "retry": retry,
    }
