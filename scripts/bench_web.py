"""How fast the web inbox answers: 10,000 queued replies in a temporary SQLite file.

    python scripts/bench_web.py [--items 10000] [--applied 2000] [--decisions 20]

Builds the rows `scripts/bench_queue.py` builds, then times the app in-process (server time:
the ASGI app from request to last byte, no network): the queue page (first, middle, filtered),
one reply's page, and a decision round trip (POST accept, recorded through
`engine.review.decisions`, answered with the redirect to the next reply). The baseline measured
in the same run is `list_queue` for one page without HTTP or templates.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench_queue import NOW, build
from sqlmodel import Session

from engine.cadences import load_cadences
from engine.clock import FixedClock
from engine.config import load_config
from engine.replies import ReplySettings
from engine.review.queue import QueueFilter, list_queue
from engine.store.db import make_engine
from engine.web.app import Inbox, create_app
from engine.web.reviewing import PAGE_SIZE

REPOSITORY = Path(__file__).resolve().parent.parent


class Caller:
    """Calls the ASGI app directly, keeping the session cookie like a browser."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.cookie = ""
        self.location = ""  # where the last redirect pointed

    def __call__(self, method: str, path: str, form: dict[str, str] | None = None) -> str:
        return asyncio.run(self._call(method, path, form))

    async def _call(self, method: str, path: str, form: dict[str, str] | None) -> str:
        route, _, query = path.partition("?")
        body = urlencode(form).encode() if form is not None else b""
        headers = [(b"host", b"bench")]
        if self.cookie:
            headers.append((b"cookie", self.cookie.encode()))
        if form is not None:
            headers.append((b"content-type", b"application/x-www-form-urlencoded"))
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": route,
            "raw_path": route.encode(),
            "query_string": query.encode(),
            "headers": headers,
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 8025),
            "root_path": "",
        }
        sent = False
        chunks: list[bytes] = []
        status = 0

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message["headers"]:
                    if name == b"set-cookie":
                        self.cookie = value.decode().split(";", 1)[0]
                    elif name == b"location":
                        self.location = value.decode()
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        if status >= 400:
            raise RuntimeError(f"{method} {path}: HTTP {status}")
        return b"".join(chunks).decode()


def timed(label: str, work: Callable[[], object], repeat: int = 7) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        runs.append(time.perf_counter() - start)
    median = statistics.median(runs)
    print(f"{label:<48} {median * 1000:8.1f} ms (median of {repeat})")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--applied", type=int, default=2_000)
    parser.add_argument("--decisions", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        start = time.perf_counter()
        build(f"sqlite:///{root / 'bench.db'}", args.items, args.applied)
        print(
            f"built {args.items} queued + {args.applied} applied replies in "
            f"{time.perf_counter() - start:.1f} s"
        )
        (root / "spear.yaml").write_text(
            f"database: sqlite:///bench.db\ncadences_dir: {REPOSITORY / 'cadences'}\n"
            f"templates_dir: {REPOSITORY / 'templates'}\n"
            "mailboxes: []\n"
        )
        config = load_config(root / "spear.yaml")
        engine = make_engine(config.database_url)
        settings = ReplySettings.from_config(
            config, load_cadences(config.cadences_path, config.templates_path)
        )
        inbox = Inbox(engine, config, settings, FixedClock(NOW), default_reviewer="bench")
        call = Caller(create_app(inbox))

        with Session(engine) as session:
            baseline = timed(
                f"baseline: list_queue, one page of {PAGE_SIZE}",
                lambda: list_queue(session, QueueFilter(), NOW, limit=PAGE_SIZE),
            )
        first = timed("GET /queue (page 1)", lambda: call("GET", "/queue"))
        middle = args.items // PAGE_SIZE // 2
        timed(f"GET /queue?page={middle}", lambda: call("GET", f"/queue?page={middle}"))
        timed("GET /queue?label=referral", lambda: call("GET", "/queue?label=referral"))
        page = call("GET", "/queue")
        ids = [int(i) for i in re.findall(r'data-href="/reply/(\d+)', page)]
        timed("GET /reply/ID (takes the lease)", lambda: call("GET", f"/reply/{ids[0]}"))

        # A decision round trip: draw the reply (for its tokens), then POST accept; and the
        # whole step a rep takes: the POST, its redirect to the next reply, and that page.
        decisions: list[float] = []
        steps: list[float] = []
        for item in sorted(ids)[: args.decisions]:
            reply = call("GET", f"/reply/{item}")
            csrf = re.search(r'name="csrf" value="([^"]+)"', reply)
            seen = re.search(r'name="seen" value="([^"]+)"', reply)
            assert csrf and seen, "the reply page has no decision form"
            form = {"csrf": csrf.group(1), "seen": seen.group(1), "move": "accept"}
            start = time.perf_counter()
            call("POST", f"/reply/{item}/decide", form)
            decisions.append(time.perf_counter() - start)
            call("GET", call.location)
            call("GET", call.location)
            steps.append(time.perf_counter() - start)
        decision = statistics.median(decisions)
        print(
            f"{'POST /reply/ID/decide (accept)':<48} {decision * 1000:8.1f} ms "
            f"(median of {len(decisions)})"
        )
        print(
            f"{'  + redirect to the next reply, its page':<48} "
            f"{statistics.median(steps) * 1000:8.1f} ms (median of {len(steps)})"
        )
        print(
            f"queue page: {first * 1000:.0f} ms (goal < 300), {first / baseline:.1f}x the "
            f"baseline; decision round trip: {decision * 1000:.0f} ms (goal < 100)"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
