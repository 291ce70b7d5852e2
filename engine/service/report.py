"""`spear report`: the play's funnel over a period, its weekly trend and its pipeline forecast.

How the numbers are counted (the cohort of messages *sent* in the period):

- **sent**: outbound messages with `sent_at` in the period (from `since` 00:00 UTC up to the end
  of `until`, both days included).
- A reply counts for the message it answers (`InboundMessage.outbound_id`), or else for the
  prospect's latest message sent before the reply arrived. Only replies received before the end
  of the period count, so a report on a past period does not change as time goes on.
- **bounced**: sent messages that drew a `bounce`. **replied**: sent messages that drew a reply
  from a person, any label but `bounce` and `auto-reply` (an `unclear` reply is still a reply).
  **referrals**, **interest**: sent messages that drew a reply with that label; interest
  replies are the play's qualified leads. **handed off**: sent messages whose reply led to a
  hand-off: a `handoff.email` event (the email to the account executive that the reply actions
  record) that is not undone, counted for the reply its `inbound_id` names. A hand-off undone by
  a reviewer (a reply re-classified) does not count; one without a reply is not attributable.
  **complaints**: sent messages that drew an ARF feedback report (the recipient marked them as
  spam; the address is suppressed).
- Percentages are of **sent**; the play's benchmark is a 9% reply rate.
- **segment** is the cadence's `audience.segment` in the pinned cadence version; a cadence with an
  inline filter or no audience is its own segment (the cadence name).
- **forecast**: the period's qualified leads (the interest total) scaled to 30 days, times the
  average deal size, is the new pipeline a month brings. The period counts from the first send
  when that is later than `since`, so a run of three weeks is scaled as three weeks.
- Rows list steps in their cadence's order (ask, bump, value...), other dimensions by name.

The arithmetic is pure (`build_report` over plain `SentMessage`/`Reply`/`HandOff` values); the
queries that feed it are at the end of the module.
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from sqlmodel import Session, col, select

from engine.classify.result import NOT_A_PERSON
from engine.errors import SpearError
from engine.store.events import EventKind
from engine.store.models import (
    CadenceVersion,
    Enrollment,
    Event,
    InboundMessage,
    OutboundMessage,
    OutboundStatus,
)

DIMENSIONS = ("cadence", "step", "variant", "segment", "mailbox")
DEFAULT_BY = ("cadence", "step", "variant")
PLAY_REPLY_RATE = 0.09  # about 9% of the play's emails get a reply
DAYS_PER_MONTH = 30
NO_VARIANT = "-"  # the step's own template, no A/B variant


class ReportError(SpearError, ValueError):
    """The report was asked for in a way that cannot be answered (bad period or dimension)."""


# --- the facts the report is made of ------------------------------------------------------------


@dataclass(frozen=True)
class SentMessage:
    id: int
    prospect_id: int
    sent_at: datetime
    cadence: str
    step: str
    variant: str
    segment: str
    mailbox: str
    step_number: int = 0  # the step's place in its cadence: rows list steps in cadence order

    def dimension(self, name: str) -> str:
        return str(getattr(self, name))


@dataclass(frozen=True)
class Reply:
    id: int
    prospect_id: int | None
    outbound_id: int | None
    label: str
    received_at: datetime
    complaint: bool = False  # an ARF feedback report: marked as spam


@dataclass(frozen=True)
class HandOff:
    inbound_id: int  # the reply that led to it
    at: datetime


@dataclass
class Funnel:
    sent: int = 0
    bounced: int = 0
    replied: int = 0
    referrals: int = 0
    interest: int = 0
    handed_off: int = 0
    complaints: int = 0

    def add(self, other: Funnel) -> None:
        for name in (
            "sent",
            "bounced",
            "replied",
            "referrals",
            "interest",
            "handed_off",
            "complaints",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def rate(self, count: int) -> float | None:
        return count / self.sent if self.sent else None

    @property
    def bounced_rate(self) -> float | None:
        return self.rate(self.bounced)

    @property
    def replied_rate(self) -> float | None:
        return self.rate(self.replied)

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "bounced_rate": self.bounced_rate,
            "replied_rate": self.replied_rate,
            "play_reply_rate": PLAY_REPLY_RATE,
        }


@dataclass(frozen=True)
class Forecast:
    period_days: int
    qualified_leads: int
    leads_per_month: float
    deal_size: float
    pipeline_per_month: float


@dataclass(frozen=True)
class Report:
    since: date
    until: date  # included
    by: tuple[str, ...]
    rows: list[tuple[tuple[str, ...], Funnel]]
    total: Funnel
    weekly: list[tuple[str, Funnel]]  # ISO week ("2025-W07") -> funnel of that week's sends
    forecast: Forecast = field(repr=False)


# --- the arithmetic -----------------------------------------------------------------------------


def period_bounds(since: date, until: date) -> tuple[datetime, datetime]:
    """[since 00:00 UTC, the day after until 00:00 UTC)."""
    if until < since:
        raise ReportError(f"the period ends ({until}) before it starts ({since})")
    start = datetime.combine(since, time(), UTC)
    return start, datetime.combine(until + timedelta(days=1), time(), UTC)


def build_report(
    messages: Sequence[SentMessage],
    replies: Iterable[Reply],
    hand_offs: Iterable[HandOff],
    *,
    since: date,
    until: date,
    by: Sequence[str] = DEFAULT_BY,
    deal_size: float,
) -> Report:
    """The report on messages sent from `since` to `until` (both included).

    `messages` may include earlier sends too: they let a late reply find the message it answers
    instead of being credited to a message of the period.
    """
    by = check_dimensions(by)
    start, end = period_bounds(since, until)
    outcomes = message_outcomes(messages, replies, hand_offs, end)
    cohort = [m for m in messages if start <= m.sent_at < end]
    rows: dict[tuple[str, ...], Funnel] = defaultdict(Funnel)
    weeks: dict[str, Funnel] = defaultdict(Funnel)
    total = Funnel()
    for message in cohort:
        outcome = outcomes.get(message.id, _SENT_ONLY)
        rows[tuple(message.dimension(d) for d in by)].add(outcome)
        weeks[iso_week(message.sent_at)].add(outcome)
        total.add(outcome)
    # Days before the first send bring no leads: a three-week run is not a month of data.
    first_send = min((m.sent_at.date() for m in messages), default=since)
    active_since = max(since, first_send) if first_send <= until else since
    period_days = (until - active_since).days + 1
    step_numbers: dict[str, int] = {}
    for message in cohort:
        step_numbers[message.step] = min(
            step_numbers.get(message.step, message.step_number), message.step_number
        )

    def order(row: tuple[tuple[str, ...], Funnel]) -> list[tuple[int, list[tuple[int, int | str]]]]:
        return [
            (step_numbers.get(value, 0) if dimension == "step" else 0, _natural(value))
            for dimension, value in zip(by, row[0], strict=True)
        ]

    return Report(
        since=since,
        until=until,
        by=by,
        rows=sorted(rows.items(), key=order),
        total=total,
        weekly=sorted(weeks.items()),
        forecast=forecast(total.interest, period_days, deal_size),
    )


_SENT_ONLY = Funnel(sent=1)


def check_dimensions(by: Sequence[str]) -> tuple[str, ...]:
    unknown = [d for d in by if d not in DIMENSIONS]
    if unknown:
        raise ReportError(
            f"unknown report dimension {', '.join(unknown)}: use {', '.join(DIMENSIONS)}"
        )
    return tuple(dict.fromkeys(by))


def message_outcomes(
    messages: Sequence[SentMessage],
    replies: Iterable[Reply],
    hand_offs: Iterable[HandOff],
    end: datetime,
) -> dict[int, Funnel]:
    """For each message that drew anything before `end`: a one-message funnel of 0/1 flags."""
    find = _Attribution(messages)
    labels: dict[int, set[str]] = defaultdict(set)
    complained: set[int] = set()
    answered_by: dict[int, int] = {}  # reply id -> message id
    for reply in replies:
        if reply.received_at >= end:
            continue
        message_id = find(reply.outbound_id, reply.prospect_id, reply.received_at)
        if message_id is not None:
            labels[message_id].add(reply.label)
            answered_by[reply.id] = message_id
            if reply.complaint:
                complained.add(message_id)
    handed: set[int] = set()
    for hand_off in hand_offs:
        if hand_off.at >= end:
            continue
        # Its reply decides: a reply outside the data (or after the period) hands off nothing.
        message_id = answered_by.get(hand_off.inbound_id)
        if message_id is not None:
            handed.add(message_id)
    return {
        message_id: _one_message(
            labels.get(message_id, set()), message_id in handed, message_id in complained
        )
        for message_id in labels.keys() | handed
    }


def _one_message(labels: set[str], handed_off: bool, complaint: bool = False) -> Funnel:
    return Funnel(
        sent=1,
        bounced=int("bounce" in labels),
        replied=int(bool(labels - set(NOT_A_PERSON))),
        referrals=int("referral" in labels),
        interest=int("interest" in labels),
        handed_off=int(handed_off),
        complaints=int(complaint),
    )


class _Attribution:
    """Which sent message a reply belongs to."""

    def __init__(self, messages: Sequence[SentMessage]) -> None:
        self._ids = {m.id for m in messages}
        self._by_prospect: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
        for message in messages:
            self._by_prospect[message.prospect_id].append((message.sent_at, message.id))
        for sends in self._by_prospect.values():
            sends.sort()

    def __call__(
        self, outbound_id: int | None, prospect_id: int | None, at: datetime
    ) -> int | None:
        if outbound_id is not None:
            # A reply that names its message never moves to another one, even if that one is
            # outside the report's data.
            return outbound_id if outbound_id in self._ids else None
        sends = self._by_prospect.get(prospect_id or -1, [])
        position = bisect.bisect_right(sends, (at, float("inf")))
        return sends[position - 1][1] if position else None


def forecast(qualified_leads: int, period_days: int, deal_size: float) -> Forecast:
    per_month = qualified_leads * DAYS_PER_MONTH / period_days
    return Forecast(
        period_days=period_days,
        qualified_leads=qualified_leads,
        leads_per_month=per_month,
        deal_size=deal_size,
        pipeline_per_month=per_month * deal_size,
    )


def iso_week(instant: datetime) -> str:
    year, week, _ = instant.isocalendar()
    return f"{year}-W{week:02d}"


def _natural(text: str) -> list[tuple[int, int | str]]:
    # "step10" after "step2"
    return [(0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", text) if p]


# --- output -------------------------------------------------------------------------------------

FUNNEL_COLUMNS = (
    "sent",
    "bounced",
    "bounced %",
    "replied",
    "replied %",
    "vs play 9%",
    "referrals",
    "interest",
    "handed off",
    "complaints",
)
WEEK_COLUMNS = ("week", "sent", "replied", "replied %", "interest")


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def _versus_play(rate: float | None) -> str:
    return "-" if rate is None else f"{(rate - PLAY_REPLY_RATE) * 100:+.1f} pts"


def _funnel_cells(funnel: Funnel) -> list[str]:
    return [
        str(funnel.sent),
        str(funnel.bounced),
        _percent(funnel.bounced_rate),
        str(funnel.replied),
        _percent(funnel.replied_rate),
        _versus_play(funnel.replied_rate),
        str(funnel.referrals),
        str(funnel.interest),
        str(funnel.handed_off),
        str(funnel.complaints),
    ]


def _funnel_table(report: Report) -> list[list[str]]:
    header = [*report.by, *FUNNEL_COLUMNS]
    body = [[*key, *_funnel_cells(funnel)] for key, funnel in report.rows]
    blanks = [""] * max(len(report.by) - 1, 0)
    total = ["TOTAL", *blanks, *_funnel_cells(report.total)] if report.by else None
    return [header, *body, *([total] if total else [])]


def _weekly_table(report: Report) -> list[list[str]]:
    return [
        list(WEEK_COLUMNS),
        *(
            [week, str(f.sent), str(f.replied), _percent(f.replied_rate), str(f.interest)]
            for week, f in report.weekly
        ),
    ]


def _forecast_lines(report: Report, *, grouped: bool = True) -> list[tuple[str, str]]:
    f = report.forecast
    money = "{:,.0f}" if grouped else "{:.0f}"
    return [
        ("qualified leads in period", str(f.qualified_leads)),
        ("period days", str(f.period_days)),
        ("qualified leads per month", f"{f.leads_per_month:.1f}"),
        ("average deal size", money.format(f.deal_size)),
        ("new pipeline per month", money.format(f.pipeline_per_month)),
    ]


def _aligned(table: list[list[str]], text_columns: int) -> list[str]:
    """The first `text_columns` columns to the left, the numbers (and their headers) right."""
    columns = range(len(table[0]))
    widths = [max(len(row[i]) for row in table) for i in columns]
    return [
        "  ".join(
            row[i].ljust(widths[i]) if i < text_columns else row[i].rjust(widths[i])
            for i in columns
        ).rstrip()
        for row in table
    ]


def render_table(report: Report) -> str:
    lines = [f"Funnel of messages sent {report.since} to {report.until} (UTC)", ""]
    lines += _aligned(_funnel_table(report), len(report.by))
    lines += ["", "Weekly trend (ISO weeks of sending)", ""]
    lines += _aligned(_weekly_table(report), 1)
    lines += ["", "Forecast (qualified leads x average deal size)", ""]
    lines += _aligned([[name, value] for name, value in _forecast_lines(report)], 1)
    return "\n".join(lines)


def render_csv(report: Report) -> str:
    """Three tables, each with its own header, separated by an empty line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(_funnel_table(report))
    writer.writerow([])
    writer.writerows(_weekly_table(report))
    writer.writerow([])
    writer.writerow(["forecast", "value"])
    writer.writerows(_forecast_lines(report, grouped=False))
    return out.getvalue()


