"""Every address import accepts can be sent to, or fails alone with a reason.

Real imported prospects, the real planner and dispatcher, an aiosmtpd sink on loopback with and
without SMTPUTF8.
"""

from __future__ import annotations

import random
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from engine.clock import FixedClock, utc
from engine.prospects.enrollment import enroll
from engine.prospects.importer import import_prospects
from engine.sending.dispatcher import Dispatcher
from engine.sending.planner import Planner
from engine.store.models import Enrollment, EnrollmentStatus, OutboundMessage, Prospect

from .support import T0, Sink, cadence, port_of, start_sink, two_mailboxes

PEOPLE = """email,first_name,company,timezone
j.weiss@müller-maschinenbau.de,Jana,Müller Maschinenbau,America/New_York
jörg@bäckerei.example,Jörg,Bäckerei,America/New_York
ann@plain.example,Ann,Plain,America/New_York
"""


async def plan_and_send(engine: Engine, tmp_path: Path, sink: Sink, **smtp: object) -> Dispatcher:
    server = await start_sink(sink, **smtp)
    clock = FixedClock(T0 - timedelta(hours=2))
    csv = tmp_path / "people.csv"
    csv.write_text(PEOPLE, encoding="utf-8")
    with Session(engine) as db:
        report = import_prospects(db, csv, now=clock.now())
        assert report.problems == []
        people = list(db.exec(select(Prospect).order_by(Prospect.id)))  # type: ignore[arg-type]
        assert len(enroll(db, cadence(), people, now=clock.now())) == 3
        db.commit()
    config = two_mailboxes(port_of(server)).model_copy()
    config = config.model_copy(update={"mailboxes": config.mailboxes[:1]})
    assert Planner(engine, config, clock, random.Random(1)).plan_due().planned == 3
    with Session(engine) as db:
        slots = sorted(utc(r.scheduled_at) for r in db.exec(select(OutboundMessage)))  # type: ignore[arg-type]
    dispatcher = Dispatcher(engine, config, clock)
    for slot in slots:
        clock.set(slot)
        await dispatcher.run_once()
    await dispatcher.close()
    server.close()
    return dispatcher


def outcome(engine: Engine) -> dict[str, tuple[str, str | None]]:
    with Session(engine) as db:
        return {r.to_address: (r.status.value, r.error) for r in db.exec(select(OutboundMessage))}


@pytest.mark.parametrize("smtputf8", [True, False])
async def test_idna_domains_and_utf8_local_parts(
    db_engine: Engine, tmp_path: Path, smtputf8: bool
) -> None:
    sink = Sink()
    await plan_and_send(db_engine, tmp_path, sink, enable_SMTPUTF8=smtputf8)
    rows = outcome(db_engine)
    # A domain that is not ASCII goes as punycode, in the envelope and in the To header.
    assert rows["j.weiss@müller-maschinenbau.de"] == ("sent", None)
    assert rows["ann@plain.example"] == ("sent", None)
    by_to = {str(message_from_bytes(m)["To"]): m for m in sink.messages}
    assert any("j.weiss@xn--mller-maschinenbau-m6b.de" in to for to in by_to)
    if smtputf8:
        assert rows["jörg@bäckerei.example"] == ("sent", None)
        assert any(b"j\xc3\xb6rg@xn--bckerei-5wa.example" in m for m in sink.messages)
    else:
        # The server cannot take it: this one row fails with the reason, the others went.
        status, error = rows["jörg@bäckerei.example"]
        assert status == "failed" and error is not None and "SMTPUTF8" in error
        with Session(db_engine) as db:
            jorg = db.exec(select(Prospect).where(Prospect.email == "jörg@bäckerei.example")).one()
            enrollment = db.exec(select(Enrollment).where(Enrollment.prospect_id == jorg.id)).one()
        assert enrollment.status == EnrollmentStatus.STOPPED
    assert len(sink.messages) == (3 if smtputf8 else 2)
