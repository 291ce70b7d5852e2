"""A newcomer's first hour: the README's quick start in a fresh folder, command by command.

Each step runs as its own process, as a person types it, against the local mail harness (also a
process, `spear harness`). Every step must exit 0, print no traceback, and print what it is
expected to print and nothing else: no library chatter, no warnings, no password demanded by a
command that never connects.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PASSWORD = "first-hour-harness"
# A Tuesday, 12:10 UTC: 07:10 in New York, inside the play's morning window; Dana gets the ask.
START, NOW = "2026-12-08T12:00", "2026-12-08T12:10"
PROSPECTS = """\
email,first_name,last_name,title,company,country,employees,business_model
dana.lee@acme.example,Dana,Lee,VP Sales,Acme Corp,US,400,b2b
raj.patel@globex.example,Raj,Patel,Chief Revenue Officer,Globex,GB,1200,b2b
mia.chen@initech.example,Mia,Chen,Director of Sales,Initech,US,250,b2b
"""
# The daemon's own lines at INFO: `<timestamp> INFO engine.<module>: <event>`.
SPEAR_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z INFO engine(\.\w+)+: \S")


@dataclass(frozen=True)
class Harness:
    smtp_port: int
    imap_port: int
    store: Path


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    store = tmp_path / "mail"
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "engine", "harness", "--store", str(store)),
            *("--smtp-port", "0", "--imap-port", "0", "--password", PASSWORD),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    ports = re.match(r"SMTP on 127\.0\.0\.1:(\d+), IMAP on 127\.0\.0\.1:(\d+)", first)
    assert ports, first
    try:
        yield Harness(int(ports.group(1)), int(ports.group(2)), store)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def spear(cwd: Path, *args: str, password: bool = False) -> subprocess.CompletedProcess[str]:
    """One command as a person types it; the password is in the environment only if asked."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPEAR_")}
    if password:
        env["SPEAR_ALEX_PASSWORD"] = PASSWORD
    result = subprocess.run(
        [sys.executable, "-m", "engine", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    everything = result.stdout + result.stderr
    assert "Traceback" not in everything, everything
    assert result.returncode == 0, (args, everything)
    return result


def quiet(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The lines of a command that must say nothing on stderr."""
    assert result.stderr == "", result.stderr
    return result.stdout.splitlines()


def point_at_harness(config: Path, harness: Harness) -> None:
    """What `$EDITOR spear.yaml` does in the README: the mailboxes, here the local harness."""
    text = config.read_text()
    for host, port, tls, local_port in (
        ("smtp.example-sender.com", 587, "starttls", harness.smtp_port),
        ("imap.example-sender.com", 993, "implicit", harness.imap_port),
    ):
        before = f"host: {host}\n      port: {port}\n      tls: {tls}"
        assert before in text
        text = text.replace(before, f"host: 127.0.0.1\n      port: {local_port}\n      tls: none")
    config.write_text(text)


def test_the_quick_start_in_a_fresh_folder(tmp_path: Path, harness: Harness) -> None:
    [wrote] = quiet(spear(tmp_path, "init", "my-outreach"))
    assert re.fullmatch(
        r"Wrote \d+ files to my-outreach\. Next: cd my-outreach && spear db upgrade", wrote
    )
    folder = tmp_path / "my-outreach"
    point_at_harness(folder / "spear.yaml", harness)
    (folder / "prospects.csv").write_text(PROSPECTS)

    # None of these connects to a mail server: none needs the password.
    [upgraded] = quiet(spear(folder, "db", "upgrade"))
    assert (
        upgraded == f"Database sqlite:///{folder.resolve() / 'spear.db'} is at the latest schema."
    )
    assert quiet(spear(folder, "import", "prospects.csv")) == [
        "prospects.csv: 3 imported, 0 updated, 0 rejected, 0 skipped (3 rows); 3 new accounts"
    ]
    assert quiet(spear(folder, "cadence", "check")) == [
        "4 cadence files checked: 0 errors, 0 warnings"
    ]
    preview = quiet(spear(folder, "cadence", "preview", "referral-ask", "--sample"))
    assert preview[0].startswith("referral-ask (version ")
    assert sum(line.startswith("--- step ") for line in preview) == 5
    everyone = [
        "  + dana.lee@acme.example | Dana Lee | VP Sales",
        "  + raj.patel@globex.example | Raj Patel | Chief Revenue Officer",
        "  + mia.chen@initech.example | Mia Chen | Director of Sales",
    ]
    dry_run = quiet(spear(folder, "enroll", "referral-ask", "--dry-run", "--verbose"))
    assert dry_run[0] == "Would enrol 3 in referral-ask; 0 excluded."
    assert sorted(dry_run[1:]) == sorted(everyone)
    enrolled = quiet(spear(folder, "enroll", "referral-ask", "--start", START, "--verbose"))
    assert enrolled[0] == "Enrolled 3 in referral-ask; 0 excluded."
    assert sorted(enrolled[1:]) == sorted(everyone)
    assert "Sending" in quiet(spear(folder, "status"))[2]

    # The daemon's one pass: it polls, plans and sends what is due at NOW, and says so in its
    # own log lines only.
    ran = spear(folder, "run", "--once", "--now", NOW, password=True)
    assert ran.stdout == ""
    log = ran.stderr.splitlines()
    strangers = [line for line in log if not SPEAR_LOG_LINE.match(line)]
    assert strangers == [], ran.stderr
    # Dana first; Mia shares the mailbox, so the minimum gap puts her a minute later.
    assert any("dispatched: sent 1," in line for line in log), ran.stderr

    messages = json.loads(
        spear(folder, "harness", "messages", "--store", str(harness.store), "--json").stdout
    )
    assert [message["rcpt_tos"] for message in messages] == [["dana.lee@acme.example"]]
    status = quiet(spear(folder, "status"))
    assert any(re.fullmatch(r"  sent: \d+ today, 1 in all; 0 failed", line) for line in status)