def render_json(report: Report) -> str:
    document = {
        "since": report.since.isoformat(),
        "until": report.until.isoformat(),
        "by": list(report.by),
        "play_reply_rate": PLAY_REPLY_RATE,
        "rows": [
            {**dict(zip(report.by, key, strict=True)), **funnel.to_dict()}
            for key, funnel in report.rows
        ],
        "total": report.total.to_dict(),
        "weekly": [{"week": week, **funnel.to_dict()} for week, funnel in report.weekly],
        "forecast": asdict(report.forecast),
    }
    return json.dumps(document, indent=2)


RENDERERS = {"table": render_table, "csv": render_csv, "json": render_json}


# --- the queries --------------------------------------------------------------------------------


def load_report(
    session: Session,
    *,
    since: date,
    until: date,
    by: Sequence[str] = DEFAULT_BY,
    deal_size: float,
) -> Report:
    _, end = period_bounds(since, until)
    return build_report(
        sent_messages(session, end),
        replies(session, end),
        hand_offs(session, end),
        since=since,
        until=until,
        by=by,
        deal_size=deal_size,
    )


def last_send_day(session: Session) -> date | None:
    """The day (UTC) of the latest send: after today when a run simulated time (the demo)."""
    latest = session.exec(select(sa.func.max(OutboundMessage.sent_at))).one()
    return latest.date() if latest is not None else None


