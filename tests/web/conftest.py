"""The web inbox on loopback over the review tests' small world, with replies waiting.

`inbox_server` serves the real app with uvicorn on a free port (a thread of the test process),
over the same workspace the review tests use: replies go through the real intake, so what waits
in the queue is what the classifier and the actions left there. `browser` is Debian's Chromium
driven by Playwright, never a downloaded build.
"""

from __future__ import annotations

import http.client
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

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
from engine.config import Web, load_config
from engine.harness.ports import free_port
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


@pytest.fixture
def inbox(workspace: Workspace) -> Inbox:  # noqa: F811
    config = load_config(workspace.config_file)
    return Inbox(
        workspace.engine, config, workspace.settings, workspace.clock, default_reviewer="alex"
    )


@contextmanager
def running(inbox: Inbox) -> Iterator[str]:
    """The inbox served on a loopback port, in a thread, until the block ends; its URL."""
    port = free_port()
    server = server_for(inbox, "127.0.0.1", port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the web inbox did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def inbox_server(inbox: Inbox, workspace: Workspace) -> Iterator[Served]:  # noqa: F811
    with running(inbox) as url:
        yield Served(url, inbox, workspace)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module-scoped: Playwright's sync API keeps an event loop running in this thread while it
    # is open, and tests elsewhere call asyncio.run.
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


Serve = Callable[[Web], str]  # start the inbox with these `web:` settings; its URL


class Client:
    """A cookie-keeping HTTP client that does not follow redirects."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "", parts.port or 80
        self.cookie = ""
        self.set_cookie = ""

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        answer = {k.lower(): v for k, v in response.getheaders()}
        if "set-cookie" in answer:
            self.set_cookie = answer["set-cookie"]
            self.cookie = answer["set-cookie"].split(";", 1)[0]
        connection.close()
        return response.status, answer, text

    def csrf(self, path: str) -> str:
        _, _, page = self.request("GET", path)
        match = re.search(r'name="csrf" value="([^"]+)"', page)
        assert match, page
        return match.group(1)


@pytest.fixture
def serve(inbox: Inbox) -> Iterator[Serve]:
    """Start the inbox with other `web:` settings; returns its URL."""
    with ExitStack() as servers:

        def start(settings: Web) -> str:
            inbox.config = inbox.config.model_copy(update={"web": settings})
            return servers.enter_context(running(inbox))

        yield start
