"""`spear queue` (list, `export`) and `spear review` (interactive, or one decision for scripts)."""

from __future__ import annotations

import getpass
import json
import os
import sys
import termios
import tty
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from engine.classify import Referral, ReplyLabel
from engine.cli.context import AppContext, pass_app
from engine.clock import SystemClock, utc
from engine.display import OutputFormat, plural
from engine.review.formatting import format_queue
from engine.review.queue import QueueFilter, list_queue
from engine.store.db import session_scope
from engine.tasks.listing import count_due_tasks

if TYPE_CHECKING:
    from engine.replies import ReplySettings
    from engine.review.decisions import Outcome
    from engine.review.session import Terminal

# `spear queue` must list fast: what deciding needs (cadences, actions, the terminal session)
# is imported by the commands that decide, not when this module loads.

LABELS = click.Choice([str(label) for label in ReplyLabel])
WHEN = click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
DAY = click.DateTime(["%Y-%m-%d"])
DEFAULT_SPOT_CHECK_DAYS = 7


@click.group("queue", invoke_without_command=True)
@click.option("--label", "labels", multiple=True, type=LABELS, help="Only this label (repeatable).")
@click.option("--mailbox", help="Only replies to this mailbox.")
@click.option("--cadence", help="Only replies to this cadence.")
@click.option("--account", help="Only replies from this account (its domain).")
@click.option("--since", type=WHEN, help="Received on or after (UTC).")
@click.option("--until", type=WHEN, help="Received before (UTC).")
@click.option("--all", "show_all", is_flag=True, help="Also what was applied automatically.")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=DEFAULT_SPOT_CHECK_DAYS,
    show_default=True,
    help="With --all: how far back to include automatic decisions.",
)
@click.option(
    "--format",
    "output",
    type=click.Choice([str(f) for f in OutputFormat]),
    default=str(OutputFormat.TABLE),
    show_default=True,
)
@click.pass_context
def queue(
    ctx: click.Context,
    labels: tuple[str, ...],
    mailbox: str | None,
    cadence: str | None,
    account: str | None,
    since: datetime | None,
    until: datetime | None,
    show_all: bool,
    days: int,
    output: str,
) -> None:
    """List the replies waiting for a person (`spear queue export`: the decisions as data)."""
    if ctx.invoked_subcommand is not None:
        return
    app = ctx.find_object(AppContext)
    assert app is not None
    queue_filter = QueueFilter(
        labels=labels,
        mailbox=mailbox,
        cadence=cadence,
        account=account,
        since=utc(since) if since else None,
        until=utc(until) if until else None,
        include_applied_days=days if show_all else None,
    )
    now = SystemClock().now()
    with session_scope(app.engine) as session:
        items = list_queue(session, queue_filter, now)
        tasks_due = count_due_tasks(session, now)
    text = format_queue(items, output)
    click.echo(text, nl=not text.endswith("\n"))
    if tasks_due and output == OutputFormat.TABLE:  # the rep's other queue, on stderr
        click.echo(f"Also {plural(tasks_due, 'task')} due: spear tasks", err=True)


@queue.command("export")
@click.option("--since", type=WHEN, help="Only decisions made on or after (UTC).")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (default: standard output).",
)
@pass_app
def export(app: AppContext, since: datetime | None, output: Path | None) -> None:
    """Reviewed replies as labelled data, one JSON object a line: raw message, both labels."""
    with session_scope(app.engine) as session:
        from engine.review.decisions import export_decisions

        examples = export_decisions(session, since=utc(since) if since else None)
        if output is None:
            count = _write_lines(examples, sys.stdout)
        else:
            with output.open("w", encoding="utf-8") as stream:
                count = _write_lines(examples, stream)
            click.echo(
                f"Wrote {plural(count, 'labelled reply', 'labelled replies')} to {output}.",
                err=True,
            )


def _write_lines(examples: Iterable[dict[str, Any]], stream: TextIO) -> int:
    count = 0
    for example in examples:
        stream.write(json.dumps(example, ensure_ascii=False) + "\n")
        count += 1
    return count


