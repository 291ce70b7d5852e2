"""`spear report` numbers, checked exactly on a small hand-built data set."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from engine.service.report import (
    Funnel,
    Reply,
    Report,
    ReportError,
    SentMessage,
    build_report,
    forecast,
    load_report,
    render_csv,
    render_json,
    render_table,
)
from engine.store.db import session_scope
from engine.store.events import EventKind
from engine.store.models import (
    CadenceVersion,
    Enrollment,
    Event,
    InboundMessage,
    OutboundMessage,
    OutboundStatus,
    Prospect,
)

SINCE, UNTIL = date(2025, 3, 3), date(2025, 3, 16)  # two ISO weeks: 2025-W10 and 2025-W11


def at(day: int, hour: int = 8, month: int = 3) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=UTC)


class Data:
    """Rows written straight to the tables, with names for the ones the assertions talk about."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.count = 0
        self.enrollments: dict[tuple[int, str], Enrollment] = {}

    def prospect(self, name: str) -> int:
        prospect = Prospect(email=f"{name}@example.org")
        self.session.add(prospect)
        self.session.flush()
        return prospect.id or 0

    def sent(
        self,
        prospect: int,
        cadence: str,
        step: str,
        variant: str | None,
        mailbox: str,
        when: datetime,
        status: OutboundStatus = OutboundStatus.SENT,
    ) -> int:
        key = (prospect, cadence)
        if key not in self.enrollments:
            enrollment = Enrollment(prospect_id=prospect, cadence=cadence, cadence_version="v1")
            self.session.add(enrollment)
            self.session.flush()
            self.enrollments[key] = enrollment
        self.count += 1
        message = OutboundMessage(
            enrollment_id=self.enrollments[key].id or 0,
            prospect_id=prospect,
            step_id=step,
            variant=variant,
            mailbox=mailbox,
            message_id=f"<m{self.count}@example.com>",
            to_address="x@example.org",
            subject="Who?",
            raw=b"",
            status=status,
            scheduled_at=when,
            sent_at=when if status is OutboundStatus.SENT else None,
        )
        self.session.add(message)
        self.session.flush()
        return message.id or 0

    def reply(
        self, prospect: int, label: str, when: datetime, outbound_id: int | None = None
    ) -> int:
        self.count += 1
        inbound = InboundMessage(
            mailbox="alice",
            uid=self.count,
            raw=b"",
            prospect_id=prospect,
            outbound_id=outbound_id,
            label=label,
            received_at=when,
        )
        self.session.add(inbound)
        self.session.flush()
        return inbound.id or 0

    def hand_off(
        self,
        prospect: int,
        inbound_id: int | None,
        when: datetime,
        *,
        kind: EventKind = EventKind.HANDOFF_EMAIL,
        undone_at: datetime | None = None,
    ) -> None:
        """The event the reply actions record for an interested prospect."""
        data = {"status": "sent", "to": "ae@example.com"}
        event = Event(
            kind=kind,
            at=when,
            prospect_id=prospect,
            inbound_id=inbound_id,
            data=data,
            undone_at=undone_at,
        )
        self.session.add(event)
        self.session.flush()


