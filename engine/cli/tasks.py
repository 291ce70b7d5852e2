"""`spear tasks` and `spear task done|undo|show|outcomes`: the calls and other steps reps do."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from zoneinfo import ZoneInfo

import click

from engine.basics.outcomes import (
    DEFAULT_ON_OUTCOME,
    Outcome,
    outcome_names,
    parse_outcome,
)
from engine.cli.context import AppContext, pass_app
from engine.cli.output import chosen_format, format_option
from engine.clock import SystemClock
from engine.display import OutputFormat, plural, records_text
from engine.errors import NotFoundError
from engine.tasks.listing import TaskLine, due_tasks, end_of_day, task_line


@click.command("tasks")
@click.option("--owner", help="Only this rep's tasks (a mailbox's or a prospect's owner).")
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Tasks due by the end of this day [default: today, in the config's time zone].",
)
@click.option(
    "--all",
    "include_done",
    is_flag=True,
    help="Also the ones done, and those of ended enrollments.",
)
@format_option
@pass_app
def tasks(
    app: AppContext,
    owner: str | None,
    day: datetime | None,
    include_done: bool,
    output: str,
    as_json: bool,
) -> None:
    """Today's calls, LinkedIn touches and other tasks, overdue ones first, with instructions.

    Record each one's outcome with `spear task done ID --outcome CODE`.
    """
    zone = app.config.timezone
    today = day.date() if day else SystemClock().now().astimezone(ZoneInfo(zone)).date()
    with app.session() as session:
        lines = due_tasks(
            session, until=end_of_day(today, zone), owner=owner, include_done=include_done
        )
    chosen = chosen_format(output, as_json)
    if chosen is not OutputFormat.TABLE:
        click.echo(records_text([asdict(t) for t in lines], chosen))
        return
    for line in lines:
        click.echo(_describe(line, zone))
    click.echo(plural(len(lines), "task"), err=True)


@click.group("task")
def task() -> None:
    """One task: record its outcome, undo that, show it, list the outcome codes."""


@task.command("done")
@click.argument("task_id", type=int)
@click.option(
    "--outcome", "code", required=True, help="An outcome code or name (spear task outcomes)."
)
@click.option("--note", help="What happened, in a few words.")
@click.option(
    "--resume",
    type=click.DateTime(["%Y-%m-%d"]),
    help="For a not-now outcome (call back later): when to go on.",
)
@click.option("--by", "actor", default="rep", show_default=True, help="Who did it.")
@pass_app
def done(
    app: AppContext,
    task_id: int,
    code: str,
    note: str | None,
    resume: datetime | None,
    actor: str,
) -> None:
    """Record what came of task TASK_ID; the cadence does what the outcome maps to."""
    from engine.tasks.recording import record_outcome

    renamed = app.config.tasks.outcome_names
    try:
        outcome = parse_outcome(code, renamed)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--outcome") from None
    with app.session() as session:
        result = record_outcome(
            session,
            task_id,
            outcome,
            app.config,
            now=SystemClock().now(),
            actor=actor,
            note=note,
            resume_on=resume.date() if resume else None,
        )
    click.echo(result.summary(outcome_names(renamed)[outcome]))


@task.command("undo")
@click.argument("task_id", type=int)
@click.option("--by", "actor", default="rep", show_default=True, help="Who undoes it.")
@pass_app
def undo_command(app: AppContext, task_id: int, actor: str) -> None:
    """Undo the outcome recorded for TASK_ID: the task is open again, the cadence as it was."""
    from engine.tasks.recording import undo_outcome

    with app.session() as session:
        notes = undo_outcome(session, task_id, now=SystemClock().now(), actor=actor)
    click.echo(f"task {task_id}: outcome undone" + "".join(f"; {n}" for n in notes))


@task.command("show")
@click.argument("task_id", type=int)
@pass_app
def show(app: AppContext, task_id: int) -> None:
    """Task TASK_ID with its instructions."""
    from engine.store.models import Task

    with app.session() as session:
        row = session.get(Task, task_id)
        if row is None:
            raise NotFoundError(f"no task {task_id}")
        line = task_line(session, row)
    click.echo(_describe(line, app.config.timezone))


@task.command("outcomes")
@pass_app
def outcomes(app: AppContext) -> None:
    """The outcome codes, the team's names for them, and what each does by default."""
    names = outcome_names(app.config.tasks.outcome_names)
    for outcome in Outcome:
        click.echo(f"{names[outcome]:<18} {outcome.value:<14} {DEFAULT_ON_OUTCOME[outcome]}")


def _describe(line: TaskLine, zone: str) -> str:
    local = line.due_at.astimezone(ZoneInfo(zone))
    who = f"{line.name} <{line.email}>" if line.name else line.email
    head = f"#{line.id} {line.kind} {local:%a %Y-%m-%d %H:%M} {who}"
    extra = [p for p in (line.title, line.company) if p]
    if line.phone:
        extra.append(f"phone {line.phone}" + (" (invalid)" if line.phone_invalid else ""))
    extra.append(f"{line.cadence}/{line.step_id}")
    if line.owner:
        extra.append(f"owner {line.owner}")
    if line.outcome:
        extra.append(f"{line.status}: {line.outcome}")
    body = "\n".join(f"    {text}" for text in line.instructions.rstrip().splitlines())
    return f"{head} ({', '.join(extra)})\n{body}"
