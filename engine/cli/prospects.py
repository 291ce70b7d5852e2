"""`spear import`, `segment`, `enroll`, `prospect show`, `suppress`, `forget`, `export`: prospects
and privacy."""

from __future__ import annotations

import json
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click
from sqlmodel import Session, col, select

from engine.basics.segments import SegmentFilter
from engine.cadences import Cadence, load_cadences
from engine.cli.context import AppContext, SuggestingGroup, pass_app
from engine.cli.output import chosen_format, format_option
from engine.cli.params import INSTANT, INSTANT_FORMS
from engine.clock import SystemClock
from engine.display import OutputFormat, plural, records_text
from engine.errors import NotFoundError, SpearError
from engine.prospects.addresses import normalise_email
from engine.prospects.contact_state import EnrolPath, contact_state, load_contact_facts
from engine.prospects.enrollment import enroll, plan_enrollment
from engine.prospects.importer import import_prospects
from engine.prospects.privacy import export_person, forget_person
from engine.prospects.segments import find_segment, matches, segment_members
from engine.prospects.suppression import (
    add_suppression,
    import_suppressions,
    list_suppressions,
    remove_suppression,
)
from engine.store.models import Account, AccountGrade, AccountStage, Prospect

SAMPLE_SIZE = 10


def _now() -> datetime:
    return SystemClock().now()


@contextmanager
def _regular_file(file: Path) -> Iterator[Path]:
    """`file` itself when it is a regular file; else (`-`, a pipe, /dev/stdin) a copy of what it
    streams, since reading a file checks its encoding in one pass and its rows in another."""
    dash = str(file) == "-"
    try:
        regular = not dash and stat.S_ISREG(file.stat().st_mode)
    except OSError:
        regular = True  # the importer reports a missing or unreadable file with its name
    if regular:
        yield file
        return
    with tempfile.TemporaryDirectory(prefix="spear-import-") as folder:
        copy = Path(folder) / ("stdin" if dash else file.name)
        with copy.open("wb") as out:
            if dash:
                shutil.copyfileobj(sys.stdin.buffer, out)
            else:
                with file.open("rb") as stream:
                    shutil.copyfileobj(stream, out)
        yield copy


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--check-dns", is_flag=True, help="Also check each domain accepts mail (network).")
@click.option("--dry-run", is_flag=True, help="Check and count everything, store nothing.")
@pass_app
def import_command(app: AppContext, file: Path, check_dns: bool, dry_run: bool) -> None:
    """Import prospects from a CSV or JSON Lines (.jsonl) FILE (`-` reads standard input).

    Columns are matched by header name (Email, First Name, Company, Website, Employees, Country,
    Time Zone...); other columns are kept as custom fields. Addresses are normalised, so
    re-importing, or the same address twice in any case, updates the prospect and never
    duplicates it: the later row wins for the values it gives, and empty cells erase nothing.

    Summary counts: imported (new prospects), updated (a held prospect or its account changed),
    skipped (nothing changed, or an empty row), rejected (listed with line and reason).
    """
    with _regular_file(file) as readable, app.session() as session:
        report = import_prospects(
            session,
            readable,
            now=_now(),
            red_flags=app.config.red_flags,
            check_dns=check_dns,
            dry_run=dry_run,
        )
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    for problem in report.problems:
        click.echo(f"rejected {problem}", err=True)
    click.echo(("(dry run) " if dry_run else "") + report.summary())


@click.group("segment", cls=SuggestingGroup)
def segment_group() -> None:
    """Named audiences from the config's `segments:`."""


@segment_group.command("list")
@format_option
@pass_app
def segment_list(app: AppContext, output: str, as_json: bool) -> None:
    """List the segments and their conditions."""
    chosen = chosen_format(output, as_json)
    if chosen is not OutputFormat.TABLE:
        records = [
            {"name": name, "conditions": _conditions(segment), "description": segment.description}
            for name, segment in sorted(app.config.segments.items())
        ]
        click.echo(records_text(records, chosen))
        return
    if not app.config.segments:
        click.echo("No segments defined (add them under `segments:` in the config).")
    for name, segment in sorted(app.config.segments.items()):
        click.echo(f"{name}: {_conditions(segment)}")
        if segment.description:
            click.echo(f"  {segment.description}")


