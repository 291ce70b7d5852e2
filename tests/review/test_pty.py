"""A whole interactive session in a real pseudo-terminal: single keys in raw mode, as a rep types.

`spear review` runs in a subprocess whose terminal is the slave side of a pty; the test reads
the screen from the master side and sends one key at a time (no Enter).
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import Session, col
from sqlmodel import select as sql_select

import engine
from engine.store.models import Account, AccountStatus, InboundStatus, ReviewDecision

from .conftest import BELOW_THRESHOLD, UNCLEAR, Workspace

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

TIMEOUT = 20.0


class Screen:
    """What the program has written to its terminal so far."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.text = ""
        self.seen = 0  # `expect` looks only past what it already matched

    def expect(self, wanted: str) -> str:
        deadline = time.monotonic() + TIMEOUT
        while wanted not in self.text[self.seen :]:
            if time.monotonic() > deadline:
                raise AssertionError(f"{wanted!r} not shown; screen:\n{self.text}")
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:  # the program exited and closed the terminal
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"{wanted!r} not shown before exit:\n{self.text}")
                self.text += chunk.decode("utf-8", errors="replace")
        start = self.text.index(wanted, self.seen)
        shown = self.text[self.seen : start + len(wanted)]
        self.seen = start + len(wanted)
        return shown

    def press(self, key: str) -> None:
        os.write(self.fd, key.encode())


def test_accept_relabel_undo_and_quit_in_a_terminal(workspace: Workspace) -> None:
    guessed = workspace.receive(BELOW_THRESHOLD)
    unclear = workspace.receive(UNCLEAR, sender="sam@acme.example", in_reply_to=None)
    repo = Path(engine.__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(repo), "TERM": "xterm", "COLUMNS": "120"}
    master, slave = pty.openpty()
    command = [sys.executable, "-m", "engine", "--config", str(workspace.config_file)]
    process = subprocess.Popen(
        [*command, "review", "--reviewer", "kim"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=workspace.root,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    screen = Screen(master)
    try:
        first = screen.expect("[?]help")
        assert "1 of 2" in first and "Happy to chat sometime" in first
        assert "Label:    unclear 0.20 (not-interested?)" in first
        assert "Accept as not-interested: Spear will stop dana@acme.example's cadences" in first
        screen.press("a")
        screen.expect(f"#{guessed}: unclear -> not-interested (saved)")

        second = screen.expect("[?]help")
        before = workspace.snapshot()  # after the accept, before the relabel and its undo
        assert "2 of 2" in second and "Thanks for reaching out." in second
        screen.press("r")
        screen.expect("Relabel as:")
        screen.press("2")  # interest
        screen.expect(f"#{unclear}: unclear -> interest (saved)")
        screen.expect("No more replies to review")
        interested = workspace.get(Account, workspace.ids["account"])
        assert interested.status is AccountStatus.HANDED_OFF

        screen.press("u")
        screen.expect(f"Undone: #{unclear} is back to unclear (was interest)")
        assert "── 2 of 2 ──" in screen.expect(f"message #{unclear}")  # still the second of two
        screen.expect("[?]help")
        screen.press("q")
        screen.expect("Done: 1 accepted, 0 relabelled, 0 skipped, 1 undone.")  # undone: not counted
        assert process.wait(timeout=TIMEOUT) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)

    assert workspace.inbound(guessed).label == "not-interested"
    assert workspace.inbound(guessed).status is InboundStatus.REVIEWED
    after = workspace.snapshot()
    assert after == before  # the undone relabel left every row exactly as it was
    with Session(workspace.engine) as session:
        rows = session.exec(sql_select(ReviewDecision).order_by(col(ReviewDecision.id))).all()
    assert [(d.reviewer, d.new_label, d.undone_at is None) for d in rows] == [
        ("kim", "not-interested", True),
        ("kim", "interest", False),
    ]
