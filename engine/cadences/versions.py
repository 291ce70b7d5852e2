"""Pinning cadence versions, so an edited file never changes what people in flight receive.

An enrollment records `cadence_version`; the first time a version is used its full text (the YAML
and every template it uses) is stored in `cadence_version`. Rebuilding from that text gives back
exactly the cadence the enrollment started on, whatever the files say today. Steps are matched by
id, so an enrollment's `next_step` always names a step of its own version.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from engine.cadences.loader import parse_cadence
from engine.cadences.model import Cadence
from engine.errors import NotFoundError
from engine.store.models import CadenceVersion


def snapshot(cadence: Cadence) -> dict[str, Any]:
    """What is stored: enough text to rebuild the cadence with no files at all."""
    return {"file": cadence.file, "yaml": cadence.source, "templates": dict(cadence.templates)}


def from_snapshot(definition: dict[str, Any]) -> Cadence:
    templates: dict[str, str] = dict(definition["templates"])
    # No sample rendering here: a version that was valid when pinned stays usable even if a later
    # Spear changes the sample prospect.
    return parse_cadence(
        definition["yaml"], definition["file"], templates.get, check_rendering=False
    )


def pin_version(session: Session, cadence: Cadence, *, now: datetime | None = None) -> None:
    """Store the cadence's snapshot once per (name, version); later calls change nothing.

    `now` (from the caller's clock) is recorded as the row's creation time.
    """
    if _find(session, cadence.name, cadence.version) is not None:
        return
    try:
        # A savepoint: another process may pin the same version at the same moment.
        with session.begin_nested():
            session.add(
                CadenceVersion(
                    name=cadence.name,
                    version=cadence.version,
                    definition=snapshot(cadence),
                    created_at=now,
                )
            )
    except sa.exc.IntegrityError:
        pass  # the other process won; its row holds the same content


def pinned_cadence(session: Session, name: str, version: str) -> Cadence:
    """The cadence `name` exactly as it was at `version`."""
    row = _find(session, name, version)
    if row is None:
        raise NotFoundError(f"cadence {name} version {version} was never pinned")
    cadence = from_snapshot(row.definition)
    if cadence.version != version:
        raise NotFoundError(f"cadence {name} version {version}: the stored snapshot does not match")
    return cadence


def _find(session: Session, name: str, version: str) -> CadenceVersion | None:
    query = select(CadenceVersion).where(
        CadenceVersion.name == name, CadenceVersion.version == version
    )
    return session.exec(query).first()
