"""`scripts/evaluate.py` scores the classifier on a real `spear queue export`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from engine.cli import main

from .conftest import NOT_INTERESTED, REFERRAL_WITHOUT_ADDRESS, Workspace

EVALUATE = Path(__file__).resolve().parents[2] / "scripts" / "evaluate.py"


def spear(workspace: Workspace, *args: str) -> str:
    result = CliRunner().invoke(
        main, ["--config", str(workspace.config_file), *args], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_evaluate_scores_the_teams_own_decisions(workspace: Workspace, tmp_path: Path) -> None:
    relabelled = workspace.receive(NOT_INTERESTED)
    accepted = workspace.receive(REFERRAL_WITHOUT_ADDRESS, sender="sam@acme.example")
    spear(workspace, "review", str(relabelled), "--label", "interest", "--reviewer", "kim")
    spear(workspace, "review", str(accepted), "--label", "referral", "--reviewer", "kim")
    export = tmp_path / "decisions.jsonl"
    spear(workspace, "queue", "export", "--output", str(export))

    run = subprocess.run(
        [sys.executable, str(EVALUATE), str(export)], capture_output=True, text=True, check=False
    )

    assert run.returncode == 0, run.stderr
    assert "replies: " in run.stdout and "2 messages" in run.stdout
    # the team said "interest" where the classifier read "not interested": one wrong action
    assert "acted on wrongly 0.500 (1/2)" in run.stdout
    assert "confusion (rows expected, columns given):" in run.stdout
    assert "calibration (reading right, by confidence):" in run.stdout


def test_evaluate_refuses_a_file_that_is_no_export(tmp_path: Path) -> None:
    junk = tmp_path / "junk.jsonl"
    junk.write_text('{"hello": 1}\n', encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(EVALUATE), str(junk)], capture_output=True, text=True, check=False
    )
    assert run.returncode == 2
    assert "not a queue export" in run.stderr
