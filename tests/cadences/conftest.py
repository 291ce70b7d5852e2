"""Fixtures for cadence tests: a working copy of the shipped cadences and templates."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHIPPED_CADENCES = REPO / "cadences"
SHIPPED_TEMPLATES = REPO / "templates"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder with copies of `cadences/` and `templates/`, free to edit."""
    shutil.copytree(SHIPPED_CADENCES, tmp_path / "cadences")
    shutil.copytree(SHIPPED_TEMPLATES, tmp_path / "templates")
    return tmp_path
