"""One error hierarchy for Spear.

Every error a user can cause or meet derives from `SpearError`, so the CLI can turn any of them
into one clear line and exit code 1 instead of a traceback. Errors that *are* a built-in kind of
failure also inherit that built-in (as aiosmtplib does), so callers may catch either.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class SpearError(Exception):
    """Base of every error Spear raises on purpose."""


@dataclass
class Location:
    """Where in a user's file something is wrong: file, 1-based line, dotted field path."""

    file: Path | str
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = str(self.file)
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f": {self.field}"
        return where


class InputError(SpearError):
    """Bad input from a user's file: says where (file, line, field) and why."""

    def __init__(self, location: Location, reason: str) -> None:
        self.location = location
        self.reason = reason
        super().__init__(f"{location}: {reason}")


class ConfigError(InputError):
    """The configuration file is missing, unreadable or invalid."""


class CadenceError(InputError):
    """A cadence file or one of its templates is invalid."""


class ImportRowError(InputError):
    """One row of a prospect import is rejected; the import goes on without it."""


class TemplateRenderError(SpearError):
    """A template failed to render for a given prospect.

    `problem` is what went wrong without the where (`unknown variable prospect.frist_name`),
    `line` the template's line when known, for checks that point at the template file.
    """

    def __init__(self, message: str, *, problem: str | None = None, line: int | None = None):
        self.problem = problem or message
        self.line = line
        super().__init__(message)


class NotFoundError(SpearError, LookupError):
    """A named thing (cadence, prospect, segment, queue item) does not exist."""


class DatabaseError(SpearError):
    """The database cannot be opened, migrated or locked."""


class DaemonLockedError(DatabaseError):
    """Another daemon already holds the lock on this SQLite database."""


class MailError(SpearError):
    """Base of mail transport failures."""


class TemporaryMailError(MailError, ConnectionError):
    """A failure worth retrying later: 4xx answers, dropped connections, time-outs."""


class PermanentMailError(MailError):
    """A refusal that will not change on retry: 5xx answers for a recipient."""


class MailAuthError(MailError, PermissionError):
    """The mail server refused our credentials: the mailbox is paused until fixed."""
