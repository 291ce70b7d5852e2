"""Option types several commands share, so one spelling means one thing everywhere."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    _ParamType = click.ParamType[datetime]  # generic for type checkers; not in older clicks
else:
    _ParamType = click.ParamType

INSTANT_FORMS = "YYYY-MM-DD or YYYY-MM-DDTHH:MM, UTC unless it carries an offset such as +02:00"


class Instant(_ParamType):
    """A moment: a day (its midnight) or a day and time; UTC unless it names its offset.

    `run --now`, `enroll --start` and `cadence preview --start` all read times this way.
    """

    name = "instant"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            parsed = value
        else:
            try:
                parsed = datetime.fromisoformat(str(value).strip())
            except ValueError:
                self.fail(f"{value!r} is not {INSTANT_FORMS}", param, ctx)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)


INSTANT = Instant()
