"""The weighted pipeline and speed to lead, for `spear report`.

**Weighted pipeline** (a snapshot of now): every account in the sale, i.e. past the opportunity
stage or engaged or handed off, counted by stage, by grade and by owner, with its deal size (the
account's own, else `pipeline.deal_sizes` for its grade, else `deal_size`) and the deal size
times its stage's win rate (`pipeline.win_rates`): the weighted value, the forecast that matters.
Lost accounts are listed with a 0 % rate.

**Speed to lead** (hand-offs in the report's period): the time from the interest (the reply's
arrival, or the call that found it) to the account executive's first action on the account after
it: a stage, a grade or an acknowledgement (`engine.prospects.sales.FIRST_ACTIONS`), against
`pipeline.speed_to_lead_hours`. A lead not yet acted on is waiting, and overdue past the target.

The arithmetic is pure (`build_pipeline`, `speed_to_lead` over plain values); the queries that
feed them and the renderers follow.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from engine.basics.stages import STAGE_ORDER
from engine.config import Config
from engine.prospects.sales import FIRST_ACTIONS
from engine.service.report import _aligned
from engine.store.events import EventKind
from engine.store.models import Account, AccountStage, AccountStatus, Event
from engine.store.payloads import HandedOff, read

UNGRADED = "-"
UNASSIGNED = "unassigned"
IN_PLAY = frozenset({AccountStatus.ENGAGED, AccountStatus.HANDED_OFF})


@dataclass(frozen=True)
class Deal:
    domain: str
    stage: AccountStage
    grade: str  # A-D, or UNGRADED
    owner: str
    size: float


@dataclass(frozen=True)
class PipelineRow:
    key: str  # the stage, grade or owner
    count: int
    deal_size: float  # the sizes added up
    win_rate: float | None  # per stage only
    weighted: float


@dataclass(frozen=True)
class Pipeline:
    by_stage: list[PipelineRow]
    by_grade: list[PipelineRow]
    by_owner: list[PipelineRow]
    total: PipelineRow


@dataclass(frozen=True)
class LeadWait:
    domain: str
    owner: str
    interest_at: datetime
    first_action_at: datetime | None


@dataclass(frozen=True)
class SpeedToLead:
    target_hours: float
    leads: int
    acted_on: int
    within_target: int
    waiting: int
    overdue: int  # waiting past the target
    median_hours: float | None

    @property
    def within_target_rate(self) -> float | None:
        return self.within_target / self.leads if self.leads else None


# --- the arithmetic ------------------------------------------------------------------------------


def build_pipeline(deals: Iterable[Deal], win_rates: Mapping[AccountStage, float]) -> Pipeline:
    deals = list(deals)
    stages = [*STAGE_ORDER, AccountStage.LOST]
    by_stage = [
        _row(stage.value, [d for d in deals if d.stage is stage], win_rates, win_rates[stage])
        for stage in stages
    ]
    grades = sorted({d.grade for d in deals}, key=lambda g: (g == UNGRADED, g))
    owners = sorted({d.owner for d in deals}, key=lambda o: (o == UNASSIGNED, o))
    return Pipeline(
        by_stage=by_stage,
        by_grade=[_row(g, [d for d in deals if d.grade == g], win_rates) for g in grades],
        by_owner=[_row(o, [d for d in deals if d.owner == o], win_rates) for o in owners],
        total=_row("TOTAL", deals, win_rates),
    )


def _row(
    key: str,
    deals: Sequence[Deal],
    win_rates: Mapping[AccountStage, float],
    win_rate: float | None = None,
) -> PipelineRow:
    return PipelineRow(
        key=key,
        count=len(deals),
        deal_size=sum(d.size for d in deals),
        win_rate=win_rate,
        weighted=sum(d.size * win_rates[d.stage] for d in deals),
    )


def speed_to_lead(waits: Iterable[LeadWait], target_hours: float, now: datetime) -> SpeedToLead:
    waits = list(waits)
    target = timedelta(hours=target_hours)
    acted = [w.first_action_at - w.interest_at for w in waits if w.first_action_at is not None]
    waiting = [w for w in waits if w.first_action_at is None]
    return SpeedToLead(
        target_hours=target_hours,
        leads=len(waits),
        acted_on=len(acted),
        within_target=sum(1 for delay in acted if delay <= target),
        waiting=len(waiting),
        overdue=sum(1 for w in waiting if now - w.interest_at > target),
        median_hours=statistics.median(d.total_seconds() / 3600 for d in acted) if acted else None,
    )


# --- the queries ---------------------------------------------------------------------------------


def deals(session: Session, config: Config) -> list[Deal]:
    """The accounts in the sale, with their deal sizes."""
    accounts = session.exec(
        select(Account).where(
            (col(Account.stage) != AccountStage.OPPORTUNITY) | col(Account.status).in_(IN_PLAY)
        )
    ).all()
    return [
        Deal(
            domain=a.domain,
            stage=a.stage,
            grade=a.grade.value if a.grade else UNGRADED,
            owner=a.owner or UNASSIGNED,
            size=a.deal_size if a.deal_size is not None else config.deal_size_for(a.grade),
        )
        for a in accounts
    ]


def lead_waits(session: Session, start: datetime, end: datetime) -> list[LeadWait]:
    """Each hand-off in [start, end) not undone, with the first action on its account after it."""
    handed = session.exec(
        select(Event)
        .where(Event.kind == EventKind.ACCOUNT_HANDED_OFF, col(Event.undone_at).is_(None))
        .where(col(Event.at) >= start, col(Event.at) < end)
        .order_by(col(Event.at))
    ).all()
    # Only an action at or after a hand-off in the period counts: none before `start` can.
    actions = session.exec(
        select(Event)
        .where(col(Event.kind).in_(FIRST_ACTIONS), col(Event.undone_at).is_(None))
        .where(col(Event.at) >= start)
        .order_by(col(Event.at))
    ).all()
    domains = dict(session.exec(select(Account.id, Account.domain)).all())
    waits = []
    for event in handed:
        handed_off = read(event, HandedOff)
        account_id = handed_off.get("account_id")
        if account_id is None or event.at is None:
            continue
        at = event.at
        interest = handed_off.get("interest_at")
        first = next(
            (
                a.at
                for a in actions
                if a.at is not None and a.data.get("account_id") == account_id and a.at >= at
            ),
            None,
        )
        waits.append(
            LeadWait(
                domain=domains.get(account_id, str(account_id)),
                owner=handed_off.get("owner") or UNASSIGNED,
                interest_at=datetime.fromisoformat(interest) if interest else at,
                first_action_at=first,
            )
        )
    return waits


# --- rendering -----------------------------------------------------------------------------------

COLUMNS = ("count", "deal size", "win rate", "weighted")


def _cells(row: PipelineRow, *, grouped: bool) -> list[str]:
    money = "{:,.0f}" if grouped else "{:.0f}"
    rate = "" if row.win_rate is None else f"{row.win_rate * 100:.0f}%"
    return [str(row.count), money.format(row.deal_size), rate, money.format(row.weighted)]


def pipeline_tables(pipeline: Pipeline, *, grouped: bool = True) -> list[list[list[str]]]:
    """The three tables (by stage, grade, owner), each with its header and a total row."""
    tables = []
    for name, rows in (
        ("stage", pipeline.by_stage),
        ("grade", pipeline.by_grade),
        ("owner", pipeline.by_owner),
    ):
        body = [[r.key, *_cells(r, grouped=grouped)] for r in rows]
        tables.append(
            [[name, *COLUMNS], *body, ["TOTAL", *_cells(pipeline.total, grouped=grouped)]]
        )
    return tables


def speed_lines(speed: SpeedToLead) -> list[tuple[str, str]]:
    rate = speed.within_target_rate
    median = "-" if speed.median_hours is None else f"{speed.median_hours:.1f}"
    return [
        ("target hours", f"{speed.target_hours:g}"),
        ("leads handed off", str(speed.leads)),
        ("acted on", str(speed.acted_on)),
        ("median hours to first action", median),
        ("within target", str(speed.within_target)),
        ("within target %", "-" if rate is None else f"{rate * 100:.0f}%"),
        ("waiting", str(speed.waiting)),
        ("overdue", str(speed.overdue)),
    ]


def render_table(pipeline: Pipeline, speed: SpeedToLead) -> str:
    lines = ["Weighted pipeline (deal size x the stage's win rate), now"]
    for table in pipeline_tables(pipeline):
        lines += ["", *_aligned(table, 1)]
    lines += [
        "",
        "Speed to lead (interest to the executive's first action), hand-offs in period",
        "",
    ]
    lines += _aligned([[name, value] for name, value in speed_lines(speed)], 1)
    return "\n".join(lines)


def render_csv(pipeline: Pipeline, speed: SpeedToLead) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for table in pipeline_tables(pipeline, grouped=False):
        writer.writerows(table)
        writer.writerow([])
    writer.writerow(["speed to lead", "value"])
    writer.writerows(speed_lines(speed))
    return out.getvalue()


def to_dict(pipeline: Pipeline, speed: SpeedToLead) -> dict[str, Any]:
    return {
        "pipeline": {
            "by_stage": [asdict(r) for r in pipeline.by_stage],
            "by_grade": [asdict(r) for r in pipeline.by_grade],
            "by_owner": [asdict(r) for r in pipeline.by_owner],
            "total": asdict(pipeline.total),
        },
        "speed_to_lead": {**asdict(speed), "within_target_rate": speed.within_target_rate},
    }
