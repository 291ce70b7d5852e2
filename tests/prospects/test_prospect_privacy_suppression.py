"""Suppression list and privacy requests against a real SQLite database."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from engine.errors import NotFoundError
from engine.prospects.addresses import email_hash
from engine.prospects.importer import import_prospects
from engine.prospects.privacy import export_person, forget_person
from engine.prospects.suppression import (
    add_suppression,
    import_suppressions,
    is_suppressed,
    remove_suppression,
)
from engine.store.events import EventKind
from engine.store.models import (
    Enrollment,
    Event,
    OutboundMessage,
    Prospect,
    Suppression,
    SuppressionKind,
)


def test_address_domain_and_subdomain(session: Session, now: datetime) -> None:
    add_suppression(session, "Jane@Acme.com", now=now, reason="unsubscribed")
    add_suppression(session, "@beta.io", now=now, reason="asked us to stop")
    _entry, added = add_suppression(session, "jane@acme.com", now=now)
    assert not added
    assert is_suppressed(session, "JANE@acme.com") == "suppressed address: unsubscribed"
    assert is_suppressed(session, "bob@eu.beta.io") == "suppressed domain beta.io: asked us to stop"
    assert is_suppressed(session, "bob@acme.com") is None
    assert is_suppressed(session, "not an address") is None
    assert remove_suppression(session, "@beta.io")
    assert not remove_suppression(session, "beta.io")
    assert is_suppressed(session, "bob@beta.io") is None
    with pytest.raises(ValueError, match="neither an address nor a domain"):
        add_suppression(session, "nonsense", now=now)


def test_import_plain_and_csv(tmp_path: Path, session: Session, now: datetime) -> None:
    plain = tmp_path / "list.txt"
    plain.write_text("# from the old tool\na@acme.com\n@beta.io\n\nbad@@\na@acme.com\n")
    result = import_suppressions(session, plain, now=now, reason="legacy")
    assert (result.added, result.already_listed, len(result.problems)) == (2, 1, 1)
    assert result.problems[0].location.line == 5

    table = tmp_path / "list.csv"
    table.write_text("Email,Reason\nc@gamma.co,bounced\nd@gamma.co,\n")
    result = import_suppressions(session, table, now=now, reason="default")
    assert result.added == 2
    reasons = {s.value: s.reason for s in session.exec(select(Suppression))}
    assert reasons["c@gamma.co"] == "bounced"
    assert reasons["d@gamma.co"] == "default"
    assert reasons["beta.io"] == "legacy"


def test_forget_erases_and_keeps_a_hash(tmp_path: Path, session: Session, now: datetime) -> None:
    csv = tmp_path / "p.csv"
    csv.write_text("email,first name,company\njane@acme.com,Jane,Acme\nbob@acme.com,Bob,Acme\n")
    import_prospects(session, csv, now=now)
    jane = session.exec(select(Prospect).where(Prospect.email == "jane@acme.com")).one()
    enrollment = Enrollment(prospect_id=jane.id or 0, cadence="c", cadence_version="v1")
    session.add(enrollment)
    session.flush()
    session.add(
        OutboundMessage(
            enrollment_id=enrollment.id or 0,
            prospect_id=jane.id or 0,
            step_id="s1",
            mailbox="alex",
            message_id="<1@x>",
            to_address=jane.email,
            subject="Hi",
            raw=b"Hi Jane",
            scheduled_at=now,
        )
    )
    session.add(Event(at=now, kind=EventKind.ENROLLED, prospect_id=jane.id))
    add_suppression(session, "jane@acme.com", now=now, reason="unsubscribed")
    session.commit()

    held = export_person(session, "Jane@Acme.com")
    assert held["prospect"]["first_name"] == "Jane"
    assert held["account"]["domain"] == "acme.com"
    assert [m["subject"] for m in held["messages_sent"]] == ["Hi"]
    assert "raw" not in held["messages_sent"][0]
    assert len(held["enrollments"]) == len(held["events"]) == 1
    assert held["suppressions"][0]["reason"] == "unsubscribed"

    assert forget_person(session, "jane@acme.com", now=now)
    session.commit()
    assert session.exec(select(Prospect.email)).all() == ["bob@acme.com"]
    assert session.exec(select(Enrollment)).all() == []
    assert session.exec(select(OutboundMessage)).all() == []
    entries = session.exec(select(Suppression)).all()
    assert [(s.kind, s.value) for s in entries] == [
        (SuppressionKind.HASH, email_hash("jane@acme.com"))
    ]
    assert is_suppressed(session, "jane@acme.com") == "forgotten on request (suppressed by hash)"
    export = export_person(session, "jane@acme.com")
    assert export["prospect"] is None and export["suppressions"][0]["kind"] == "hash"
    with pytest.raises(NotFoundError):
        export_person(session, "nobody@acme.com")
