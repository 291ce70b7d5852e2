"""`spear harness` as a user runs it: a real process, stopped with SIGINT."""

from __future__ import annotations

import json
import os
import re
import signal
import smtplib
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

from click.testing import CliRunner

from engine.cli.harness import command

START_HARNESS = "from engine.cli.harness import command; command(prog_name='spear harness')"


def test_harness_serves_until_sigint_and_lists_what_it_captured(tmp_path: Path) -> None:
    store = tmp_path / "store"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            START_HARNESS,
            "--store",
            str(store),
            "--smtp-port",
            "0",
            "--imap-port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        printed = [process.stdout.readline()]
        match = re.search(r"SMTP on 127\.0\.0\.1:(\d+), IMAP on 127\.0\.0\.1:(\d+)", printed[0])
        assert match, printed[0]
        while "imap:" not in printed[-1]:
            printed.append(process.stdout.readline())
        smtp_port = int(match.group(1))

        message = EmailMessage()
        message["From"] = "alex@example-sender.com"
        message["To"] = "dana.lee@acme.example"
        message["Subject"] = "Who handles logistics?"
        message.set_content("Hi Dana")
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
            client.send_message(message)

        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0, err
    out = "".join(printed) + out
    assert "mailboxes:" in out
    assert "password: ${SPEAR_HARNESS_PASSWORD}" in out
    assert "harness stopped" in err

    listing = CliRunner().invoke(command, ["messages", "--store", str(store), "--json"])
    assert listing.exit_code == 0, listing.output
    [captured] = json.loads(listing.output)
    assert captured["subject"] == "Who handles logistics?"
    assert captured["rcpt_tos"] == ["dana.lee@acme.example"]

    shown = CliRunner().invoke(command, ["messages", "--store", str(store), "--show", "1"])
    assert "Envelope-To: dana.lee@acme.example" in shown.output
    assert "Hi Dana" in shown.output


def test_messages_on_an_empty_store(tmp_path: Path) -> None:
    result = CliRunner().invoke(command, ["messages", "--store", str(tmp_path / "none")])
    assert result.exit_code == 0
    assert "no captured mail" in result.output
