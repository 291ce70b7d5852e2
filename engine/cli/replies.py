"""`spear poll` (fetch, classify and act on replies) and `spear inbox` (what came in)."""

from __future__ import annotations

import asyncio

import click
from sqlmodel import Session, col, select

from engine.cadences import load_cadences
from engine.cli.context import AppContext, pass_app
from engine.clock import SystemClock
from engine.config import resolve_secrets
from engine.replies.polling import poll_forever, poll_once
from engine.store.models import InboundMessage


@click.command()
@click.option("--once", is_flag=True, help="Sync each mailbox once and exit (for cron and tests).")
@click.option("--mailbox", "mailbox", default=None, help="Only this mailbox (by name).")
@pass_app
def poll(app: AppContext, once: bool, mailbox: str | None) -> None:
    """Fetch new replies over IMAP, classify them and act on them."""
    config = app.config
    resolve_secrets(config)
    cadences = load_cadences(config.cadences_path, config.templates_path)
    clock = SystemClock()
    if once:
        counts = asyncio.run(poll_once(config, app.engine, cadences, clock, mailbox=mailbox))
        click.echo(
            f"{counts.mailboxes} mailboxes: {counts.fetched} fetched, {counts.stored} stored, "
            f"{counts.duplicates} duplicates, {counts.resumed} resumed"
        )
        return
    stop = asyncio.Event()
    try:
        asyncio.run(poll_forever(config, app.engine, cadences, clock, stop))
    except KeyboardInterrupt:
        click.echo("stopped")


@click.command()
@click.option("--unmatched", is_flag=True, help="Only messages matched to no prospect.")
@click.option("--limit", default=50, show_default=True, help="How many, newest first.")
@pass_app
def inbox(app: AppContext, unmatched: bool, limit: int) -> None:
    """List stored inbound messages: id, status, label, sender, subject."""
    query = select(InboundMessage).order_by(col(InboundMessage.id).desc()).limit(limit)
    if unmatched:
        query = query.where(col(InboundMessage.prospect_id).is_(None))
    with Session(app.engine) as session:
        rows = session.exec(query).all()
    if not rows:
        click.echo("no messages")
    for row in rows:
        reason = f"  [{row.review_reason}]" if row.review_reason else ""
        click.echo(
            f"{row.id:>6}  {row.status:<8} {row.label or '-':<15} "
            f"{row.from_address or '-':<32} {row.subject or ''}{reason}"
        )


commands = [poll, inbox]