@click.command("review")
@click.argument("item_id", metavar="[ID]", type=int, required=False)
@click.option("--label", type=LABELS, help="Relabel reply ID (its old actions are undone).")
@click.option("--accept", "accept_it", is_flag=True, help="Accept what Spear proposes for ID.")
@click.option("--referral", "referrals", multiple=True, help='"Name <email>" (repeatable).')
@click.option("--resume-after", type=DAY, help="When a not-now prospect may be written again.")
@click.option("--return-date", type=DAY, help="When an out-of-office prospect is back.")
@click.option("--undo", is_flag=True, help="Undo your last decision.")
@click.option("--reviewer", default=lambda: _default_reviewer(), help="Default: $USER.")
@click.option("--mailbox", help="Interactive: only replies to this mailbox.")
@click.option("--cadence", help="Interactive: only replies to this cadence.")
@click.option("--account", help="Interactive: only replies from this account (domain).")
@pass_app
def review(
    app: AppContext,
    item_id: int | None,
    label: str | None,
    accept_it: bool,
    referrals: tuple[str, ...],
    resume_after: datetime | None,
    return_date: datetime | None,
    undo: bool,
    reviewer: str,
    mailbox: str | None,
    cadence: str | None,
    account: str | None,
) -> None:
    """Work through the review queue, one key per decision (with ID and --label or --accept:
    decide one reply without asking)."""
    from engine.review.decisions import accept, relabel, undo_last
    from engine.review.session import ReviewSession

    settings = _reply_settings(app)
    clock = SystemClock()
    edits = bool(referrals or resume_after or return_date)
    if undo:
        with session_scope(app.engine) as session:
            decision = undo_last(session, reviewer, settings, now=clock.now())
        click.echo(f"Undone: #{decision.inbound_id} is back to {decision.old_label}.")
        return
    if accept_it and (label or edits):
        raise click.UsageError("--accept takes no --label, --referral or dates")
    if item_id is None and (accept_it or label or edits):
        raise click.UsageError("--label, --accept, --referral and dates need a reply ID")
    if item_id is not None and (accept_it or label or edits):
        with session_scope(app.engine) as session:
            if accept_it:
                outcome = accept(session, item_id, settings, now=clock.now(), reviewer=reviewer)
            else:
                outcome = relabel(
                    session,
                    item_id,
                    label or _label_from_edits(referrals, resume_after, return_date),
                    settings,
                    now=clock.now(),
                    reviewer=reviewer,
                    referrals=_referrals(referrals) if referrals else None,
                    resume_after=_day(resume_after),
                    return_date=_day(return_date),
                )
        _echo_outcome(outcome)
        return
    with _terminal() as terminal:
        ReviewSession(
            app.engine,
            settings,
            terminal,
            reviewer=reviewer,
            now=clock.now,
            queue_filter=QueueFilter(mailbox=mailbox, cadence=cadence, account=account),
            only=item_id,
        ).run()


commands = [queue, review]


# --- helpers ------------------------------------------------------------------------------------


def _default_reviewer() -> str:
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):  # no user database entry (some containers)
        return "reviewer"


def _reply_settings(app: AppContext) -> ReplySettings:
    from engine.cadences import load_cadences
    from engine.replies import ReplySettings

    config = app.config
    cadences = load_cadences(config.cadences_path, config.templates_path)
    return ReplySettings.from_config(config, cadences)


def _label_from_edits(
    referrals: tuple[str, ...], resume_after: datetime | None, return_date: datetime | None
) -> str:
    if referrals:
        return str(ReplyLabel.REFERRAL)
    if return_date:
        return str(ReplyLabel.AUTO_REPLY)
    return str(ReplyLabel.NOT_NOW)


def _referrals(values: tuple[str, ...]) -> list[Referral]:
    from engine.review.session import parse_edit

    try:
        edit = parse_edit(", ".join(values), str(ReplyLabel.REFERRAL))
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--referral") from None
    return edit.referrals or []


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _echo_outcome(outcome: Outcome) -> None:
    decision = outcome.decision
    click.echo(f"#{decision.inbound_id}: {decision.old_label} -> {decision.new_label} (saved)")
    for note in outcome.notes:
        click.echo(f"  note: {note}")


@contextmanager
def _terminal() -> Iterator[Terminal]:
    """Single keys on a terminal, lines from anything else (a pipe, click's test runner).

    On a terminal the whole session runs in cbreak mode (keys arrive unechoed, without Enter;
    Ctrl-C still interrupts), so a key typed while Spear is still writing is neither lost nor
    shown; cooked mode comes back for a typed line and, whatever happens, at the end.
    """
    from engine.review.session import Terminal

    if not sys.stdin.isatty():
        yield Terminal(read_key=_first_character_of_line, read_line=_read_line, write=click.echo)
        return
    fd = sys.stdin.fileno()
    cooked = termios.tcgetattr(fd)

    def read_key() -> str:
        key = os.read(fd, 32).decode("utf-8", errors="replace")
        return "" if key in ("", "\x04") else key  # Ctrl-D: quit

    def read_line(prompt: str) -> str:
        termios.tcsetattr(fd, termios.TCSANOW, cooked)
        try:
            return _read_line(prompt)
        finally:
            tty.setcbreak(fd, termios.TCSANOW)

    tty.setcbreak(fd, termios.TCSANOW)
    try:
        yield Terminal(read_key=read_key, read_line=read_line, write=click.echo)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, cooked)


def _first_character_of_line() -> str:
    line = sys.stdin.readline()
    if not line:
        return ""  # end of input: quit
    return line.strip()[:1] or "\n"


def _read_line(prompt: str) -> str:
    try:
        value: str = click.prompt(prompt, default="", show_default=False)
    except click.Abort:
        return ""
    return value
