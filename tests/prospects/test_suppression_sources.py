"""Where each suppression came from: a code in the database, shown by `spear suppress list`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from click.testing import CliRunner

from engine.cli import main
from engine.store.db import alembic_config, make_engine, upgrade

NOW = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)


def revision_before_sources(url: str) -> str:
    """The revision just before the one that made `suppression.source` a code."""
    scripts = ScriptDirectory.from_config(alembic_config(url))
    for revision in scripts.walk_revisions():
        if (revision.doc or "").startswith("suppression source"):
            assert isinstance(revision.down_revision, str)
            return revision.down_revision
    raise AssertionError("no suppression source migration")


def test_the_migration_turns_old_free_text_sources_into_codes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'spear.db'}"
    upgrade(url, revision_before_sources(url))
    engine = make_engine(url)
    old = [
        ("a@x.example", "unsubscribe", "reply:12"),
        ("b@x.example", "complaint", "reply:13"),
        ("c@x.example", "hard bounce: 5.1.1 user unknown", "reply:14"),
        ("d@x.example", "3 soft bounces in 30 days", "reply:15"),
        ("e@x.example", "hard bounce: 550 no such user", "smtp"),
        ("f@x.example", "", "manual"),
        ("g@x.example", "", "import"),
        ("h@x.example", "", "typed by someone"),
    ]
    with engine.begin() as db:
        for value, reason, source in old:
            db.execute(
                sa.text(
                    "INSERT INTO suppression (kind, value, reason, source, created_at) "
                    "VALUES ('address', :value, :reason, :source, :at)"
                ),
                {"value": value, "reason": reason, "source": source, "at": NOW},
            )
    upgrade(url)
    with engine.connect() as db:
        sources = dict(db.execute(sa.text("SELECT value, source FROM suppression")).all())
    engine.dispose()
    assert sources == {
        "a@x.example": "reply",
        "b@x.example": "complaint",
        "c@x.example": "bounce",
        "d@x.example": "bounce",
        "e@x.example": "bounce",
        "f@x.example": "manual",
        "g@x.example": "import",
        "h@x.example": "manual",
    }


def test_suppress_list_shows_each_entrys_source_and_time(tmp_path: Path) -> None:
    config = tmp_path / "spear.yaml"
    config.write_text("database: sqlite:///spear.db\n")
    upgrade(f"sqlite:///{tmp_path / 'spear.db'}")
    (tmp_path / "list.txt").write_text("@spam.example\n")
    runner = CliRunner()
    for args in (
        ["suppress", "add", "jane@acme.example"],
        ["suppress", "import", str(tmp_path / "list.txt")],
    ):
        result = runner.invoke(main, ["--config", str(config), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["--config", str(config), "suppress", "list"])
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [(kind, value, source) for kind, value, _reason, source, _when in rows] == [
        ("address", "jane@acme.example", "manual"),
        ("domain", "spam.example", "import"),
    ]
    assert all(when[:4].isdigit() and "T" in when for *_, when in rows)
