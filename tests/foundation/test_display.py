"""Counts in words and tables that keep their columns, wide characters included."""

from __future__ import annotations

from engine.display import OutputFormat, display_width, fit, plural, records_text, table


def test_plural() -> None:
    assert plural(1, "row") == "1 row"
    assert plural(2, "row") == "2 rows"
    assert plural(0, "mailbox", "mailboxes") == "0 mailboxes"
    assert plural(1, "entry", "entries") == "1 entry"


def test_columns_line_up_with_wide_and_combining_characters() -> None:
    lines = table(
        ["FROM", "SUBJECT", "N"],
        [["李小龍@example.cn", "会议", "3"], ["zoë@example.org", "Re: hello", "12"]],
        right=(2,),
    )
    # The second column starts at one display column on every line, and the numbers end flush.
    subjects = ["SUBJECT", "会议", "Re: hello"]
    starts = {display_width(line[: line.index(s)]) for line, s in zip(lines, subjects, strict=True)}
    assert starts == {19}, lines
    assert {display_width(line) for line in lines} == {32}


def test_fit_cuts_by_display_width() -> None:
    assert fit("会议会议会议", 5) == "会议…"
    assert display_width(fit("会议会议会议", 5)) <= 5
    assert fit("short", 10) == "short"


def test_records_as_json_and_csv() -> None:
    records = [{"id": 1, "name": "Zoë"}]
    assert records_text(records, OutputFormat.CSV) == "id,name\n1,Zoë"
    assert '"name": "Zoë"' in records_text(records, OutputFormat.JSON)
