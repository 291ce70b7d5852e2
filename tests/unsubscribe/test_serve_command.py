"""`spear unsubscribe serve`: the one-click endpoint alone, as a separate host would run it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlmodel import Session

from engine.store.db import make_engine, upgrade
from engine.store.models import Prospect
from engine.unsubscribe.tokens import make_token

SECRET = "standalone-serve-secret-value"


def spear(workdir: Path, *args: str, **popen: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "engine", *args],
        cwd=workdir,
        env={**os.environ, "SPEAR_UNSUBSCRIBE_SECRET": SECRET},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **popen,  # type: ignore[call-overload]
    )


def test_serve_answers_one_click_and_stops_on_sigterm(tmp_path: Path, free_port: int) -> None:
    url = f"sqlite:///{tmp_path / 'spear.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        prospect = Prospect(email="dana@acme.example")
        session.add(prospect)
        session.commit()
        assert prospect.id is not None
        token = make_token(SECRET, prospect.id, prospect.email)
    (tmp_path / "spear.yaml").write_text(
        "database: sqlite:///spear.db\nunsubscribe:\n  one_click:\n"
        "    public_url: https://u.example.com\n    secret: ${SPEAR_UNSUBSCRIBE_SECRET}\n"
    )
    port = free_port
    server = spear(tmp_path, "unsubscribe", "serve", "--port", str(port))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.post(
                    f"http://127.0.0.1:{port}/u/{token}", data={"List-Unsubscribe": "One-Click"}
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.1)
        assert response.status_code == 200
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
    assert SECRET not in output and token not in output  # no secret, no URL in the log
    with engine.connect() as db:
        rows = db.execute(sa.text("SELECT value, source FROM suppression")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("dana@acme.example", "one-click")]


def test_serve_without_one_click_settings_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "spear.yaml").write_text("database: sqlite:///spear.db\n")
    process = spear(tmp_path, "unsubscribe", "serve")
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 1
    assert output.strip().splitlines() == [
        "Error: spear.yaml: unsubscribe.one_click is not set (give it a public_url and a secret)"
    ]
