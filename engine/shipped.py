"""Files Spear ships: the example cadences and templates, and the starter configuration.

In a wheel they live inside the package (`engine/defaults/`); in a source checkout they are the
repository's own `cadences/` and `templates/` folders.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_dir(name: str) -> Path:
    """`cadences` or `templates`, wherever this installation keeps them."""
    for candidate in (PACKAGE_DIR / "defaults" / name, PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the shipped {name}/ folder is missing from this installation")


STARTER_CONFIG = PACKAGE_DIR / "starter" / "spear.yaml"
