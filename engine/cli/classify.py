"""`spear classify [--json] PATH...`: classify .eml files or folders of them, offline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click

from engine.classify import DEFAULT_THRESHOLD, Classification, classify_message
from engine.cli.output import chosen_format, format_option
from engine.display import OutputFormat, records_text


def _message_files(paths: tuple[Path, ...]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.eml") if p.is_file())
        else:
            yield path


def _summary(path: Path, result: Classification) -> str:
    parts = [f"{path}: {result.label} ({result.confidence:.2f})"]
    if result.bounce:
        addresses = ", ".join(r.address for r in result.bounce.recipients)
        parts.append(f"{result.bounce.kind} bounce, {result.bounce.reason}: {addresses}")
    if result.referrals:
        parts.append("refers to " + ", ".join(r.email or r.name or "?" for r in result.referrals))
    if result.resume_after:
        parts.append(f"resume after {result.resume_after}")
    if result.return_date:
        parts.append(f"back on {result.return_date}")
    if result.alternate_emails:
        parts.append("alternates " + ", ".join(result.alternate_emails))
    if result.best_guess:
        parts.append(f"best guess {result.best_guess}")
    if result.error:
        parts.append(f"error: {result.error}")
    return "; ".join(parts)


@click.command("classify")
@format_option
@click.option(
    "--threshold",
    type=click.FloatRange(0.0, 1.0),
    default=DEFAULT_THRESHOLD,
    show_default=True,
    help="Below this confidence a reply is labelled unclear.",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def command(output: str, as_json: bool, threshold: float, paths: tuple[Path, ...]) -> None:
    """Classify replies and bounces in .eml files or folders (no config, no network).

    A file that cannot be read is one line on stderr; the others are still classified, and the
    exit code is 1.
    """
    chosen = chosen_format(output, as_json)
    unreadable = 0
    records: list[dict[str, object]] = []
    for path in _message_files(paths):
        try:
            raw = path.read_bytes()
        except OSError as error:
            click.echo(f"Error: cannot read {path}: {error.strerror or error}", err=True)
            unreadable += 1
            continue
        result = classify_message(raw, threshold=threshold)
        if chosen is OutputFormat.TABLE:
            click.echo(_summary(path, result))
        elif chosen is OutputFormat.JSON:  # one object a line, as they are classified
            click.echo(json.dumps(result.to_json(str(path)), ensure_ascii=False))
        else:
            records.append(result.to_json(str(path)))
    if records:
        click.echo(records_text(records, chosen))
    if unreadable:
        raise SystemExit(1)
