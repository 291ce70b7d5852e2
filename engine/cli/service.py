"""`spear status` and `spear report`: the daemon's state at a glance, and the play's funnel."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import click
from sqlmodel import Session

from engine.cli.context import AppContext, pass_app
from engine.cli.output import chosen_format, format_option
from engine.clock import SystemClock
from engine.display import OutputFormat, records_text
from engine.sending.mailboxes import mailbox_record
from engine.service.report import (
    DEFAULT_BY,
    RENDERERS,
    ReportError,
    check_dimensions,
    last_send_day,
    load_report,
    period_bounds,
)
from engine.service.status import collect_status, render_status

DEFAULT_REPORT_DAYS = 28


@click.command()
@format_option
@pass_app
def status(app: AppContext, output: str, as_json: bool) -> None:
    """Sends, failures, replies by label, queues, poll lag, each mailbox's capacity left today.

    csv: one line per mailbox, with its state and today's numbers.
    """
    with Session(app.engine) as session:
        current = collect_status(session, app.config, SystemClock().now())
    chosen = chosen_format(output, as_json)
    if chosen is OutputFormat.JSON:
        click.echo(current.to_json())
    elif chosen is OutputFormat.CSV:
        click.echo(records_text([mailbox_record(m) for m in current.mailboxes], chosen))
    else:
        click.echo(render_status(current))


def _dimensions(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[str, ...]:
    try:
        return check_dimensions([d.strip() for d in value.split(",") if d.strip()])
    except ReportError as exc:
        raise click.BadParameter(str(exc)) from None


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


@click.command()
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d"]),
    help=f"First day (UTC) of the period [default: {DEFAULT_REPORT_DAYS} days before --until].",
)
@click.option(
    "--until",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Last day (UTC), included [default: today, or the last send's day when later, as after "
    "the demo's simulated weeks].",
)
@click.option(
    "--by",
    default=",".join(DEFAULT_BY),
    show_default=True,
    callback=_dimensions,
    help="Rows per these dimensions, comma-separated: cadence,step,variant,segment,mailbox.",
)
@click.option(
    "--format",
    "output",
    type=click.Choice(sorted(RENDERERS)),
    default="table",
    show_default=True,
)
@click.option(
    "--deal-size",
    type=click.FloatRange(min=0),
    help="Average deal size for the forecast [default: the config's deal_size].",
)
@pass_app
def report(
    app: AppContext,
    since: datetime | None,
    until: datetime | None,
    by: tuple[str, ...],
    output: str,
    deal_size: float | None,
) -> None:
    """The funnel of messages sent in a period: sent, bounced, replied (against the play's 9%),
    referrals, interest, handed off; the weekly trend; the pipeline a month brings; the weighted
    pipeline now by stage, grade and owner; and speed to lead for the period's hand-offs."""
    from engine.service import pipeline

    now = SystemClock().now()
    with Session(app.engine) as session:
        today = now.date()
        last = _day(until) or max(today, last_send_day(session) or today)
        first = _day(since) or last - timedelta(days=DEFAULT_REPORT_DAYS - 1)
        result = load_report(
            session,
            since=first,
            until=last,
            by=by,
            deal_size=app.config.deal_size if deal_size is None else deal_size,
        )
        deals = pipeline.build_pipeline(
            pipeline.deals(session, app.config), app.config.pipeline.win_rates
        )
        start, end = period_bounds(first, last)
        speed = pipeline.speed_to_lead(
            pipeline.lead_waits(session, start, end),
            app.config.pipeline.speed_to_lead_hours,
            min(now, end),
        )
    funnel = RENDERERS[output](result).rstrip("\n")
    if output == "json":
        click.echo(json.dumps(json.loads(funnel) | pipeline.to_dict(deals, speed), indent=2))
    elif output == "csv":
        click.echo(funnel + "\n\n" + pipeline.render_csv(deals, speed).rstrip("\n"))
    else:
        click.echo(funnel + "\n\n" + pipeline.render_table(deals, speed))


commands: list[click.Command] = [status, report]