@segment_group.command("show")
@click.argument("name")
@click.option("--sample", "sample_size", default=SAMPLE_SIZE, show_default=True)
@format_option
@pass_app
def segment_show(app: AppContext, name: str, sample_size: int, output: str, as_json: bool) -> None:
    """How many prospects are in segment NAME, with a sample of them.

    With --format json or csv: every member, one record each (email, name, account, title).
    """
    segment = find_segment(app.config.segments, name)
    chosen = chosen_format(output, as_json)
    count, sample, members = 0, list[str](), list[dict[str, object]]()
    with app.session() as session:
        for prospect in segment_members(session, segment):
            count += 1
            if chosen is not OutputFormat.TABLE:
                members.append(_member_record(prospect))
            elif len(sample) < sample_size:
                sample.append(_describe(prospect))
    if chosen is not OutputFormat.TABLE:
        click.echo(records_text(members, chosen))
        return
    click.echo(f"{name}: {plural(count, 'prospect')} ({_conditions(segment)})")
    for line in sample:
        click.echo(f"  {line}")


@click.command("enroll")
@click.argument("cadence_name", metavar="CADENCE")
@click.option("--segment", "segment_name", help="Enrol this segment (default: the cadence's).")
@click.option("--prospect", "emails", multiple=True, help="Enrol this address (repeatable).")
@click.option("--start", type=INSTANT, help=f"First step due at ({INSTANT_FORMS}; default now).")
@click.option(
    "--again",
    is_flag=True,
    help="Also take people who replied, were in this cadence before, or are at a handed-off, "
    "paused or engaged account (never the unsubscribed, bounced or forgotten).",
)
@click.option("--dry-run", is_flag=True, help="Say who would be enrolled and who not, and why.")
@click.option(
    "--stage",
    "stages",
    multiple=True,
    type=click.Choice([s.value for s in AccountStage]),
    help="Only accounts at this stage (repeatable).",
)
@click.option(
    "--grade",
    "grades",
    multiple=True,
    type=click.Choice([g.value for g in AccountGrade], case_sensitive=False),
    help="Only accounts of this grade (repeatable).",
)
@click.option("--verbose", "-v", is_flag=True, help="List everyone, not only the counts.")
@pass_app
def enroll_command(
    app: AppContext,
    cadence_name: str,
    segment_name: str | None,
    emails: tuple[str, ...],
    start: datetime | None,
    again: bool,
    dry_run: bool,
    stages: tuple[str, ...],
    grades: tuple[str, ...],
    verbose: bool,
) -> None:
    """Enrol prospects in CADENCE: a segment, given addresses, or the cadence's own audience;
    --stage and --grade narrow it to accounts that far along.

    Nobody is enrolled who replied to anything, has been in CADENCE before, or is at a
    handed-off, paused or engaged account (someone there replied), unless --again; nobody ever
    who unsubscribed, bounced or was forgotten. Each prospect's contact state: `spear prospect
    show EMAIL`.
    """
    if segment_name and emails:
        raise click.UsageError("give --segment or --prospect, not both")
    config = app.config
    cadences = load_cadences(
        config.cadences_path,
        config.templates_path,
        mailboxes=[m.name for m in config.sending_mailboxes],
        segments=list(config.segments),
    )
    if cadence_name not in cadences:
        raise NotFoundError(f"no cadence named {cadence_name!r} (known: {', '.join(cadences)})")
    cadence = cadences[cadence_name]
    now = _now()
    path = EnrolPath.AGAIN if again else EnrolPath.COMMAND
    with app.session() as session:
        if emails:
            prospects = _prospects_by_email(session, emails)
            if stages or grades:
                narrow = SegmentFilter(stage=list(stages), grade=[g.upper() for g in grades])
                prospects = [p for p in prospects if _in_segment(session, narrow, p)]
        else:
            audience = _audience(app, cadence, segment_name)
            if stages or grades:
                only = {"stage": list(stages), "grade": [g.upper() for g in grades]}
                audience = SegmentFilter.model_validate(audience.model_dump() | only)
            prospects = list(segment_members(session, audience))
        red_flags = app.config.red_flags
        plan = plan_enrollment(session, cadence, prospects, now, path=path, red_flags=red_flags)
        if not dry_run:
            enroll(
                session,
                cadence,
                plan.enrol,
                now=now,
                start=start,
                path=path,
                red_flags=red_flags,
            )
    verb = "Would enrol" if dry_run else "Enrolled"
    click.echo(f"{verb} {len(plan.enrol)} in {cadence.name}; {len(plan.excluded)} excluded.")
    for reason, count in plan.counts().items():
        click.echo(f"  excluded {count}: {reason.value}")
    if not prospects and not emails:  # nothing to exclude either: say why there is no one
        which = f"segment {segment_name!r}" if segment_name else "the cadence's audience"
        narrowed = " with the --stage/--grade given" if stages or grades else ""
        click.echo(f"  {which} matches no prospect{narrowed}: nobody to enrol")
    # Given addresses are few: say what became of each. A segment is listed with --verbose.
    if verbose or emails:
        for prospect in plan.enrol:
            click.echo(f"  + {_describe(prospect)}")
        for excluded in plan.excluded:
            click.echo(f"  - {excluded.prospect.email}: {excluded.reason.value}: {excluded.detail}")


