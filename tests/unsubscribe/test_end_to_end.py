"""Unsubscribing through `spear run` against the local mail harness: a request mailed to the
mailto in one message and a POST to the one-click URL in another each suppress the address, and
neither address receives anything more while the cadence goes on for everyone else."""

from __future__ import annotations

import asyncio
import email
import os
import signal
import sys
from email.message import Message
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import sqlalchemy as sa

from engine.harness.harness import PASSWORD_ENV, Harness
from engine.harness.pytest_plugin import HarnessFactory
from engine.store.db import make_engine

SENDER = "alex@example-sender.com"
SECRET = "end-to-end-unsubscribe-secret"
PUBLIC_URL = "https://unsubscribe.example-sender.com"
PROSPECTS = """email,first_name,last_name,title,company,domain,timezone,country
ada.park@northwind.example,Ada,Park,VP Sales,Northwind,northwind.example,America/New_York,US
ben.okafor@southwind.example,Ben,Okafor,COO,Southwind,southwind.example,America/New_York,US
cara.lund@eastwind.example,Cara,Lund,CEO,Eastwind,eastwind.example,America/New_York,US
"""
# Tuesday 24 November 2026, 07:30 in New York: inside the play's morning window.
FIRST_SEND = "2026-11-24T12:30:00"
UNSUBSCRIBED_AT = "2026-11-24T13:00:00"
# The second step ("3 business days" on) falls due by the next Tuesday and Wednesday mornings.
LATER = ["2026-12-01T12:30:00", "2026-12-01T12:45:00", "2026-12-02T12:30:00", "2026-12-02T12:45:00"]
# What a mailbox provider's unsubscribe button mails to the mailto target (in our own words).
PROVIDER_REQUEST = """From: ada.park@northwind.example\r
To: {to}\r
Subject: {subject}\r
Message-ID: <unsubscribe-request-1@mail.northwind.example>\r
Date: Tue, 24 Nov 2026 12:50:00 +0000\r
Content-Type: text/plain; charset=utf-8\r
\r
This message was generated automatically by the recipient's mail provider.\r
"""


async def spear(workdir: Path, *args: str) -> tuple[int, str]:
    """Run the CLI without blocking the loop the harness serves on."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "engine", *args,
        cwd=workdir, env=_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), 180)
    assert process.returncode is not None
    return process.returncode, output.decode()


def _env() -> dict[str, str]:
    return {
        **os.environ,
        PASSWORD_ENV: "harness-password",
        "SPEAR_UNSUBSCRIBE_SECRET": SECRET,
    }


async def make_workdir(tmp_path: Path, harness: Harness, one_click_port: int) -> Path:
    code, output = await spear(tmp_path, "init", ".")
    assert code == 0, output
    mailbox = harness.mailbox_settings(SENDER)
    (tmp_path / "spear.yaml").write_text(
        f"""\
database: sqlite:///spear.db
timezone: America/New_York
poll_interval_seconds: 1
mailboxes:
  - name: alex
    address: {SENDER}
    display_name: Alex Rivera
    smtp: {{host: {harness.host}, port: {harness.smtp_port}, tls: none,
           user: {SENDER}, password: "{mailbox["smtp"]["password"]}"}}
    imap: {{host: {harness.host}, port: {harness.imap_port}, tls: none,
           user: {SENDER}, password: "{mailbox["imap"]["password"]}"}}
    min_gap_seconds: 0
    jitter_seconds: 0
segments:
  executives: {{seniority: [c-level, vp, director]}}
unsubscribe:
  one_click:
    public_url: {PUBLIC_URL}
    secret: ${{SPEAR_UNSUBSCRIBE_SECRET}}
    host: 127.0.0.1
    port: {one_click_port}
