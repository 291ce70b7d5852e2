"""`spear import`: prospects and their accounts from a CSV or JSON Lines file.

What a row counts as, in the summary line:

- imported: it created a prospect.
- updated: it matched a prospect already held (by normalised address, so `Jane@Acme.com` and
  `jane@acme.com` are one person) and changed something about it or its account. A duplicate
  address later in the same file counts the same way: the later row updates the earlier one.
- skipped: it matched and changed nothing (re-importing a file skips every row), or every cell was
  empty.
- rejected: it has a problem, reported with its line and the column at fault; the rest go on.

Values update, never erase: an empty cell keeps what is held; custom fields merge.
Role addresses and disposable domains are imported but flagged on the prospect.

Accounts are keyed by domain: the row's domain/website column, else the address's domain unless
it is a free-mail provider (gmail.com...) or disposable, in which case the prospect gets no
account. Red flags in the config set the status of accounts still being prospected (see
`accounts.py`).

A prospect's time zone is the row's time zone column; else, while it has none, the zone of its
country/region, then of its account's; else it stays empty and the config's default applies at
send time (`timezones.prospect_timezone`).

Speed: the file is streamed; rows are validated one by one and written in chunks, with one query
per chunk to find the prospects and accounts already held and bulk inserts and updates. Each chunk
is committed, so a long import does not hold the database's write lock for its whole run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from engine.config import RedFlags
from engine.display import plural
from engine.errors import ImportRowError, Location
from engine.prospects.accounts import red_flag
from engine.prospects.fields import ParsedRow, RowProblem, is_blank, parse_row
from engine.prospects.reading import BadLine, open_import_file, read_rows
from engine.prospects.timezones import zone_for_place
from engine.store.models import Account, AccountStage, AccountStatus, EmailStatus, Prospect

ACCOUNTS: sa.Table = Account.__table__  # type: ignore[attr-defined]
PROSPECTS: sa.Table = Prospect.__table__  # type: ignore[attr-defined]
CHUNK_SIZE = 1000


@dataclass
class ImportReport:
    file: str
    imported: int = 0
    updated: int = 0
    rejected: int = 0
    skipped: int = 0
    role_addresses: int = 0
    disposable: int = 0
    new_accounts: int = 0
    red_flagged_accounts: int = 0
    problems: list[ImportRowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.imported + self.updated + self.rejected + self.skipped

    def summary(self) -> str:
        line = (
            f"{self.file}: {self.imported} imported, {self.updated} updated, "
            f"{self.rejected} rejected, {self.skipped} skipped ({plural(self.rows, 'row')})"
        )
        notes = [
            plural(n, one, many) + label
            for n, one, many, label in (
                (self.role_addresses, "role address", "role addresses", " flagged"),
                (self.disposable, "disposable address", "disposable addresses", " flagged"),
                (self.new_accounts, "new account", "new accounts", ""),
                (self.red_flagged_accounts, "account", "accounts", " ruled out by red flags"),
            )
            if n
        ]
        return line + ("; " + ", ".join(notes) if notes else "")

    def reject(self, location: Location, reason: str) -> None:
        self.rejected += 1
        self.problems.append(ImportRowError(location, reason))


def import_prospects(
    session: Session,
    path: Path,
    *,
    now: datetime,
    red_flags: RedFlags | None = None,
    check_dns: bool = False,
    dry_run: bool = False,
    chunk_size: int = CHUNK_SIZE,
) -> ImportReport:
    """Import `path`; bad rows are reported in the result, a bad file raises `InputError`.

    With `dry_run` everything is checked and counted, then rolled back.
    """
    source = open_import_file(path)
    report = ImportReport(file=path.name)
    writer = _ChunkWriter(session, report, now, red_flags or RedFlags())
    chunk: list[ParsedRow] = []
    for item in read_rows(source):
        if isinstance(item, BadLine):
            report.reject(Location(path.name, item.line, item.field), item.reason)
            continue
        if is_blank(item):
            report.skipped += 1
            continue
        try:
            parsed = parse_row(item, check_dns=check_dns)
        except RowProblem as problem:
            report.reject(Location(path.name, item.line, problem.field), problem.reason)
            continue
        report.warnings.extend(f"{path.name}:{item.line}: {w}" for w in parsed.warnings)
        chunk.append(parsed)
        if len(chunk) >= chunk_size:
            writer.write(chunk)
            chunk = []
            if not dry_run:
                session.commit()
    writer.write(chunk)
    report.warnings.extend(source.warnings)
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return report


class _ChunkWriter:
    """Merges one chunk of rows into what the database holds, in a few statements."""

    def __init__(
        self, session: Session, report: ImportReport, now: datetime, red_flags: RedFlags
    ) -> None:
        self.session = session
        self.report = report
        self.now = now
        self.red_flags = red_flags

    def write(self, rows: list[ParsedRow]) -> None:
        if not rows:
            return
        accounts = self._held(ACCOUNTS, ACCOUNTS.c.domain, {r.domain for r in rows if r.domain})
        prospects = self._held(PROSPECTS, PROSPECTS.c.email, {r.address.email for r in rows})
        changed_accounts: set[str] = set()
        changed_prospects: dict[str, str | None] = {}  # email -> its account's domain
        for row in rows:
            account, account_changed = None, False
            if row.domain:
                account, account_changed = self._merge_account(accounts, row.domain, row)
                if account_changed:
                    changed_accounts.add(row.domain)
            is_new = row.address.email not in prospects
            prospect_changed = self._merge_prospect(prospects, row, account)
            if prospect_changed:
                previous = changed_prospects.get(row.address.email)
                changed_prospects[row.address.email] = row.domain or previous
            self._count(row, is_new, prospect_changed or account_changed)

        self._save_accounts([accounts[d] for d in changed_accounts])
        for email, domain in changed_prospects.items():
            if domain is not None:
                prospects[email]["account_id"] = accounts[domain]["id"]
        self._save(PROSPECTS, [prospects[e] for e in changed_prospects])

    def _held(self, table: sa.Table, key: sa.Column[Any], values: set[Any]) -> dict[Any, Any]:
        if not values:
            return {}
        result = self.session.execute(sa.select(table).where(key.in_(values)))
        return {row[key.name]: dict(row) for row in result.mappings()}

    def _merge_account(
        self, accounts: dict[str, Any], domain: str, row: ParsedRow
    ) -> tuple[dict[str, Any], bool]:
        account = accounts.get(domain)
        is_new = account is None
        if account is None:
            account = accounts[domain] = _new_record(ACCOUNTS) | {
                "domain": domain,
                "name": domain,
                "status": AccountStatus.PROSPECTING,
                "stage": AccountStage.OPPORTUNITY,
                "paused": False,
                "created_at": self.now,
            }
            self.report.new_accounts += 1
        changed = _merge(account, row.account) or is_new
        flag = red_flag(domain, account["country"], self.red_flags)
        if flag is not None and account["status"] == AccountStatus.PROSPECTING:
            account["status"], account["status_reason"] = flag
            self.report.red_flagged_accounts += 1
            changed = True
        if changed:
            account["updated_at"] = self.now
        return account, changed

    def _merge_prospect(
        self, prospects: dict[str, Any], row: ParsedRow, account: dict[str, Any] | None
    ) -> bool:
        email = row.address.email
        prospect = prospects.get(email)
        is_new = prospect is None
        if prospect is None:
            prospect = prospects[email] = _new_record(PROSPECTS) | {
                "email": email,
                "first_name": "",
                "last_name": "",
                "custom": {},
                "role_address": False,
                "disposable": False,
                "email_status": EmailStatus.UNKNOWN,
                "soft_bounces": 0,
                "phone_invalid": False,
                "created_at": self.now,
            }
        changed = _merge(prospect, row.prospect) or is_new
        custom = prospect["custom"] | row.custom
        if custom != prospect["custom"]:
            prospect["custom"], changed = custom, True
        if not prospect["timezone"]:
            places = [(prospect["country"], prospect["region"])]
            if account is not None:
                places.append((account["country"], account["region"]))
            zone = next((z for c, r in places if (z := zone_for_place(c, r))), None)
            if zone:
                prospect["timezone"], changed = zone, True
        if account is not None and (
            account["id"] is None or account["id"] != prospect["account_id"]
        ):
            changed = True
        if changed:
            prospect["updated_at"] = self.now
        return changed

    def _count(self, row: ParsedRow, is_new: bool, changed: bool) -> None:
        if is_new:
            self.report.imported += 1
            self.report.role_addresses += row.address.role
            self.report.disposable += row.address.disposable
        elif changed:
            self.report.updated += 1
        else:
            self.report.skipped += 1

    def _save_accounts(self, accounts: list[dict[str, Any]]) -> None:
        new = [a for a in accounts if a["id"] is None]
        self._save(ACCOUNTS, accounts)
        if new:
            query = sa.select(ACCOUNTS.c.domain, ACCOUNTS.c.id).where(
                ACCOUNTS.c.domain.in_([a["domain"] for a in new])
            )
            ids = {domain: id_ for domain, id_ in self.session.execute(query)}
            for account in new:
                account["id"] = ids[account["domain"]]

    def _save(self, table: sa.Table, records: list[dict[str, Any]]) -> None:
        """Bulk-insert the new records (no id yet) and bulk-update the held ones."""
        columns = [c.name for c in table.columns if c.name != "id"]
        inserts = [{c: r[c] for c in columns} for r in records if r["id"] is None]
        updates = [{c: r[c] for c in columns} | {"_id": r["id"]} for r in records if r["id"]]
        if inserts:
            self.session.execute(sa.insert(table), inserts)
        if updates:
            statement = (
                sa.update(table)
                .where(table.c.id == sa.bindparam("_id"))
                .values({c: sa.bindparam(c) for c in columns})
            )
            self.session.connection().execute(statement, updates)


def _new_record(table: sa.Table) -> dict[str, Any]:
    return {column.name: None for column in table.columns}


def _merge(record: dict[str, Any], values: dict[str, Any]) -> bool:
    """Set the given values on `record`; True when any of them differs from what it held."""
    changed = False
    for column, value in values.items():
        if record.get(column) != value:
            record[column] = value
            changed = True
    return changed
