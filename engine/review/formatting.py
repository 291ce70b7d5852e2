"""The queue as text: an aligned table for people, JSON and CSV for scripts (pure functions)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from typing import Any

from engine.display import OutputFormat, plural, table
from engine.review.queue import QueueItem

# The fields of one item in JSON and CSV, in order.
FIELDS = (
    "id",
    "received_at",
    "from",
    "subject",
    "label",
    "confidence",
    "best_guess",
    "reason",
    "status",
    "mailbox",
    "prospect",
    "account",
    "cadence",
    "step",
    "snippet",
)


def item_record(item: QueueItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "received_at": item.received_at.isoformat() if item.received_at else None,
        "from": item.from_address,
        "subject": item.subject,
        "label": item.label,
        "confidence": round(item.confidence, 3) if item.confidence is not None else None,
        "best_guess": item.best_guess,
        "reason": item.reason,
        "status": item.status,
        "mailbox": item.mailbox,
        "prospect": item.prospect_email,
        "account": item.account,
        "cadence": item.cadence,
        "step": item.step,
        "snippet": item.snippet,
    }


def format_queue(items: Sequence[QueueItem], output: OutputFormat | str) -> str:
    formatters: dict[OutputFormat, Callable[[Sequence[QueueItem]], str]] = {
        OutputFormat.TABLE: format_table,
        OutputFormat.JSON: format_json,
        OutputFormat.CSV: format_csv,
    }
    return formatters[OutputFormat(output)](items)


def format_json(items: Sequence[QueueItem]) -> str:
    """A JSON array of items."""
    return json.dumps([item_record(item) for item in items], ensure_ascii=False, indent=1)


def format_csv(items: Sequence[QueueItem]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for item in items:
        writer.writerow(item_record(item))
    return buffer.getvalue()


# Table columns: header, how to show an item, the widest the column may grow.
_COLUMNS: tuple[tuple[str, Callable[[QueueItem], str], int], ...] = (
    ("ID", lambda i: str(i.id), 8),
    ("RECEIVED", lambda i: i.received_at.strftime("%Y-%m-%d %H:%M") if i.received_at else "", 16),
    ("FROM", lambda i: i.from_address or "", 30),
    ("ACCOUNT", lambda i: i.account or "", 20),
    ("CADENCE/STEP", lambda i: "/".join(p for p in (i.cadence, i.step) if p), 20),
    ("LABEL", lambda i: label_text(i), 34),
    ("REASON", lambda i: i.reason or "", 40),
    ("REPLY", lambda i: i.snippet, 50),
)


def label_text(item: QueueItem) -> str:
    """`unclear 0.42 (interest?)`: the label, its confidence and the best guess behind it."""
    text = item.label or "-"
    if item.confidence is not None:
        text += f" {item.confidence:.2f}"
    if item.best_guess and item.best_guess != item.label:
        text += f" ({item.best_guess}?)"
    return text


def format_table(items: Sequence[QueueItem]) -> str:
    """Aligned columns, one item a line, cells cut to fit; a count line at the end."""
    if not items:
        return "The review queue is empty."
    rows = [[show(item) for _, show, _ in _COLUMNS] for item in items]
    headers = [header for header, _, _ in _COLUMNS]
    widest = {index: width for index, (_, _, width) in enumerate(_COLUMNS)}
    lines = table(headers, rows, widest=widest)
    lines.append(plural(len(items), "item"))
    return "\n".join(lines)
