"""`spear schedule` lists planned messages with local and UTC times, and capacity left."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from engine.cli import main
from engine.store.db import make_engine, upgrade

from .support import T0, seed_outbox

CONFIG = """
database: sqlite:///spear.db
timezone: America/New_York
mailboxes:
  - name: sales
    address: rep@spear.example
    display_name: Robin Rep
    daily_cap: 40
    smtp: {host: 127.0.0.1, port: 2525, tls: none}
"""


def test_schedule_lists_planned_messages_and_capacity(tmp_path: Path) -> None:
    (tmp_path / "spear.yaml").write_text(CONFIG, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'spear.db'}"
    upgrade(url)
    engine = make_engine(url)
    seed_outbox(engine, 2, scheduled_at=T0)
    engine.dispose()

    result = CliRunner().invoke(main, ["--config", str(tmp_path / "spear.yaml"), "schedule"])
    assert result.exit_code == 0, result.output
    assert "person0@prospect.example" in result.output
    assert "2025-06-03 11:00Z" in result.output
    assert re.search(r"Tue 2025-06-03 07:00 +America/New_York", result.output)
    assert re.search(r"sales +40 +40 +rep@spear.example", result.output)  # left today, cap
