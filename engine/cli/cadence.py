"""`spear cadence check` and `spear cadence preview`.

Both work without a configuration file: folders default to ./cadences and ./templates. When a
config is there (or named with --config), its folders are used, and `check` also verifies that the
mailboxes and segments the cadences name exist in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from sqlmodel import Session, select

from engine.cadences import (
    Cadence,
    LintWarning,
    TemplateContext,
    context_for,
    lint,
    load_cadences,
    sample_context,
    sender_vars,
)
from engine.cadences.loader import add_cadence, cadence_files, check_cadence_file, cross_check
from engine.cadences.preview import PlannedEmail, cadence_timezone, plan_preview
from engine.cli.context import AppContext, SuggestingGroup, pass_app
from engine.cli.output import chosen_format, format_option
from engine.cli.params import INSTANT, INSTANT_FORMS
from engine.clock import SystemClock
from engine.config import Config, MailboxConfig, config_path
from engine.display import OutputFormat, plural, records_text
from engine.errors import CadenceError, NotFoundError, SpearError
from engine.store.models import Account, Prospect
from engine.yamlfile import load_yaml

SAMPLE_TIMEZONE = "America/New_York"


@click.group("cadence", cls=SuggestingGroup)
def command() -> None:
    """Check and preview cadences."""


def _config(app: AppContext) -> Config | None:
    """The configuration if there is one; these commands also work without."""
    if app.config_file is None and not config_path(None).is_file():
        return None
    return app.config


@dataclass(frozen=True)
class Folders:
    cadences: Path
    templates: Path


def _folders(config: Config | None, cadences: Path | None, templates: Path | None) -> Folders:
    return Folders(
        cadences or (config.cadences_path if config else Path("cadences")),
        templates or (config.templates_path if config else Path("templates")),
    )


# --- check ---------------------------------------------------------------------------------------


@command.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--templates",
    "templates_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Templates folder (default: the config's, else ./templates).",
)
@pass_app
def check(app: AppContext, paths: tuple[Path, ...], templates_dir: Path | None) -> None:
    """Validate and lint cadence files (default: the cadences folder).

    Errors exit with status 1; warnings are printed and exit 0.
    """
    config = _config(app)
    folders = _folders(config, None, templates_dir)
    files = cadence_files(paths or (folders.cadences,))
    errors: list[CadenceError] = []
    cadences: dict[str, Cadence] = {}
    for file in files:
        cadence, problems = check_cadence_file(file, folders.templates)
        errors += problems
        if cadence is None:
            continue
        try:
            add_cadence(cadences, cadence)
        except CadenceError as exc:
            errors.append(exc)
    known = set(cadences) | _names_beside(files)
    errors += cross_check(
        cadences.values(),
        known,
        mailboxes=[m.name for m in config.sending_mailboxes] if config else None,
        segments=list(config.segments) if config else None,
    )
    warnings: list[LintWarning] = []
    for cadence in cadences.values():
        warnings += lint(cadence)
    for error in sorted(errors, key=lambda e: (str(e.location.file), e.location.line or 0)):
        click.echo(f"{error.location}: error: {error.reason}", err=True)
    for warning in warnings:
        click.echo(str(warning))
    click.echo(
        f"{plural(len(files), 'cadence file')} checked: {plural(len(errors), 'error')}, "
        f"{plural(len(warnings), 'warning')}"
    )
    if errors:
        raise SystemExit(1)


def _names_beside(files: list[Path]) -> set[str]:
    """Names of the other cadences in the checked files' folders, which reply actions may use."""
    names: set[str] = set()
    for folder in {file.parent for file in files}:
        for other in cadence_files([folder]):
            try:
                document = load_yaml(other, CadenceError)
            except CadenceError:
                continue
            if isinstance(document, dict) and isinstance(document.get("name"), str):
                names.add(document["name"])
    return names


# --- preview -------------------------------------------------------------------------------------