@click.command("show")
@click.argument("email")
@pass_app
def prospect_show(app: AppContext, email: str) -> None:
    """Show EMAIL's contact state and why, their account, enrollments and replies."""
    with app.session() as session:
        [prospect] = _prospects_by_email(session, (email,))
        facts = load_contact_facts(session, [prospect], app.config.red_flags)[prospect.id or 0]
    contact = contact_state(facts)
    click.echo(_describe(prospect))
    click.echo(f"state: {contact.state.value} ({contact.why})")
    if facts.account is not None:
        account = facts.account
        paused = ", paused" if account.paused else ""
        click.echo(f"account: {account.domain} ({account.status.value}{paused})")
    for enrollment in facts.enrollments:
        line = f"enrollment {enrollment.id}: {enrollment.cadence} {enrollment.status.value}"
        line += f", {enrollment.steps_sent} steps sent"
        if enrollment.stop_reason:
            line += f" ({enrollment.stop_reason})"
        click.echo(line)
    for reply in facts.replies:
        when = reply.received_at.isoformat(timespec="minutes") if reply.received_at else "-"
        click.echo(f"reply {reply.inbound_id}: {reply.label or 'unclassified'} at {when}")


def _audience(app: AppContext, cadence: Cadence, segment_name: str | None) -> SegmentFilter:
    name = segment_name or cadence.audience.segment
    if name:
        return find_segment(app.config.segments, name)
    if cadence.audience.filter is not None:
        return cadence.audience.filter
    raise SpearError("the cadence has no audience: give --segment or --prospect")


def _in_segment(session: Session, segment: SegmentFilter, prospect: Prospect) -> bool:
    account = session.get(Account, prospect.account_id) if prospect.account_id else None
    return matches(segment, prospect, account)


def _prospects_by_email(session: Session, emails: tuple[str, ...]) -> list[Prospect]:
    wanted = [normalise_email(e) for e in emails]
    found = {
        p.email: p for p in session.exec(select(Prospect).where(col(Prospect.email).in_(wanted)))
    }
    missing = [e for e in wanted if e not in found]
    if missing:
        raise NotFoundError(f"no prospect with address {', '.join(missing)} (import them first)")
    return [found[e] for e in wanted]


@click.group("suppress", cls=SuggestingGroup)
def suppress_group() -> None:
    """The suppression list: addresses and @domains never to be contacted."""


