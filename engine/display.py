"""Text for a terminal: counts in words and tables that fit their columns.

One home for the wording and layout every view shares, as `gh` and `kubectl` keep theirs:
"1 row" and "2 rows"; columns as wide as their widest cell as a terminal shows it (a CJK
character takes two columns, a combining accent none, so `wcwidth` measures); and the three
output formats (`table` for people, `json` and `csv` for programs).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from datetime import date
from enum import StrEnum
from typing import Any

from wcwidth import wcswidth


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`1 row`, `2 rows`; `many` for irregular nouns (`1 entry`, `2 entries`)."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


def display_width(text: str) -> int:
    width = wcswidth(text)
    return width if width >= 0 else len(text)  # control characters: count them as one each


def fit(text: str, width: int) -> str:
    """`text` on one line, cut to `width` display columns with `…` when something was cut."""
    text = " ".join(text.split())
    if display_width(text) <= width:
        return text
    kept = ""
    for character in text:
        if display_width(kept + character) > width - 1:
            break
        kept += character
    return kept + "…"


def pad(text: str, width: int, *, right: bool = False) -> str:
    gap = " " * max(width - display_width(text), 0)
    return gap + text if right else text + gap


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    right: Sequence[int] = (),
    widest: Mapping[int, int] | None = None,
) -> list[str]:
    """Rows under headers, two spaces apart, each column as wide as its widest cell.

    `right` are the indexes of right-aligned (number) columns; `widest` caps a column's width
    (the cell is cut with `…`), so one long subject does not push the rest off the screen.
    """
    limits = widest or {}
    cells = [
        [fit(str(cell), limits[i]) if i in limits else str(cell) for i, cell in enumerate(row)]
        for row in [list(headers), *rows]
    ]
    widths = [max(display_width(row[i]) for row in cells) for i in range(len(headers))]
    return [
        "  ".join(pad(cell, widths[i], right=i in right) for i, cell in enumerate(row)).rstrip()
        for row in cells
    ]


def records_text(records: Sequence[Mapping[str, Any]], output: OutputFormat) -> str:
    """JSON (one document, a list) or CSV (a header line, then one line a record)."""
    if output is OutputFormat.JSON:
        return json.dumps(list(records), indent=2, ensure_ascii=False, default=_plain)
    buffer = io.StringIO()
    if records:
        writer = csv.DictWriter(buffer, fieldnames=list(records[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({key: _cell(value) for key, value in r.items()} for r in records)
    return buffer.getvalue().rstrip("\n")


def _cell(value: Any) -> Any:
    """A CSV cell: lists and mappings (a contact's enrollments) as JSON in the one cell."""
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False, default=_plain)
    return _plain(value) if isinstance(value, date) else value


def _plain(value: Any) -> Any:
    """Times as ISO 8601 (`2026-03-03T14:00:00+00:00`), anything else JSON lacks as its text."""
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat()
    return str(value)
