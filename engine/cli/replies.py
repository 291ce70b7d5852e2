"""`spear poll` (fetch, classify and act on replies) and `spear inbox` (what came in)."""

from __future__ import annotations

import asyncio

import click
from sqlmodel import Session, col, select

from engine.cadences import load_cadences
from engine.cli.context import AppContext, pass_app
from engine.cli.output import chosen_format, format_option
from engine.clock import SystemClock
from engine.config import resolve_secrets
from engine.display import OutputFormat, plural, records_text, table
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
            f"{plural(counts.mailboxes, 'mailbox', 'mailboxes')}: {counts.fetched} fetched, "
            f"{counts.stored} stored, {plural(counts.duplicates, 'duplicate')}, "
            f"{counts.resumed} resumed"
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
@format_option
@pass_app
def inbox(app: AppContext, unmatched: bool, limit: int, output: str, as_json: bool) -> None:
    """List stored inbound messages: id, status, label, sender, subject."""
    query = select(InboundMessage).order_by(col(InboundMessage.id).desc()).limit(limit)
    if unmatched:
        query = query.where(col(InboundMessage.prospect_id).is_(None))
    with Session(app.engine) as session:
        rows = session.exec(query).all()
    records = [
        {
            "id": row.id,
            "status": str(row.status),
            "label": row.label,
            "from": row.from_address,
            "subject": row.subject,
            "review_reason": row.review_reason,
        }
        for row in rows
    ]
    chosen = chosen_format(output, as_json)
    if chosen is not OutputFormat.TABLE:
        click.echo(records_text(records, chosen))
        return
    if not rows:
        click.echo("no messages")
        return
    cells = [
        [str(r["id"]), str(r["status"]), str(r["label"] or "-"), str(r["from"] or "-"),
         str(r["subject"] or ""), str(r["review_reason"] or "")]
        for r in records
    ]  # fmt: skip
    headers = ["ID", "STATUS", "LABEL", "FROM", "SUBJECT", "REVIEW REASON"]
    for line in table(headers, cells, right=(0,), widest={3: 32, 4: 50, 5: 40}):
        click.echo(line)
    click.echo(plural(len(rows), "message"))


commands = [poll, inbox]
