"""The demo's account executive: what happens to the leads Spear hands off, so the report's
weighted pipeline and speed to lead have something to show.

For each account handed off (and not undone), the simulated executive takes the lead some hours
after the interest came in and moves the account along: most to demo and support, some further,
a few lost; the deal size and grade vary. Deterministic for a seed. Runs after the daemon, so its
changes are the executive's own (`spear account stage` would record the same events).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from engine.prospects.sales import FIRST_ACTIONS, set_grade, set_stage
from engine.store.db import session_scope
from engine.store.events import EventKind
from engine.store.models import Account, AccountGrade, AccountStage, Event
from engine.store.payloads import HandedOff, read

EXECUTIVE = "demo-executive"
# Where the executive takes a lead, and how likely each is.
NEXT_STAGES = (
    (AccountStage.DEMO, 5),
    (AccountStage.KEY_PEOPLE, 2),
    (AccountStage.NEGOTIATION, 1),
    (AccountStage.LOST, 1),
)
GRADE_AT = {
    AccountStage.DEMO: AccountGrade.C,
    AccountStage.KEY_PEOPLE: AccountGrade.B,
    AccountStage.NEGOTIATION: AccountGrade.A,
}


def work_the_leads(engine: Engine, now: datetime, seed: int) -> int:
    """Act on every handed-off account not acted on yet, as of `now`; returns how many."""
    rng = random.Random(seed)
    acted = 0
    with session_scope(engine) as session:
        handed = session.exec(
            select(Event)
            .where(Event.kind == EventKind.ACCOUNT_HANDED_OFF, col(Event.undone_at).is_(None))
            .order_by(col(Event.id))
        ).all()
        done = {
            e.data.get("account_id")
            for e in session.exec(select(Event).where(col(Event.kind).in_(FIRST_ACTIONS))).all()
        }
        for event in handed:
            account_id = read(event, HandedOff).get("account_id")
            account = session.get(Account, account_id) if account_id is not None else None
            if account is None or account.id in done or event.at is None:
                continue
            # Most leads are taken within the day; some wait over a day.
            when = min(event.at + timedelta(hours=rng.choice([1, 2, 3, 5, 8, 20, 30])), now)
            stage = rng.choices([s for s, _ in NEXT_STAGES], [w for _, w in NEXT_STAGES])[0]
            size = float(rng.choice([20_000, 35_000, 50_000, 80_000]))
            set_stage(session, account, stage, now=when, actor=EXECUTIVE, deal_size=size)
            if stage in GRADE_AT:
                set_grade(session, account, GRADE_AT[stage], now=when, actor=EXECUTIVE)
            done.add(account.id)
            acted += 1
    return acted
