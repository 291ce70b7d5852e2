"""The web inbox on loopback over the review tests' small world, with replies waiting.

`inbox_server` serves the real app with uvicorn on a free port (a thread of the test process),
over the same workspace the review tests use: replies go through the real intake, so what waits
in the queue is what the classifier and the actions left there. `browser` is Debian's Chromium
driven by Playwright, never a downloaded build.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright
from replies.acme import START

# The review tests' world and its fixture (tests/ is on the path).
from review.conftest import (  # noqa: F401  (the fixture is used by name)
    BELOW_THRESHOLD,
    OUT_OF_OFFICE,
    REFERRAL_WITHOUT_ADDRESS,
    UNCLEAR,
    Workspace,
    build_world,
    workspace,
    write_workspace,
)

from engine.cadences import load_cadences
from engine.clock import FixedClock
from engine.config import load_config
from engine.replies import ReplySettings
from engine.store.db import make_engine, upgrade
from engine.web.app import Inbox
from engine.web.server import server_for

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Served:
    url: str
    inbox: Inbox
    workspace: Workspace


def pending_replies(space: Workspace) -> list[int]:
    """Four replies that wait for a person, oldest first."""
    ids = [
        space.receive(UNCLEAR),
        space.receive(BELOW_THRESHOLD),
        space.receive(REFERRAL_WITHOUT_ADDRESS),
        space.receive(OUT_OF_OFFICE, sender="Sam <sam@acme.example>", in_reply_to=None),
    ]
    for item in ids:
        assert space.inbound(item).status == "review", item
    return ids


def make_workspace(root: Path) -> Workspace:
    """Another world like the `workspace` fixture's, in `root` (closed with the test process)."""
    write_workspace(root)
    config = load_config(root / "spear.yaml")
    upgrade(config.database_url)
    engine = make_engine(config.database_url)
    settings = ReplySettings.from_config(
        config, load_cadences(config.cadences_path, config.templates_path)
    )
    space = Workspace(root, engine, settings, FixedClock(START))
    build_world(space)
    return space


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox(workspace: Workspace) -> Inbox:  # noqa: F811
    config = load_config(workspace.config_file)
    return Inbox(
        workspace.engine, config, workspace.settings, workspace.clock, default_reviewer="alex"
    )


@pytest.fixture
def inbox_server(inbox: Inbox, workspace: Workspace) -> Iterator[Served]:  # noqa: F811
    port = free_port()
    server = server_for(inbox, "127.0.0.1", port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the web inbox did not start"
        time.sleep(0.02)
    yield Served(f"http://127.0.0.1:{port}", inbox, workspace)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
