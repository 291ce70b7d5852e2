"""`--format table|json|csv`, the same option on every command that lists things."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from engine.display import OutputFormat

F = TypeVar("F", bound=Callable[..., Any])


def format_option(function: F) -> F:
    """`--format table|json|csv` as `output`, and `--json` (the older spelling) as `as_json`."""
    function = click.option(
        "--json", "as_json", is_flag=True, hidden=True, help="The same as --format json."
    )(function)
    return click.option(
        "--format",
        "output",
        type=click.Choice([f.value for f in OutputFormat]),
        default=OutputFormat.TABLE.value,
        show_default=True,
        help="table for people; json or csv for programs.",
    )(function)


def chosen_format(output: str, as_json: bool = False) -> OutputFormat:
    return OutputFormat.JSON if as_json else OutputFormat(output)
