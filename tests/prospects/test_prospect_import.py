"""Importing messy files: every count and every reason."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from engine.config import RedFlags
from engine.errors import InputError
from engine.prospects.importer import import_prospects
from engine.store.models import Account, AccountStatus, Prospect

MESSY = """\
E-mail,First Name,Last Name,Job Title,Company Name,Website,Company Size,Country,TZ,Favourite Colour
Jane@Acme.com,Jane,Doe,VP Sales,Acme,https://www.acme.com/about,"1,200",USA,,blue
not-an-email,Nobody,,,,,,,,
jane@ACME.com,Janet,,,,,,,,
,,,,,,,,,
bob@beta.io,Bob,,CTO,Beta,,lots,,,
info@beta.io,,,,Beta,,,,,
x@mailinator.com,X,,,,,,,,
,Carl,,,,,,,,
carl@gamma.co,Carl,,,,,,,Mars/Olympus,
dana@gmail.com,Dana,,,,,,Germany,,
"""


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_messy_csv_counts_and_reasons(tmp_path: Path, session: Session, now: datetime) -> None:
    report = import_prospects(session, write(tmp_path, "messy.csv", MESSY), now=now)

    assert (report.imported, report.updated, report.rejected, report.skipped) == (4, 1, 4, 1)
    assert (report.role_addresses, report.disposable, report.new_accounts) == (1, 1, 2)
    reasons = [(p.location.line, p.location.field) for p in report.problems]
    assert reasons == [(3, "email"), (6, "employees"), (9, "email"), (10, "timezone")]
    assert "not valid" in report.problems[0].reason
    assert report.problems[1].reason == "'lots' is not a number"
    assert report.problems[2].reason == "missing"
    assert str(report.problems[3]).startswith("messy.csv:10: timezone: 'Mars/Olympus'")
    assert report.summary().startswith(
        "messy.csv: 4 imported, 1 updated, 4 rejected, 1 skipped (10 rows)"
    )

    jane = session.exec(select(Prospect).where(Prospect.email == "jane@acme.com")).one()
    assert (jane.first_name, jane.last_name, jane.title) == ("Janet", "Doe", "VP Sales")
    assert (jane.seniority, jane.country, jane.timezone) == ("vp", "US", "America/New_York")
    assert jane.custom == {"Favourite Colour": "blue"}
    acme = session.get(Account, jane.account_id)
    assert acme is not None
    assert (acme.domain, acme.name, acme.employees) == ("acme.com", "Acme", 1200)

    info = session.exec(select(Prospect).where(Prospect.email == "info@beta.io")).one()
    assert info.role_address and not info.disposable
    dana = session.exec(select(Prospect).where(Prospect.email == "dana@gmail.com")).one()
    assert dana.account_id is None  # free mail: no account by domain
    assert dana.timezone == "Europe/Berlin"


def test_reimport_updates_never_duplicates(tmp_path: Path, session: Session, now: datetime) -> None:
    path = write(tmp_path, "p.csv", "email,title\na@acme.com,CEO\nb@acme.com,CTO\n")
    import_prospects(session, path, now=now)
    again = import_prospects(session, path, now=now)
    assert (again.imported, again.updated, again.skipped) == (0, 0, 2)

    changed = write(tmp_path, "q.csv", "Email Address,Title,Employees\nA@acme.com,,50\n")
    report = import_prospects(session, changed, now=now)
    assert (report.imported, report.updated) == (0, 1)
    a = session.exec(select(Prospect).where(Prospect.email == "a@acme.com")).one()
    assert a.title == "CEO"  # an empty cell erases nothing
    assert len(session.exec(select(Prospect)).all()) == 2
    assert len(session.exec(select(Account)).all()) == 1


def test_non_utf8_file_is_read_with_a_warning(
    tmp_path: Path, session: Session, now: datetime
) -> None:
    path = write(tmp_path, "cp.csv", "email,first name\njose@acme.com,José\n".encode("cp1252"))
    report = import_prospects(session, path, now=now)
    assert report.imported == 1
    assert report.warnings == ["cp.csv is not UTF-8; read it as cp1252 (check accented names)"]
    assert session.exec(select(Prospect)).one().first_name == "José"


def test_utf8_with_bom_and_semicolons(tmp_path: Path, session: Session, now: datetime) -> None:
    path = write(tmp_path, "bom.csv", "\ufeffE-Mail;First Name\nfrau@firma.de;Jürgen\n")
    report = import_prospects(session, path, now=now)
    assert (report.imported, report.warnings) == (1, [])
    assert session.exec(select(Prospect)).one().first_name == "Jürgen"


def test_empty_and_header_only_files(tmp_path: Path, session: Session, now: datetime) -> None:
    empty = import_prospects(session, write(tmp_path, "empty.csv", ""), now=now)
    assert (empty.imported, empty.updated, empty.rejected, empty.skipped) == (0, 0, 0, 0)
    assert empty.warnings == ["empty.csv is empty: nothing to import"]
    header = import_prospects(session, write(tmp_path, "h.csv", "Email,Name\n"), now=now)
    assert (header.rows, header.warnings) == (0, [])


def test_missing_columns(tmp_path: Path, session: Session, now: datetime) -> None:
    only_email = import_prospects(session, write(tmp_path, "e.csv", "EMAIL\nz@zeta.com\n"), now=now)
    assert only_email.imported == 1
    with pytest.raises(InputError, match="no email column"):
        import_prospects(session, write(tmp_path, "n.csv", "name,company\nZed,Zeta\n"), now=now)


def test_short_and_long_rows(tmp_path: Path, session: Session, now: datetime) -> None:
    path = write(tmp_path, "r.csv", "email,title,company\na@acme.com\nb@acme.com,CEO,Acme,extra\n")
    report = import_prospects(session, path, now=now)
    assert (report.imported, report.rejected) == (1, 1)
    assert report.problems[0].reason == "4 cells but the header has 3"


def test_binary_file_is_a_clear_error(tmp_path: Path, session: Session, now: datetime) -> None:
    path = write(tmp_path, "sheet.csv", b"PK\x03\x04\x14\x00\x00\x00\x08\x00binary")
    with pytest.raises(InputError, match="binary file"):
        import_prospects(session, path, now=now)


def test_json_lines(tmp_path: Path, session: Session, now: datetime) -> None:
    path = write(
        tmp_path,
        "p.jsonl",
        '{"email": "a@acme.com", "employees": 250, "industry": "SaaS", "tags": ["x"]}\n'
        "not json\n"
        '["a list"]\n'
        "\n"
        '{"Email": "A@acme.com", "timezone": "Europe/Paris"}\n',
    )
    report = import_prospects(session, path, now=now)
    assert (report.imported, report.updated, report.rejected) == (1, 1, 2)
    assert [p.location.line for p in report.problems] == [2, 3]
    prospect = session.exec(select(Prospect)).one()
    assert (prospect.timezone, prospect.custom) == ("Europe/Paris", {"tags": ["x"]})
    account = session.exec(select(Account)).one()
    assert (account.employees, account.industry) == (250, "SaaS")


def test_red_flags_rule_accounts_out(tmp_path: Path, session: Session, now: datetime) -> None:
    path = write(
        tmp_path,
        "r.csv",
        "email,country\na@rival.com,US\nb@client.com,US\nc@eu.far.com,France\nd@ok.com,US\n",
    )
    flags = RedFlags(
        competitor_domains=["rival.com"],
        customer_domains=["client.com"],
        excluded_countries=["FR"],
    )
    report = import_prospects(session, path, now=now, red_flags=flags)
    assert report.red_flagged_accounts == 3
    statuses = {a.domain: a.status for a in session.exec(select(Account))}
    assert statuses == {
        "rival.com": AccountStatus.NOT_FIT,
        "client.com": AccountStatus.CUSTOMER,
        "eu.far.com": AccountStatus.NOT_FIT,
        "ok.com": AccountStatus.PROSPECTING,
    }


def test_dry_run_stores_nothing(tmp_path: Path, session: Session, now: datetime) -> None:
    path = write(tmp_path, "p.csv", "email\na@acme.com\n")
    report = import_prospects(session, path, now=now, dry_run=True)
    assert report.imported == 1
    assert session.exec(select(Prospect)).all() == []


def test_chunks_see_earlier_chunks(tmp_path: Path, session: Session, now: datetime) -> None:
    rows = "".join(f"p{i % 7}@acme{i % 3}.com,T{i}\n" for i in range(30))
    report = import_prospects(
        session, write(tmp_path, "c.csv", "email,title\n" + rows), now=now, chunk_size=4
    )
    assert (report.imported, report.updated, report.skipped) == (21, 9, 0)
    assert len(session.exec(select(Account)).all()) == 3