def sent_messages(session: Session, end: datetime) -> list[SentMessage]:
    """Every message sent before `end` (earlier ones too: late replies need them)."""
    query = (
        select(OutboundMessage, Enrollment)
        .join(Enrollment, col(Enrollment.id) == col(OutboundMessage.enrollment_id))
        .where(OutboundMessage.status == OutboundStatus.SENT)
        .where(col(OutboundMessage.sent_at) < end)
    )
    rows = session.exec(query).all()
    pinned = _pinned(session, {(e.cadence, e.cadence_version) for _, e in rows})
    return [
        SentMessage(
            id=_id(message.id),
            prospect_id=message.prospect_id,
            sent_at=message.sent_at or end,
            cadence=enrollment.cadence,
            step=message.step_id,
            variant=message.variant or NO_VARIANT,
            segment=pinned[(enrollment.cadence, enrollment.cadence_version)].segment,
            mailbox=message.mailbox,
            step_number=pinned[(enrollment.cadence, enrollment.cadence_version)].step_number(
                message.step_id
            ),
        )
        for message, enrollment in rows
    ]


def replies(session: Session, end: datetime) -> list[Reply]:
    query = (
        select(InboundMessage)
        .where(col(InboundMessage.label).is_not(None))
        .where(col(InboundMessage.received_at) < end)
    )
    return [
        Reply(
            id=_id(inbound.id),
            prospect_id=inbound.prospect_id,
            outbound_id=inbound.outbound_id,
            label=str(inbound.label),
            received_at=inbound.received_at or end,
            complaint=bool(inbound.classification.get("complaint")),
        )
        for inbound in session.exec(query).all()
    ]


