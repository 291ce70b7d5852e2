"""`spear account list|show|pause|resume|status`: see and steer accounts by hand."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

import click

from engine.cli.context import AppContext, SuggestingGroup, pass_app
from engine.cli.output import chosen_format, format_option
from engine.cli.sales import ACCOUNT_COMMANDS
from engine.clock import SystemClock
from engine.display import OutputFormat, plural, records_text
from engine.prospects.account_control import (
    AccountSummary,
    EnrollmentLine,
    account_detail,
    find_account,
    list_accounts,
    pause_by_hand,
    resume_account,
    set_account_status,
)
from engine.prospects.sales import SalesView, sales_view
from engine.store.models import NEVER_ENROLL, AccountStatus

STATUSES = [s.value for s in AccountStatus]


@click.group("account", cls=SuggestingGroup)
def command() -> None:
    """Accounts (prospects grouped by domain): list, show, pause, resume, set the status; the
    sale's stage and grade, with their history.

    Spear pauses an account itself when someone there replies: the other contacts' cadences wait
    until `spear account resume DOMAIN`. Domains match in any case.
    """


@command.command("list")
@click.option("--paused", "paused_only", is_flag=True, help="Only paused accounts.")
@click.option(
    "--status", type=click.Choice(STATUSES, case_sensitive=False), help="Only this status."
)
@format_option
@pass_app
def list_command(
    app: AppContext, paused_only: bool, status: str | None, output: str, as_json: bool
) -> None:
    """Accounts by domain: name, status, paused, contacts, active and paused enrollments."""
    wanted = AccountStatus(status.lower()) if status else None
    with app.session() as session:
        accounts = list_accounts(session, paused_only=paused_only, status=wanted)
    chosen = chosen_format(output, as_json)
    if chosen is OutputFormat.JSON:
        click.echo(_json([asdict(a) for a in accounts]))
        return
    if chosen is OutputFormat.CSV:
        click.echo(records_text([asdict(a) for a in accounts], chosen))
        return
    for account in accounts:
        click.echo(_summary_line(account))
    click.echo(plural(len(accounts), "account"), err=True)


@command.command("show")
@click.argument("domain")
@format_option
@pass_app
def show_command(app: AppContext, domain: str, output: str, as_json: bool) -> None:
    """The account for DOMAIN, its status and why, and each contact with their enrollments.

    csv: one line per contact, their enrollments as JSON in the last cell.
    """
    with app.session() as session:
        account = find_account(session, domain)
        detail = account_detail(session, account)
        sales = sales_view(session, account)
    chosen = chosen_format(output, as_json)
    if chosen is OutputFormat.JSON:
        click.echo(_json(asdict(detail) | {"sales": asdict(sales)}))
        return
    if chosen is OutputFormat.CSV:
        click.echo(records_text([asdict(c) for c in detail.contacts], chosen))
        return
    click.echo(_summary_line(detail.summary))
    click.echo(f"  {_sales_line(sales)}")
    if detail.summary.status_reason:
        click.echo(f"  status reason: {detail.summary.status_reason}")
    for contact in detail.contacts:
        described = " | ".join(p for p in (contact.email, contact.name, contact.title or "") if p)
        click.echo(f"  {described}")
        for enrollment in contact.enrollments:
            click.echo(f"    {_enrollment_line(enrollment)}")
        if not contact.enrollments:
            click.echo("    not enrolled")
    if not detail.contacts:
        click.echo("  no contacts")


@command.command("pause")
@click.argument("domain")
@click.option("--reason", help="Why (kept in the enrollments' stop reason and the event log).")
@pass_app
def pause_command(app: AppContext, domain: str, reason: str | None) -> None:
    """Pause the account for DOMAIN: every active enrollment there waits until it is resumed."""
    with app.session() as session:
        paused = pause_by_hand(session, find_account(session, domain), SystemClock().now(), reason)
    if paused.was_paused and not paused.enrollments:
        click.echo(f"{paused.domain}: already paused; nothing changed")
        return
    state = "was already paused" if paused.was_paused else "paused"
    click.echo(f"{paused.domain}: {state}; {plural(len(paused.enrollments), 'enrollment')} paused")


@command.command("resume")
@click.argument("domain")
@pass_app
def resume_command(app: AppContext, domain: str) -> None:
    """Lift the pause on DOMAIN: the enrollments the account pause held go on.

    Enrollments paused for another reason stay paused. A step that fell due during the pause is
    booked into the next allowed slot, under the mailbox's caps; a message that was planned and
    cancelled during the pause goes back into the outbox and is re-slotted likewise.
    """
    with app.session() as session:
        resumed = resume_account(session, find_account(session, domain), SystemClock().now())
    if not resumed.changed:
        click.echo(f"{resumed.domain}: not paused; nothing changed")
        return
    again = f"; {plural(len(resumed.revived), 'cancelled message')} back in the outbox"
    click.echo(
        f"{resumed.domain}: resumed; {plural(len(resumed.enrollments), 'enrollment')} active again"
        + (again if resumed.revived else "")
        + (
            f"; {plural(len(resumed.stopped), 'enrollment')} stopped (replied, unsubscribed or "
            "bounced meanwhile)"
            if resumed.stopped
            else ""
        )
    )


@command.command("status")
@click.argument("domain")
@click.argument("status", type=click.Choice(STATUSES, case_sensitive=False), metavar="STATUS")
@click.option("--reason", help="Why (kept as the account's status reason).")
@pass_app
def status_command(app: AppContext, domain: str, status: str, reason: str | None) -> None:
    """Set the status of the account for DOMAIN to STATUS by hand.

    STATUS is one of: prospecting, engaged, handed-off, customer, not-fit, duplicate, dead.

    An account that is customer, not-fit, duplicate or dead is never enrolled: setting one of these
    also stops its open enrollments and cancels their messages waiting in the outbox. Setting
    another status back does not restart them; enrol the contacts again.
    """
    with app.session() as session:
        account = find_account(session, domain)
        change = set_account_status(
            session, account, AccountStatus(status.lower()), SystemClock().now(), reason
        )
    line = f"{change.domain}: {change.previous.value} -> {change.status.value} ({change.reason})"
    if change.status in NEVER_ENROLL:
        line += (
            f"; {plural(len(change.stopped), 'enrollment')} stopped, "
            f"{plural(len(change.cancelled), 'waiting message')} cancelled"
        )
    click.echo(line)


def _sales_line(s: SalesView) -> str:
    grade = s.grade.value if s.grade else "-"
    suggested = s.suggested_grade.value if s.suggested_grade else "-"
    roles = ", ".join(
        f"{role} {email}" for email, role in sorted(s.roles.items(), key=lambda r: r[1])
    )
    return (
        f"stage {s.stage.value}, grade {grade} (suggested {suggested}), "
        f"owner {s.owner or '-'}" + (f", roles: {roles}" if roles else "")
    )


def _summary_line(a: AccountSummary) -> str:
    paused = ", PAUSED" if a.paused else ""
    name = f" ({a.name})" if a.name and a.name != a.domain else ""
    return (
        f"{a.domain}{name}: {a.status}{paused}, {plural(a.contacts, 'contact')}, "
        f"enrollments {a.active_enrollments} active, {a.paused_enrollments} paused"
    )


def _enrollment_line(e: EnrollmentLine) -> str:
    line = f"#{e.id} {e.cadence}: {e.status}"
    if e.stop_reason:
        line += f" ({e.stop_reason})"
    line += f", {e.steps_sent} sent"
    if e.status in ("active", "paused") and e.next_step:
        due = f" due {e.next_due_at:%Y-%m-%d %H:%MZ}" if e.next_due_at else ""
        line += f", next {e.next_step}{due}"
    return line


def _json(value: Any) -> str:
    return json.dumps(value, default=_json_default, indent=2, ensure_ascii=False)


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


for _command in ACCOUNT_COMMANDS:
    command.add_command(_command)
