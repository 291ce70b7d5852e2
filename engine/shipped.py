"""Files Spear ships: the example cadences and templates, and the starter configuration.

In a wheel they live inside the package (`engine/defaults/`); in a source checkout they are the
repository's own `cadences/` and `templates/` folders.
"""

from __future__ import annotations

import shutil
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_dir(name: str) -> Path:
    """`cadences` or `templates`, wherever this installation keeps them."""
    for candidate in (PACKAGE_DIR / "defaults" / name, PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the shipped {name}/ folder is missing from this installation")


STARTER_CONFIG = PACKAGE_DIR / "starter" / "spear.yaml"


def starter_files(directory: Path) -> list[tuple[Path, Path]]:
    """(source, target) for `spear init DIRECTORY`: the config, the cadences, their templates."""
    copies = [(STARTER_CONFIG, directory / "spear.yaml")]
    for name in ("cadences", "templates"):
        source = shipped_dir(name)
        copies += [(f, directory / name / f.name) for f in sorted(source.iterdir()) if f.is_file()]
    return copies


def copy_files(copies: list[tuple[Path, Path]]) -> None:
    for source, target in copies:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