@suppress_group.command("add")
@click.argument("entries", nargs=-1, required=True)
@click.option("--reason", default="", help="Why (kept with the entry).")
@pass_app
def suppress_add(app: AppContext, entries: tuple[str, ...], reason: str) -> None:
    """Suppress addresses (jane@acme.com) or whole domains (@acme.com)."""
    with app.session() as session:
        for text in entries:
            with _user_errors():
                entry, added = add_suppression(session, text, now=_now(), reason=reason)
            click.echo(f"{'added' if added else 'already listed'}: {entry.value}")


@suppress_group.command("remove")
@click.argument("entries", nargs=-1, required=True)
@pass_app
def suppress_remove(app: AppContext, entries: tuple[str, ...]) -> None:
    """Take addresses or @domains off the list."""
    with app.session() as session:
        for text in entries:
            with _user_errors():
                removed = remove_suppression(session, text)
            click.echo(f"{'removed' if removed else 'not listed'}: {text}")


@suppress_group.command("list")
@format_option
@pass_app
def suppress_list(app: AppContext, output: str, as_json: bool) -> None:
    """Every entry with its kind, reason, source and time."""
    with app.session() as session:
        entries = list_suppressions(session)
    chosen = chosen_format(output, as_json)
    if chosen is not OutputFormat.TABLE:
        records = [
            {
                "kind": entry.kind.value,
                "value": entry.value,
                "reason": entry.reason,
                "source": entry.source.value,
                "created_at": entry.created_at.isoformat() if entry.created_at else None,
            }
            for entry in entries
        ]
        click.echo(records_text(records, chosen))
        return
    for entry in entries:
        when = entry.created_at.isoformat(timespec="seconds") if entry.created_at else "-"
        click.echo(f"{entry.kind.value}\t{entry.value}\t{entry.reason}\t{entry.source}\t{when}")
    click.echo(plural(len(entries), "entry", "entries"), err=True)


@suppress_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--reason", default="", help="Reason for entries whose line gives none.")
@pass_app
def suppress_import(app: AppContext, file: Path, reason: str) -> None:
    """Suppress one address or @domain per line of FILE (or a CSV with a reason column)."""
    with app.session() as session:
        result = import_suppressions(session, file, now=_now(), reason=reason)
    for problem in result.problems:
        click.echo(f"rejected {problem}", err=True)
    click.echo(f"{file.name}: {result.summary()}")


@click.command("forget")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def forget_command(app: AppContext, email: str, yes: bool) -> None:
    """Erase everything held about EMAIL; only a hash stays, so they are never contacted again."""
    if not yes:
        click.confirm(f"Erase all data about {email}? This cannot be undone", abort=True)
    with app.session() as session:
        found = forget_person(session, email, now=_now())
    held = "erased" if found else "no prospect held; hash"
    click.echo(f"{normalise_email(email)}: {held} suppressed so they are never contacted again")


@click.command("export")
@click.argument("email")
@pass_app
def export_command(app: AppContext, email: str) -> None:
    """Print as JSON everything held about EMAIL (a subject access request)."""
    with app.session() as session:
        held = export_person(session, email)
    click.echo(json.dumps(held, indent=2, ensure_ascii=False))


@contextmanager
def _user_errors() -> Iterator[None]:
    """A bad entry typed by the user is a one-line error, not a traceback."""
    try:
        yield
    except ValueError as exc:
        raise SpearError(str(exc)) from None


def _describe(prospect: Prospect) -> str:
    name = f"{prospect.first_name} {prospect.last_name}".strip()
    parts = [prospect.email, name, prospect.title or ""]
    return " | ".join(p for p in parts if p)


def _member_record(prospect: Prospect) -> dict[str, object]:
    return {
        "email": prospect.email,
        "first_name": prospect.first_name,
        "last_name": prospect.last_name,
        "title": prospect.title,
        "account_id": prospect.account_id,
    }


def _conditions(segment: SegmentFilter) -> str:
    given = segment.model_dump(exclude_defaults=True, exclude={"description"}, mode="json")
    return ", ".join(f"{k}={v}" for k, v in given.items()) or "everyone"


commands: list[click.Command] = [
    import_command,
    segment_group,
    enroll_command,
    suppress_group,
    forget_command,
    export_command,
]
