"""Logging: one line per event, plain or JSON, with secrets scrubbed before anything is written.

Callers log an event with its ids and durations as `extra` fields:

    log.info("sent", extra={"outbound_id": 42, "mailbox": "alice", "duration_ms": 812})

Plain lines read `2025-03-04T05:06:07.123Z INFO engine.x: sent outbound_id=42 mailbox=alice ...`;
JSON lines carry `ts`, `level`, `logger`, `message` and the extra fields.

`SecretFilter` sits on the handler, so it sees every record, also those of libraries. It replaces
every registered secret value (the configuration's passwords and webhook secrets) and anything
shaped like a credential (`password=...`, `Authorization: ...`, `user:pass@` in URLs, IMAP LOGIN
and SMTP AUTH arguments) with `********`, in the message, the extra fields and tracebacks.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO
from urllib.parse import quote

from engine.config import LogFormat, Secret

MASK = "********"

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_secret_pattern: re.Pattern[str] | None = None

# Credential shapes, redacted even when the value was never registered.
_CREDENTIAL_PATTERNS = [
    # password=hunter2, "secret": "x", api_key: x, token=x
    re.compile(
        r"(?i)\b((?:password|passwd|pwd|secret|token|api[_-]?key)[\"']?\s*[=:]\s*[\"']?)"
        r"([^\s\"',;&]+)"
    ),
    # Authorization: Bearer abc / Basic abc / abc
    re.compile(
        r"(?i)\b((?:proxy-)?authorization[\"']?\s*[=:]\s*[\"']?"
        r"(?:(?:basic|bearer|digest|token)\s+)?)([^\s\"',;]+)"
    ),
    # scheme://user:password@host
    re.compile(r"(://[^\s:/@]*:)([^\s@/]+)(@)"),
    # IMAP `LOGIN user password` (the command as sent, in capitals: "login refused for x" is
    # prose), SMTP `AUTH PLAIN credentials`
    re.compile(r"\b(LOGIN\s+\S+\s+)(\S+)"),
    re.compile(r"(?i)\b(AUTH\s+(?:PLAIN|LOGIN|XOAUTH2|CRAM-MD5)\s+)(\S+)"),
]

# Attributes every LogRecord has; anything else on a record came from `extra`.
_RECORD_FIELDS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)


def register_secret(secret: Secret | str | None) -> None:
    """From now on, `secret` (and its URL-quoted form) is masked in every log line."""
    value = secret.value if isinstance(secret, Secret) else secret
    if not value:
        return
    global _secret_pattern
    with _secrets_lock:
        _secrets.update({value, quote(value, safe="")})
        # Longest first, so a secret containing another is masked whole.
        alternatives = sorted(_secrets, key=len, reverse=True)
        _secret_pattern = re.compile("|".join(re.escape(s) for s in alternatives))


def redact(text: str) -> str:
    pattern = _secret_pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    for credential in _CREDENTIAL_PATTERNS:
        text = credential.sub(_mask_group_2, text)
    return text


def _mask_group_2(match: re.Match[str]) -> str:
    groups = match.groups()
    return groups[0] + MASK + "".join(g or "" for g in groups[2:])


class SecretFilter(logging.Filter):
    """Rewrites a record so that no registered secret or credential shape survives in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        for name, value in extra_fields(record).items():
            if isinstance(value, str):
                setattr(record, name, redact(value))
            elif not isinstance(value, int | float | bool) and value is not None:
                setattr(record, name, redact(str(value)))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _RECORD_FIELDS}


def _timestamp(record: logging.LogRecord) -> str:
    # Log lines carry the wall-clock time they were written, not the engine's (maybe simulated)
    # clock: they are about the process, for the people running it.
    instant = datetime.fromtimestamp(record.created, UTC)
    return instant.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _exception_text(record: logging.LogRecord) -> str | None:
    text = record.exc_text
    if record.stack_info:
        text = f"{text}\n{record.stack_info}" if text else record.stack_info
    return text


class PlainFormatter(logging.Formatter):
    """`ts LEVEL logger: message key=value ...` on one line; a traceback's newlines escaped."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [_timestamp(record), record.levelname, f"{record.name}:", record.getMessage()]
        parts += [f"{k}={_plain_value(v)}" for k, v in sorted(extra_fields(record).items())]
        exception = _exception_text(record)
        if exception:
            parts.append(f"exc={_plain_value(exception)}")
        return " ".join(parts).replace("\r", "\\r").replace("\n", "\\n")


def _plain_value(value: object) -> str:
    text = str(value)
    if text == "" or any(c.isspace() or c in '"=' for c in text):
        return json.dumps(text, ensure_ascii=False)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, the extra fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in extra_fields(record).items():
            line.setdefault(name, value)
        exception = _exception_text(record)
        if exception:
            line["exc"] = exception
        return json.dumps(line, ensure_ascii=False, default=str)


class _SpearHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler `configure_logging` installed, so calling it again replaces it."""


# Libraries' own chatter (alembic's plugin set-up, APScheduler's "Running job" every few seconds,
# aiosmtpd's and aioimaplib's protocol notes, Python warnings): only problems, unless --verbose.
QUIET_LIBRARIES = {
    "alembic": logging.WARNING,
    "apscheduler": logging.WARNING,
    "aiosmtpd": logging.WARNING,
    "mail.log": logging.ERROR,  # aiosmtpd: its deprecation notes are about its own API
    "aioimaplib": logging.WARNING,
    "py.warnings": logging.ERROR,  # deprecation notes are for Spear's developers, not operators
}


def configure_logging(
    format: LogFormat | str = LogFormat.PLAIN,
    level: int | str = logging.INFO,
    *,
    secrets: Iterable[Secret | str] = (),
    stream: TextIO | None = None,
    verbose: bool = False,
) -> logging.Handler:
    """Install Spear's one handler on the root logger (replacing an earlier one) and return it.

    `verbose` lets the libraries' INFO lines and Python's warnings through as well.
    """
    for secret in secrets:
        register_secret(secret)
    handler = _SpearHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(
        JsonFormatter() if LogFormat(format) is LogFormat.JSON else PlainFormatter()
    )
    handler.addFilter(SecretFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _SpearHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    logging.captureWarnings(True)
    for name, quiet in QUIET_LIBRARIES.items():
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else quiet)
    return handler
