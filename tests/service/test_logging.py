"""Log lines: one per record, plain or JSON, extra fields kept, secrets never written."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.config import LogFormat, Secret, config_from_document, config_secrets
from engine.service.logs import MASK, configure_logging, redact, register_secret


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in before[0]:
        root.addHandler(handler)
    root.setLevel(before[1])


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_json_line_has_fields_and_extras(output: io.StringIO) -> None:
    configure_logging(LogFormat.JSON, "debug", stream=output)
    logging.getLogger("engine.sending").info(
        "sent %s", "hello", extra={"outbound_id": 42, "mailbox": "alice", "duration_ms": 812}
    )
    [line] = lines(output)
    record = json.loads(line)
    assert record["level"] == "info"
    assert record["logger"] == "engine.sending"
    assert record["message"] == "sent hello"
    assert record["outbound_id"] == 42
    assert record["duration_ms"] == 812
    assert record["ts"].endswith("Z")


def test_plain_line_is_one_line_even_with_a_traceback(output: io.StringIO) -> None:
    configure_logging("plain", logging.INFO, stream=output)
    try:
        raise RuntimeError("boom\nsecond line")
    except RuntimeError:
        logging.getLogger("engine.x").exception(
            "job failed", extra={"job": "poll", "note": "two words"}
        )
    [line] = lines(output)
    assert " ERROR engine.x: job failed " in line
    assert "job=poll" in line
    assert 'note="two words"' in line
    assert "RuntimeError: boom" in line


def test_level_filters(output: io.StringIO) -> None:
    configure_logging(LogFormat.PLAIN, "warning", stream=output)
    logging.getLogger("engine").info("quiet")
    logging.getLogger("engine").warning("loud")
    assert len(lines(output)) == 1


def test_calling_again_replaces_the_handler(output: io.StringIO) -> None:
    configure_logging(LogFormat.PLAIN, stream=output)
    configure_logging(LogFormat.JSON, stream=output)
    logging.getLogger("engine").warning("once")
    [line] = lines(output)
    assert json.loads(line)["message"] == "once"


def test_registered_secret_is_masked_everywhere(output: io.StringIO) -> None:
    configure_logging(
        LogFormat.JSON, stream=output, secrets=[Secret("s3cr3t-Value"), "hunter2-long"]
    )
    log = logging.getLogger("some.library")
    log.info("connecting with s3cr3t-Value")
    log.info("args %s", "hunter2-long", extra={"detail": "url-quoted s3cr3t-Value too"})
    try:
        raise ValueError("bad password s3cr3t-Value")
    except ValueError:
        log.exception("failed")
    text = output.getvalue()
    assert "s3cr3t" not in text
    assert "hunter2" not in text
    assert text.count(MASK) >= 4


@pytest.mark.parametrize(
    ("line", "leak"),
    [
        ("login failed: password=opensesame user=bob", "opensesame"),
        ('{"password": "opensesame"}', "opensesame"),
        ("Authorization: Bearer abc.def.ghi", "abc.def.ghi"),
        ("authorization=Basic Ym9iOnNlY3JldA==", "Ym9iOnNlY3JldA=="),
        ("postgresql://spear:opensesame@db:5432/spear", "opensesame"),
        ("C: a1 LOGIN bob opensesame", "opensesame"),
        ("C: AUTH PLAIN AGJvYgBvcGVuc2VzYW1l", "AGJvYgBvcGVuc2VzYW1l"),
        ("api_key: opensesame", "opensesame"),
    ],
)
def test_credential_shapes_are_masked(line: str, leak: str) -> None:
    redacted = redact(line)
    assert leak not in redacted
    assert MASK in redacted


@pytest.mark.parametrize(
    "text",
    [
        "sent outbound_id=42 to jane@example.com in 812 ms",
        "IMAP login refused for alex@example.com: mailbox paused",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_config_secrets_are_collected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPEAR_TEST_SMTP_PASSWORD", "smtp-pass-123")
    (tmp_path / "hook.secret").write_text("hook-secret-456\n")
    config = config_from_document(
        {
            "mailboxes": [
                {
                    "name": "alice",
                    "address": "alice@example.com",
                    "smtp": {
                        "host": "127.0.0.1",
                        "port": 2525,
                        "tls": "none",
                        "password": "${SPEAR_TEST_SMTP_PASSWORD}",
                    },
                }
            ],
            "webhooks": [{"url": "http://127.0.0.1/hook", "secret": {"file": "hook.secret"}}],
            "web": {"password": "${SPEAR_TEST_WEB_PASSWORD}"},
        },
        tmp_path / "spear.yaml",
    )
    monkeypatch.setenv("SPEAR_TEST_WEB_PASSWORD", "web-pass-789")
    secrets = list(config_secrets(config).values())
    assert sorted(s.value for s in secrets) == ["hook-secret-456", "smtp-pass-123", "web-pass-789"]
    for secret in secrets:
        register_secret(secret)
    assert redact("pw smtp-pass-123 and hook-secret-456") == f"pw {MASK} and {MASK}"
    assert redact("web-pass-789") == MASK