@pytest.fixture
def report_db(db_engine: Engine) -> Engine:
    with session_scope(db_engine) as session:
        d = Data(session)
        session.add(
            CadenceVersion(
                name="ceo",
                version="v1",
                definition={"file": "ceo.yaml", "yaml": "name: ceo\naudience:\n  segment: saas\n"},
            )
        )
        p1, p2, p3, p4, p5, p6 = (d.prospect(f"p{i}") for i in range(1, 7))
        # Before the period: only here so that a late reply finds its own message.
        m0 = d.sent(p6, "ceo", "step1", "A", "alice", at(20, month=2))
        m1 = d.sent(p1, "ceo", "step1", "A", "alice", at(4))
        m2 = d.sent(p2, "ceo", "step1", "B", "alice", at(4))
        d.sent(p1, "ceo", "step2", None, "alice", at(6))
        m3 = d.sent(p3, "ceo", "step1", "A", "bob", at(11))
        d.sent(p3, "ceo", "step2", None, "bob", at(13))
        m5 = d.sent(p4, "vp", "step1", None, "alice", at(12))
        d.sent(p5, "vp", "step1", None, "alice", at(14))
        d.sent(p5, "vp", "step2", None, "alice", at(15), status=OutboundStatus.FAILED)

        interest = d.reply(p1, "interest", at(5), outbound_id=m1)  # answers m1, not the later m7
        d.hand_off(p1, interest, at(5, 9))
        d.hand_off(
            p1, interest, at(5, 9), kind=EventKind.HAND_OFF
        )  # an old kind: nothing records it
        bounce = d.reply(p2, "bounce", at(4, 9))  # no outbound_id: the prospect's latest send, m2
        d.reply(p3, "auto-reply", at(11, 9))  # not a person: not a reply
        referral = d.reply(p3, "referral", at(12))  # m3: sent before it (m4 is later)
        d.hand_off(p3, None, at(12, 9))  # no reply named: not attributable, not counted
        d.reply(p4, "unclear", at(13), outbound_id=m5)  # unclear is still a person's reply
        late = d.reply(p5, "interest", at(17))  # after the period: not counted
        d.hand_off(p5, late, at(17, 9))
        early = d.reply(p6, "interest", at(5))  # answers m0, sent before the period
        d.hand_off(p6, early, at(6))  # m0's too
        d.hand_off(p2, bounce, at(6), undone_at=at(7))  # undone by a reviewer: not counted
        d.hand_off(p3, referral, at(12, 9), undone_at=at(12, 10))
        assert (m0, m2, m3) == (1, 3, 5)
    return db_engine


def counts(funnel: Funnel) -> tuple[int, int, int, int, int, int]:
    return (
        funnel.sent,
        funnel.bounced,
        funnel.replied,
        funnel.referrals,
        funnel.interest,
        funnel.handed_off,
    )


def load(engine: Engine, by: tuple[str, ...], deal_size: float = 50_000) -> Report:
    with Session(engine) as session:
        return load_report(session, since=SINCE, until=UNTIL, by=by, deal_size=deal_size)


def rows(report: Report) -> dict[tuple[str, ...], tuple[int, ...]]:
    return {key: counts(funnel) for key, funnel in report.rows}


def test_funnel_by_cadence_step_variant(report_db: Engine) -> None:
    report = load(report_db, ("cadence", "step", "variant"))
    #                            sent bounced replied referrals interest handed-off
    assert rows(report) == {
        ("ceo", "step1", "A"): (2, 0, 2, 1, 1, 1),
        ("ceo", "step1", "B"): (1, 1, 0, 0, 0, 0),
        ("ceo", "step2", "-"): (2, 0, 0, 0, 0, 0),
        ("vp", "step1", "-"): (2, 0, 1, 0, 0, 0),
    }
    assert counts(report.total) == (7, 1, 3, 1, 1, 1)
    weekly = {week: (f.sent, f.replied, f.interest) for week, f in report.weekly}
    assert weekly == {"2025-W10": (3, 1, 1), "2025-W11": (4, 2, 0)}


def test_funnel_by_segment_and_mailbox(report_db: Engine) -> None:
    assert rows(load(report_db, ("segment", "mailbox"))) == {
        ("saas", "alice"): (3, 1, 1, 0, 1, 1),
        ("saas", "bob"): (2, 0, 1, 1, 0, 0),
        ("vp", "alice"): (2, 0, 1, 0, 0, 0),  # no audience segment: the cadence is its segment
    }


def test_forecast(report_db: Engine) -> None:
    f = load(report_db, ("cadence",), deal_size=60_000).forecast
    # One qualified lead in 14 days: 30/14 a month, times the deal size.
    assert f == forecast(1, 14, 60_000)
    assert f.leads_per_month == pytest.approx(30 / 14)
    assert f.pipeline_per_month == pytest.approx(60_000 * 30 / 14)