"""
    )
    (tmp_path / "prospects.csv").write_text(PROSPECTS)
    for command in (
        ["db", "upgrade"],
        ["import", "prospects.csv"],
        ["enroll", "referral-ask", "--start", "2026-11-24T12:00:00"],
    ):
        code, output = await spear(tmp_path, *command)
        assert code == 0, output
    return tmp_path


def received(harness: Harness) -> dict[str, list[Message]]:
    by_recipient: dict[str, list[Message]] = {}
    for captured in harness.captured():
        message = email.message_from_bytes(captured.read_bytes())
        for recipient in captured.rcpt_tos:
            by_recipient.setdefault(recipient, []).append(message)
    return by_recipient


def unsubscribe_targets(message: Message) -> tuple[str, str, str]:
    """(mailto address, mailto subject, one-click URL) from List-Unsubscribe."""
    header = " ".join(str(message["List-Unsubscribe"]).split())
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    targets = [t.strip().strip("<>") for t in header.split(",")]
    mailto = next(t for t in targets if t.startswith("mailto:"))
    url = next(t for t in targets if t.startswith("https://"))
    address = mailto.removeprefix("mailto:").split("?", 1)[0]
    subject = parse_qs(urlsplit(mailto).query)["subject"][0]
    return address, subject, url


def suppressed(workdir: Path) -> dict[str, str]:
    engine = make_engine(f"sqlite:///{workdir / 'spear.db'}")
    with engine.connect() as db:
        rows = db.execute(sa.text("SELECT value, source FROM suppression")).all()
    engine.dispose()
    return {value: source for value, source in rows}


async def test_mailto_and_one_click_each_suppress_and_nothing_more_is_sent(
    tmp_path: Path, mail_harness_factory: HarnessFactory, free_port: int
) -> None:
    harness = await mail_harness_factory({SENDER: "harness-password"})
    port = free_port
    workdir = await make_workdir(tmp_path, harness, port)

    code, output = await spear(workdir, "run", "--once", "--now", FIRST_SEND)
    assert code == 0, output
    first = received(harness)
    assert sorted(first) == [
        "ada.park@northwind.example",
        "ben.okafor@southwind.example",
        "cara.lund@eastwind.example",
    ]

    # Ada's provider mails the mailto in her message, as its unsubscribe button does.
    to, subject, _ = unsubscribe_targets(first["ada.park@northwind.example"][0])
    assert (to, subject) == (SENDER, "unsubscribe")
    harness.deliver(to, PROVIDER_REQUEST.format(to=to, subject=subject).encode())
    # Ben's provider POSTs to the one-click URL in his, through the reverse proxy.
    _, _, url = unsubscribe_targets(first["ben.okafor@southwind.example"][0])
    assert url.startswith(f"{PUBLIC_URL}/u/")
    local_url = f"http://127.0.0.1:{port}" + urlsplit(url).path

    daemon = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "engine", "run", "--now", UNSUBSCRIBED_AT,
        cwd=workdir, env=_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            for _ in range(200):
                try:
                    page = await client.get(local_url)
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            assert page.status_code == 200 and "<button" in page.text  # GET only asks
            assert "ben.okafor@southwind.example" not in suppressed(workdir)
            response = await client.post(local_url, data={"List-Unsubscribe": "One-Click"})
            assert response.status_code == 200
        for _ in range(300):  # the daemon polls the mailbox and reads Ada's request
            if len(suppressed(workdir)) == 2:
                break
            await asyncio.sleep(0.1)
    finally:
        daemon.send_signal(signal.SIGTERM)
        log, _ = await asyncio.wait_for(daemon.communicate(), 60)
    assert daemon.returncode == 0, log.decode()
    assert suppressed(workdir) == {
        "ada.park@northwind.example": "mailto",
        "ben.okafor@southwind.example": "one-click",
    }
    assert SECRET not in log.decode()

    for now in LATER:
        code, output = await spear(workdir, "run", "--once", "--now", now)
        assert code == 0, output
    after = received(harness)
    assert len(after["cara.lund@eastwind.example"]) >= 2  # the cadence went on for Cara
    assert len(after["ada.park@northwind.example"]) == 1
    assert len(after["ben.okafor@southwind.example"]) == 1

    code, listing = await spear(workdir, "suppress", "list")
    assert code == 0, listing
    lines = {line.split("\t")[1]: line.split("\t") for line in listing.splitlines() if "\t" in line}
    assert lines["ada.park@northwind.example"][3] == "mailto"
    assert lines["ben.okafor@southwind.example"][3] == "one-click"
    assert lines["ben.okafor@southwind.example"][4].startswith("2026-11-24T13:0")
