"""Version pinning: people in flight keep the cadence they started on, whatever the file says."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from engine.cadences import load_cadence, pin_version, pinned_cadence, render_step, sample_context
from engine.errors import NotFoundError
from engine.store.models import CadenceVersion, Enrollment, Prospect


def test_pinning_survives_an_edited_file(workdir: Path, db_engine: Engine) -> None:
    path, templates = workdir / "cadences" / "referral-ask.yaml", workdir / "templates"
    original = load_cadence(path, templates)

    with Session(db_engine) as session:
        prospect = Prospect(email="dana@northwind.example", first_name="Dana")
        session.add(prospect)
        session.flush()
        assert prospect.id is not None
        pin_version(session, original)
        # In flight: the first two steps are sent, `value` is next.
        session.add(
            Enrollment(
                prospect_id=prospect.id,
                cadence=original.name,
                cadence_version=original.version,
                next_step="value",
                steps_sent=2,
            )
        )
        session.commit()

    # The file changes: a step is inserted before `value`, `value`'s template is rewritten, and
    # the final step is dropped.
    text = path.read_text()
    text = text.replace(
        "  - id: value\n",
        "  - id: extra\n    wait: 1 day\n    template: referral-ask-4\n  - id: value\n",
    )
    text = text.replace("    template: referral-ask-3\n", "    template: referral-ask-new\n")
    text = text.split("  - id: close\n")[0] + "\n" + text.split("wait: 5 business days\n")[1]
    text = text.replace("    template: referral-ask-5\n", "")
    (templates / "referral-ask-new.txt.j2").write_text(
        (templates / "referral-ask-3.txt.j2").read_text().replace("A different angle", "New copy")
    )
    path.write_text(text)
    edited = load_cadence(path, templates)
    assert edited.version != original.version
    assert [s.id for s in edited.steps] == ["ask", "bump", "extra", "value", "nudge"]
    # Editing a template alone also makes a new version.
    (templates / "referral-ask-1.txt.j2").write_text("changed\n{{ sender.signature }}\n")

    with Session(db_engine) as session:
        enrollment = session.exec(select(Enrollment)).one()
        pinned = pinned_cadence(session, enrollment.cadence, enrollment.cadence_version)

    assert pinned == original
    assert [s.id for s in pinned.steps] == ["ask", "bump", "value", "nudge", "close"]
    # Matched by id: the enrollment goes on with its own `value`, then `nudge` and `close`;
    # the new `extra` step is neither sent nor does it shift anything.
    value = pinned.step(enrollment.next_step or "")
    assert "A different angle" in render_step(pinned, value, sample_context()).body
    assert pinned.step_after("value") == pinned.step("nudge")
    assert pinned.step_after("nudge") == pinned.step("close")


def test_a_version_is_stored_once(workdir: Path, db_engine: Engine) -> None:
    cadence = load_cadence(workdir / "cadences" / "nurture.yaml", workdir / "templates")
    with Session(db_engine) as session:
        pin_version(session, cadence)
        pin_version(session, cadence)
        session.commit()
    with Session(db_engine) as session:
        pin_version(session, cadence)
        session.commit()
        rows = session.exec(select(CadenceVersion)).all()
    assert [(r.name, r.version) for r in rows] == [("nurture", cadence.version)]
    assert set(rows[0].definition["templates"]) == {f"nurture-{n}" for n in range(1, 5)}


def test_an_unknown_version(db_engine: Engine) -> None:
    with Session(db_engine) as session, pytest.raises(NotFoundError):
        pinned_cadence(session, "nurture", "0000")
