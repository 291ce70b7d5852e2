"""`spear poll --once` and `spear inbox`, run as a user would, against the mail harness."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from engine.harness import Harness
from engine.harness.harness import PASSWORD_ENV
from engine.store.db import upgrade

USER = "alex@example-sender.com"


async def spear(workdir: Path, password: str, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "engine",
        "--config",
        str(workdir / "spear.yaml"),
        *args,
        env={**os.environ, PASSWORD_ENV: password},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_poll_once_then_inbox(mail_harness: Harness, tmp_path: Path) -> None:
    (tmp_path / "cadences").mkdir()
    (tmp_path / "templates").mkdir()
    (tmp_path / "spear.yaml").write_text(
        f"database: sqlite:///spear.db\n{mail_harness.settings_yaml()}", encoding="utf-8"
    )
    upgrade(f"sqlite:///{tmp_path / 'spear.db'}")
    mail_harness.deliver(
        USER,
        b"From: stranger@else.example\r\nSubject: Who is this?\r\n"
        b"Message-ID: <s1@else.example>\r\n\r\nWho are you?\r\n",
    )
    password = mail_harness.users[USER]

    assert "1 fetched, 1 stored" in await spear(tmp_path, password, "poll", "--once")
    assert "0 fetched" in await spear(tmp_path, password, "poll", "--once")
    listing = await spear(tmp_path, password, "inbox", "--unmatched")
    assert "stranger@else.example" in listing and "unmatched" in listing