@command.command("preview")
@click.argument("name")
@click.option("--prospect", "email", help="Preview for this prospect from the database.")
@click.option("--sample", is_flag=True, help="Preview for the sample prospect (no database).")
@click.option(
    "--start",
    type=INSTANT,
    help=f"When the enrolment starts, as for `spear enroll --start` ({INSTANT_FORMS}; "
    "default: now).",
)
@click.option("--mailbox", help="Sending mailbox (default: the cadence's first, else the first).")
@click.option("--seed", type=int, default=0, show_default=True, help="A/B variant seed.")
@click.option("--cadences", "cadences_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False, path_type=Path))
@format_option
@pass_app
def preview(
    app: AppContext,
    name: str,
    email: str | None,
    sample: bool,
    start: datetime | None,
    mailbox: str | None,
    seed: int,
    cadences_dir: Path | None,
    templates_dir: Path | None,
    output: str,
    as_json: bool,
) -> None:
    """Show the emails cadence NAME would send and the local dates and times they would go out."""
    if bool(email) == sample:
        raise click.UsageError("give exactly one of --prospect EMAIL or --sample")
    config = _config(app)
    folders = _folders(config, cadences_dir, templates_dir)
    cadences = load_cadences(folders.cadences, folders.templates)
    if name not in cadences:
        raise NotFoundError(f"no cadence named {name!r} in {folders.cadences}")
    cadence = cadences[name]
    default_zone = config.timezone if config else SAMPLE_TIMEZONE
    if sample:
        context = _sample_for(config, cadence, mailbox)
        tz = cadence_timezone(cadence, SAMPLE_TIMEZONE, default_zone)
    else:
        assert email is not None
        if config is None:
            raise click.UsageError("--prospect needs a configuration with a database")
        context, prospect_zone = _context_from_database(app, config, cadence, email, mailbox)
        tz = cadence_timezone(cadence, prospect_zone, default_zone)
    begin = start or SystemClock().now()
    planned = plan_preview(cadence, context, tz, begin, variant_seed=seed)
    chosen = chosen_format(output, as_json)
    if chosen is not OutputFormat.TABLE:
        click.echo(records_text([_planned_record(item) for item in planned], chosen))
        return
    click.echo(_header(cadence, context, tz, begin))
    for number, item in enumerate(planned, 1):
        click.echo(_format_planned(number, len(planned), item))


def _mailbox_name(config: Config, cadence: Cadence, mailbox: str | None) -> str:
    if mailbox:
        return mailbox
    if cadence.mailboxes:
        return cadence.mailboxes[0]
    if not config.mailboxes:
        raise SpearError("the configuration has no mailboxes to send from")
    return config.mailboxes[0].name


def _sample_for(config: Config | None, cadence: Cadence, mailbox: str | None) -> TemplateContext:
    context = sample_context()
    if config is None or not config.mailboxes:
        return context
    sender = _mailbox(config, _mailbox_name(config, cadence, mailbox))
    return TemplateContext(
        context.prospect, context.account, sender_vars(sender), context.referrer, context.custom
    )


def _mailbox(config: Config, name: str) -> MailboxConfig:
    try:
        return config.mailbox(name)
    except KeyError:
        raise NotFoundError(f"no mailbox named {name!r} in the configuration") from None


def _context_from_database(
    app: AppContext, config: Config, cadence: Cadence, email: str, mailbox: str | None
) -> tuple[TemplateContext, str | None]:
    sender = _mailbox(config, _mailbox_name(config, cadence, mailbox))
    with Session(app.engine) as session:
        prospect = session.exec(select(Prospect).where(Prospect.email == email.lower())).first()
        if prospect is None:
            raise NotFoundError(f"no prospect with address {email}")
        account = session.get(Account, prospect.account_id) if prospect.account_id else None
        referrer = (
            session.get(Prospect, prospect.referred_by_id) if prospect.referred_by_id else None
        )
        return context_for(prospect, account, sender, referrer), prospect.timezone


def _header(cadence: Cadence, context: TemplateContext, tz: ZoneInfo, start: datetime) -> str:
    person, sender = context.prospect, context.sender
    return (
        f"{cadence.name} (version {cadence.version}), {len(cadence.steps)} steps, "
        f"to {person.name} <{person.email}>, from {sender.name} <{sender.address}>\n"
        f"Times in {tz.key}; starting {_when(start.astimezone(tz))}."
    )


def _format_planned(number: int, total: int, item: PlannedEmail) -> str:
    variant = f", variant {item.email.variant}" if item.email.variant else ""
    utc_time = item.send_at.astimezone(UTC).strftime("%H:%M UTC")
    return (
        f"\n--- step {number}/{total}: {item.step.id}{variant} -- "
        f"{_when(item.local_time)} ({utc_time})\n"
        f"Subject: {item.subject}\n\n{item.email.body.rstrip()}"
    )


def _planned_record(item: PlannedEmail) -> dict[str, object]:
    return {
        "step": item.step.id,
        "type": item.step.type.value,
        "variant": item.email.variant,
        "send_at": item.send_at,
        "local_time": item.local_time,
        "subject": item.subject,
        "body": item.email.body,
    }


def _when(moment: datetime) -> str:
    return moment.strftime("%a %Y-%m-%d %H:%M %Z")
