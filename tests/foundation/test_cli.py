"""The CLI's own commands and its error contract: exit 1 with one clear line, exit 2 for usage."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from engine import __version__
from engine.cli import main
from engine.store.db import make_engine


def spear(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "engine", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_version() -> None:
    result = CliRunner().invoke(main, ["version"])
    assert result.exit_code == 0
    assert result.output.strip() == __version__


def test_every_command_has_help() -> None:
    runner = CliRunner()

    def walk(group: object, path: list[str]) -> None:
        import click

        assert isinstance(group, click.Command)
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output
        if isinstance(group, click.Group):
            for name, command in group.commands.items():
                walk(command, [*path, name])

    walk(main, [])


def test_init_then_db_upgrade(tmp_path: Path) -> None:
    target = tmp_path / "x"
    result = spear("init", str(target), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (target / "spear.yaml").is_file()
    assert list((target / "cadences").glob("*.yaml"))
    assert list((target / "templates").iterdir())
    result = spear("db", "upgrade", cwd=target, env={"SPEAR_ALEX_PASSWORD": "x"})
    assert result.returncode == 0, result.stderr
    engine = make_engine(f"sqlite:///{target / 'spear.db'}")
    assert "outbound_message" in sa.inspect(engine).get_table_names()
    engine.dispose()


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    assert spear("init", str(tmp_path), cwd=tmp_path).returncode == 0
    again = spear("init", str(tmp_path), cwd=tmp_path)
    assert again.returncode == 1
    assert "already exists; use --force" in again.stderr


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("timezone: UTC\nbogus: 1\n", "spear.yaml:2: bogus: unknown key"),
        (
            "mailboxes:\n  - name: a\n    address: a@x.test\n"
            "    smtp: {host: 127.0.0.1, port: 0, tls: none}\n",
            "spear.yaml:4: mailboxes.0.smtp.port: Input should be greater than or equal to 1",
        ),
        (
            "mailboxes:\n  - name: a\n    address: a@x.test\n"
            "    smtp: {host: 127.0.0.1, port: 25, tls: none, password: hunter2}\n",
            "spear.yaml:4: mailboxes.0.smtp.password: a password must be ${ENV_VAR} or "
            "{file: PATH}; it is never written inline",
        ),
        ("", "spear.yaml:1: the configuration is empty; `spear init` writes a starter"),
        (
            "webhooks:\n  - url: http://127.0.0.1:9/hook\n    events: [intrest]\n",
            "spear.yaml:3: webhooks.0.events.0: Input should be 'interest', 'referral', 'bounce' "
            "or 'unsubscribe'",
        ),
        ("timezone: Mars/Base\n", "spear.yaml:1: timezone: unknown IANA time zone 'Mars/Base'"),
    ],
)
def test_bad_config_is_one_line_exit_1(
    tmp_path: Path, config: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SPEAR_UNSET_PW", raising=False)
    (tmp_path / "spear.yaml").write_text(config)
    result = spear("db", "upgrade", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_config_flag_and_env(tmp_path: Path) -> None:
    (tmp_path / "other.yaml").write_text("database: sqlite:///other.db\n")
    assert spear("--config", "other.yaml", "db", "upgrade", cwd=tmp_path).returncode == 0
    assert (tmp_path / "other.db").exists()
    (tmp_path / "third.yaml").write_text("database: sqlite:///third.db\n")
    assert spear("db", "upgrade", cwd=tmp_path, env={"SPEAR_CONFIG": "third.yaml"}).returncode == 0
    assert (tmp_path / "third.db").exists()


def test_usage_error_exits_2(tmp_path: Path) -> None:
    assert spear("no-such-command", cwd=tmp_path).returncode == 2


def test_only_what_connects_needs_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SPEAR_UNSET_PW", raising=False)
    (tmp_path / "spear.yaml").write_text(
        "mailboxes:\n  - name: a\n    address: a@x.test\n"
        "    smtp: {host: 127.0.0.1, port: 25, tls: none, user: a,\n"
        "           password: '${SPEAR_UNSET_PW}'}\n"
    )
    for command in (["db", "upgrade"], ["status"], ["mailbox", "list"], ["schedule"]):
        result = spear(*command, cwd=tmp_path)
        assert result.returncode == 0, (command, result.stderr)
        assert result.stderr == ""
    result = spear("run", "--once", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: spear.yaml:5: mailboxes.0.smtp.password: "
        "environment variable SPEAR_UNSET_PW is not set"
    ]


def test_spear_alone_prints_help_and_a_typo_gets_a_suggestion(tmp_path: Path) -> None:
    alone = spear(cwd=tmp_path)
    assert alone.returncode == 0
    assert alone.stdout.startswith("Usage: spear") and alone.stderr == ""
    typo = spear("stauts", cwd=tmp_path)
    assert typo.returncode == 2
    assert "No such command 'stauts'. Did you mean 'status'?" in typo.stderr


def test_before_db_upgrade_every_command_says_so_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "spear.yaml").write_text("timezone: UTC\n")
    for command in (
        ["status"],
        ["schedule"],
        ["queue"],
        ["report"],
        ["inbox"],
        ["mailbox", "list"],
    ):
        result = spear(*command, cwd=tmp_path)
        assert result.returncode == 1, command
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, (command, result.stderr)
        assert lines[0].startswith("Error: the database has no Spear tables yet")
        assert lines[0].endswith("run `spear db upgrade`")


def test_classify_a_missing_file_exits_1(tmp_path: Path) -> None:
    result = spear("classify", "missing.eml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: cannot read missing.eml: No such file or directory"
