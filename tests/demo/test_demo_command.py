"""`spear demo` as a newcomer runs it: it starts the daemon and stops cleanly on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from engine.demo.world import MARKER, prepare_folder


def test_demo_stops_cleanly_on_ctrl_c_and_still_reports(tmp_path: Path) -> None:
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine",
            "demo",
            "--dir",
            str(tmp_path / "demo"),
            "--prospects",
            "20",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    assert demo.stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(iter(demo.stdout.readline, "")))
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not any(line.startswith("day  2") for line in lines):
            assert time.monotonic() < deadline, "".join(lines)
            assert demo.poll() is None, "".join(lines)
            time.sleep(0.1)
        demo.send_signal(signal.SIGINT)
        demo.wait(60)
    finally:
        if demo.poll() is None:
            demo.kill()
        reader.join(10)
    output = "".join(lines)
    assert demo.returncode == 0, output
    assert "Traceback" not in output
    # Stopped early, it still shows the report and the play's checks on what it did.
    assert "Funnel of messages sent" in output
    assert "[ok  ] every send inside its window" in output
    assert "[FAIL]" not in output
    assert (tmp_path / "demo" / "spear.db").exists()


def test_demo_never_empties_a_folder_it_did_not_write(tmp_path: Path) -> None:
    project = tmp_path / "my-outreach"
    project.mkdir()
    (project / "spear.yaml").write_text("timezone: UTC\n")
    result = subprocess.run(
        [sys.executable, "-m", "engine", "demo", "--dir", str(project)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: {project} is not empty and was not written by the demo; "
        "choose another --dir or empty it"
    ]
    assert (project / "spear.yaml").read_text() == "timezone: UTC\n"


def test_a_demo_folder_is_emptied_for_the_next_run(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    prepare_folder(folder)
    (folder / "spear.db").write_text("an earlier run")
    prepare_folder(folder)
    assert [p.name for p in folder.iterdir()] == [MARKER]