def hand_offs(session: Session, end: datetime) -> list[HandOff]:
    """Hand-off emails recorded for a reply and not undone, whether delivered yet or not."""
    query = (
        select(Event.inbound_id, Event.at)
        .where(Event.kind == EventKind.HANDOFF_EMAIL)
        .where(col(Event.undone_at).is_(None))
        .where(col(Event.inbound_id).is_not(None))
        .where(col(Event.at) < end)
    )
    return [
        HandOff(inbound_id, at or end)
        for inbound_id, at in session.exec(query).all()
        if inbound_id is not None
    ]


@dataclass(frozen=True)
class _Pinned:
    """What the report needs of a pinned cadence version."""

    segment: str  # its audience segment, else the cadence's name
    steps: tuple[str, ...]

    def step_number(self, step: str) -> int:
        return self.steps.index(step) if step in self.steps else len(self.steps)


def _pinned(session: Session, versions: set[tuple[str, str]]) -> dict[tuple[str, str], _Pinned]:
    found = {key: _Pinned(key[0], ()) for key in versions}
    if not versions:
        return found
    names = sorted({name for name, _ in versions})
    pinned = session.exec(select(CadenceVersion).where(col(CadenceVersion.name).in_(names))).all()
    for row in pinned:
        key = (row.name, row.version)
        if key in found:
            document = _document(row.definition)
            found[key] = _Pinned(_audience_segment(document) or row.name, _step_ids(document))
    return found


def _document(definition: dict[str, Any]) -> dict[str, Any]:
    try:
        document = YAML(typ="safe").load(definition.get("yaml") or "")
    except YAMLError:
        return {}
    return document if isinstance(document, dict) else {}


def _audience_segment(document: dict[str, Any]) -> str | None:
    audience = document.get("audience")
    segment = audience.get("segment") if isinstance(audience, dict) else None
    return segment if isinstance(segment, str) else None


def _step_ids(document: dict[str, Any]) -> tuple[str, ...]:
    steps = document.get("steps")
    if not isinstance(steps, list):
        return ()
    return tuple(str(s["id"]) for s in steps if isinstance(s, dict) and "id" in s)


def _id(value: int | None) -> int:
    if value is None:
        raise ReportError("a stored row has no id")
    return value