def test_outputs(report_db: Engine) -> None:
    report = load(report_db, ("cadence", "step", "variant"))
    table = render_table(report)
    lines = table.splitlines()
    assert lines[2].split() == [
        *("cadence", "step", "variant", "sent", "bounced", "bounced", "%", "replied", "replied"),
        *("%", "vs", "play", "9%", "referrals", "interest", "handed", "off", "complaints"),
    ]
    row = ["ceo", "step1", "A", "2", "0", "0.0%", "2", "100.0%", "+91.0", "pts", "1", "1", "1", "0"]
    assert lines[3].split() == row
    end_of_sent = lines[2].index("sent") + len("sent")
    assert lines[3][:end_of_sent].endswith(" 2")  # numbers right-aligned under their header
    assert "TOTAL" in table and "42.9%" in table and "+33.9 pts" in table
    assert "new pipeline per month     107,143" in table

    rows = list(csv.reader(io.StringIO(render_csv(report))))
    assert rows[0][:5] == ["cadence", "step", "variant", "sent", "bounced"]
    assert rows[5][:4] == ["TOTAL", "", "", "7"]
    assert ["2025-W11", "4", "2", "50.0%", "0"] in rows

    document = json.loads(render_json(report))
    assert document["total"]["replied_rate"] == pytest.approx(3 / 7)
    assert document["play_reply_rate"] == 0.09
    assert document["rows"][0]["cadence"] == "ceo"
    assert document["forecast"]["qualified_leads"] == 1


def test_complaints_count_for_the_message_they_answer() -> None:
    sent_at = datetime.combine(SINCE, time(8), UTC)
    messages = [SentMessage(n, n, sent_at, "ceo", "step1", "-", "ceo", "alice") for n in (1, 2, 3)]
    feedback = [
        Reply(10, 1, 1, "unclear", sent_at + timedelta(hours=2), complaint=True),
        Reply(11, 2, 2, "not-interested", sent_at + timedelta(hours=3)),
    ]
    report = build_report(messages, feedback, [], since=SINCE, until=UNTIL, deal_size=1)
    assert (report.total.sent, report.total.complaints) == (3, 1)
    assert json.loads(render_json(report))["total"]["complaints"] == 1


def test_an_empty_period() -> None:
    report = build_report([], [], [], since=SINCE, until=SINCE, deal_size=50_000)
    assert report.rows == [] and report.total.sent == 0
    assert report.total.replied_rate is None
    assert report.forecast.pipeline_per_month == 0
    assert "TOTAL" in render_table(report)


def test_bad_requests() -> None:
    with pytest.raises(ReportError, match="unknown report dimension colour"):
        build_report([], [], [], since=SINCE, until=UNTIL, by=["colour"], deal_size=1)
    with pytest.raises(ReportError, match="before it starts"):
        build_report([], [], [], since=UNTIL, until=SINCE, deal_size=1)


def sent_message(number: int, step: str, step_number: int, when: datetime) -> SentMessage:
    return SentMessage(
        id=number,
        prospect_id=number,
        sent_at=when,
        cadence="referral-ask",
        step=step,
        variant="-",
        segment="executives",
        mailbox="alex",
        step_number=step_number,
    )


def test_steps_in_cadence_order_and_the_forecast_over_the_run() -> None:
    # A run that started on the 10th: the days before it bring no leads and do not dilute them.
    messages = [
        sent_message(1, "value", 2, at(14)),
        sent_message(2, "ask", 0, at(10)),
        sent_message(3, "bump", 1, at(12)),
    ]
    report = build_report(
        messages, [], [], since=SINCE, until=UNTIL, by=("cadence", "step"), deal_size=1
    )
    assert [key for key, _ in report.rows] == [
        ("referral-ask", "ask"),
        ("referral-ask", "bump"),
        ("referral-ask", "value"),
    ]
    assert report.forecast.period_days == 7  # the 10th to the 16th
