"""`spear account stage|grade|ack|history|undo` and `spear prospect role` (and `show`): where a sale
stands."""

from __future__ import annotations

import getpass
import os

import click

from engine.cli.context import AppContext, pass_app
from engine.cli.prospects import prospect_show
from engine.clock import SystemClock
from engine.errors import NotFoundError
from engine.store.models import AccountGrade, AccountStage, BuyerRole

GRADES = [g.value for g in AccountGrade]
ROLES = [r.value for r in BuyerRole]


def _stage(text: str) -> AccountStage:
    from engine.basics.stages import parse_stage

    try:
        return parse_stage(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _default_actor() -> str:
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):  # no user database entry (some containers)
        return "spear-cli"


_BY = click.option("--by", "actor", default=_default_actor, help="Who (default: $USER).")


@click.command("stage")
@click.argument("domain")
@click.argument("stage", callback=lambda _c, _p, v: _stage(v), metavar="STAGE")
@click.option("--deal-size", type=click.FloatRange(min=0), help="The deal's size, if known.")
@_BY
@pass_app
def stage_command(
    app: AppContext, domain: str, stage: AccountStage, deal_size: float | None, actor: str
) -> None:
    """Move the account for DOMAIN to STAGE (recorded with who and when).

    STAGE (its code or its name): opportunity (0%), target-identified (10%), demo ("demo and
    support", 30%), key-people ("key people engaged", 50%), negotiation (70%), won (90%), paid
    (100%), lost. The rates are the defaults of `pipeline.win_rates`. An account executive's
    first stage after a hand-off is the lead's first action, for speed to lead.
    """
    from engine.prospects.account_control import find_account
    from engine.prospects.sales import set_stage

    with app.session() as session:
        account = find_account(session, domain)
        before = account.stage
        set_stage(
            session,
            account,
            stage,
            now=SystemClock().now(),
            actor=actor,
            deal_size=deal_size,
        )
    click.echo(f"{account.domain}: stage {before.value} -> {account.stage.value}")


@click.command("grade")
@click.argument("domain")
@click.argument("grade", type=click.Choice(GRADES, case_sensitive=False), metavar="A|B|C|D")
@_BY
@pass_app
def grade_command(app: AppContext, domain: str, grade: str, actor: str) -> None:
    """Grade the account for DOMAIN: A (all three key people, quote agreed), B (two, budget and
    process clear), C (one engaged, needs and budget known), D (first contact)."""
    from engine.prospects.account_control import find_account
    from engine.prospects.sales import sales_view, set_grade

    with app.session() as session:
        account = find_account(session, domain)
        set_grade(
            session, account, AccountGrade(grade.upper()), now=SystemClock().now(), actor=actor
        )
        suggested = sales_view(session, account).suggested_grade
    hint = f" (suggested {suggested.value})" if suggested and suggested != account.grade else ""
    click.echo(f"{account.domain}: grade {grade.upper()}{hint}")


@click.command("ack")
@click.argument("domain")
@_BY
@pass_app
def ack_command(app: AppContext, domain: str, actor: str) -> None:
    """Record that the account executive took the lead at DOMAIN (for speed to lead)."""
    from engine.prospects.account_control import find_account
    from engine.prospects.sales import acknowledge

    with app.session() as session:
        account = find_account(session, domain)
        acknowledge(session, account, now=SystemClock().now(), actor=actor)
    click.echo(f"{account.domain}: lead acknowledged by {actor}")


@click.command("history")
@click.argument("domain")
@pass_app
def history_command(app: AppContext, domain: str) -> None:
    """Who set the stage, grade and roles at DOMAIN, and when; hand-offs too."""
    from engine.prospects.account_control import find_account
    from engine.prospects.sales import history

    with app.session() as session:
        lines = history(session, find_account(session, domain))
    for line in lines:
        undone = " (undone)" if line.undone else ""
        click.echo(f"{line.at:%Y-%m-%d %H:%MZ} {line.actor}: {line.change}{undone}")
    if not lines:
        click.echo("nothing recorded yet", err=True)


@click.command("undo")
@click.argument("domain")
@_BY
@pass_app
def undo_command(app: AppContext, domain: str, actor: str) -> None:
    """Undo the newest stage, grade, acknowledgement or role change at DOMAIN."""
    from engine.prospects.account_control import find_account
    from engine.prospects.sales import undo_last

    with app.session() as session:
        event = undo_last(
            session, find_account(session, domain), now=SystemClock().now(), actor=actor
        )
    click.echo(f"undone: {event.kind} of {event.at:%Y-%m-%d %H:%MZ} by {event.actor}")


ACCOUNT_COMMANDS = [stage_command, grade_command, ack_command, history_command, undo_command]


@click.group("prospect")
def prospect_group() -> None:
    """One prospect: their contact state and history, their buyer role."""


# `show` lives with the other prospect commands (engine.cli.prospects); the group is this one.
prospect_group.add_command(prospect_show)


@prospect_group.command("role")
@click.argument("email")
@click.argument(
    "role", type=click.Choice([*ROLES, "none"], case_sensitive=False), metavar="eb|ub|tb|none"
)
@_BY
@pass_app
def role_command(app: AppContext, email: str, role: str, actor: str) -> None:
    """Tag EMAIL as the account's economic (eb), user (ub) or technical (tb) buyer."""
    from sqlmodel import select

    from engine.prospects.addresses import normalise_email
    from engine.prospects.sales import set_role
    from engine.store.models import Prospect

    with app.session() as session:
        address = normalise_email(email)
        prospect = session.exec(select(Prospect).where(Prospect.email == address)).first()
        if prospect is None:
            raise NotFoundError(f"no prospect with address {address}")
        chosen = None if role.lower() == "none" else BuyerRole(role.lower())
        set_role(session, prospect, chosen, now=SystemClock().now(), actor=actor)
    click.echo(f"{address}: {chosen.value if chosen else 'no role'}")
