"""Reading an import file as a stream of rows, whatever its encoding.

CSV (any of `,` `;` tab `|` as delimiter, sniffed) or JSON Lines (`.jsonl`, `.ndjson`: one object
a line). The file is never held in memory whole: rows are yielded one at a time.

Encoding: UTF-8 (with or without a byte-order mark) is checked first by a quick streaming pass;
a file that is not valid UTF-8 is read as Windows-1252 (what Excel writes on Western Windows
machines), or Latin-1 when even that fails, with a warning. UTF-16 with a byte-order mark (Excel's
"Unicode text") is read as such. A file with NUL bytes in its first block is binary (a spreadsheet,
an archive) and refused with a clear error.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from engine.errors import InputError, Location
from engine.prospects.fields import RawRow, map_headers

_SNIFF_BYTES = 64 * 1024
_SCAN_BYTES = 1024 * 1024
JSON_LINES_SUFFIXES = frozenset({".jsonl", ".ndjson"})


@dataclass
class BadLine:
    """A line that cannot be read as a row at all (bad JSON, too many cells)."""

    line: int
    field: str | None
    reason: str


@dataclass
class ImportFile:
    path: Path
    encoding: str
    warnings: list[str]

    @property
    def is_json_lines(self) -> bool:
        return self.path.suffix.lower() in JSON_LINES_SUFFIXES

    def open(self) -> IO[str]:
        return self.path.open(encoding=self.encoding, newline="")


def open_import_file(path: Path) -> ImportFile:
    """Check the file can be read as text and decide its encoding."""
    try:
        with path.open("rb") as stream:
            head = stream.read(_SNIFF_BYTES)
    except FileNotFoundError:
        raise InputError(Location(path), "file not found") from None
    except OSError as exc:
        raise InputError(Location(path), f"cannot read file: {exc.strerror}") from None
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return ImportFile(path, "utf-16", [])
    if b"\x00" in head:
        raise InputError(
            Location(path), "this is a binary file, not CSV or JSON Lines text (save it as CSV)"
        )
    if _decodes_as(path, "utf-8"):
        return ImportFile(path, "utf-8-sig", [])
    fallback = "cp1252" if _decodes_as(path, "cp1252") else "latin-1"
    warning = f"{path.name} is not UTF-8; read it as {fallback} (check accented names)"
    return ImportFile(path, fallback, [warning])


def _decodes_as(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as stream:
        try:
            while chunk := stream.read(_SCAN_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def read_rows(source: ImportFile) -> Iterator[RawRow | BadLine]:
    """Every data row, with the line it starts on (the header is line 1)."""
    if source.is_json_lines:
        yield from _read_json_lines(source)
    else:
        yield from _read_csv(source)


def _read_csv(source: ImportFile) -> Iterator[RawRow | BadLine]:
    with source.open() as stream:
        dialect = _sniff_dialect(stream.read(_SNIFF_BYTES))
        stream.seek(0)
        reader = csv.reader(stream, dialect)
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)  # blank lines before the header
        if header is None:
            source.warnings.append(f"{source.path.name} is empty: nothing to import")
            return
        columns = map_headers(header)
        if not any(name == "email" and known for name, known in columns):
            raise InputError(
                Location(source.path, reader.line_num),
                "no email column (expected a header such as Email or E-mail)",
            )
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not cells:
                continue  # an empty line, not a row
            if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
                yield BadLine(line, None, f"{len(cells)} cells but the header has {len(columns)}")
                continue
            row = RawRow(line, {})
            for (name, known), value in zip(columns, cells, strict=False):
                if known:
                    row.known[name] = value
                elif value.strip():
                    row.custom[name] = value.strip()
            yield row


def _sniff_dialect(sample: str) -> type[csv.Dialect]:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def _read_json_lines(source: ImportFile) -> Iterator[RawRow | BadLine]:
    with source.open() as stream:
        for number, text in enumerate(stream, start=1):
            if not text.strip():
                continue
            try:
                document = json.loads(text)
            except json.JSONDecodeError as exc:
                yield BadLine(number, None, f"not valid JSON: {exc.msg}")
                continue
            if not isinstance(document, dict):
                yield BadLine(number, None, "not a JSON object")
                continue
            yield _json_row(number, document)


def _json_row(line: int, document: dict[str, Any]) -> RawRow:
    row = RawRow(line, {})
    for (name, known), value in zip(map_headers(list(document)), document.values(), strict=True):
        if known:
            row.known[name] = "" if value is None else str(value)
        elif value is not None:
            row.custom[name] = value
    return row
