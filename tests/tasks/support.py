"""A world for task steps: a cadence whose first step is a call, its prospect, and a config."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from engine.cadences.loader import parse_cadence
from engine.cadences.model import Cadence
from engine.clock import FixedClock
from engine.config import Config
from engine.prospects.enrollment import enroll
from engine.sending.planner import Planner
from engine.store.models import Account, Prospect

# A Tuesday, 05:00 in New York: before the morning window opens.
T0 = datetime(2025, 6, 3, 9, 0, tzinfo=UTC)

CADENCE = """
name: call-first
audience: {one_per_account: false}
schedule:
  timezone: prospect
  windows: ["07:00-09:00", "17:00-19:00"]
  weekdays: [tue, wed, thu, sun]
steps:
  - id: call
    type: call
    instructions: call-1
  - id: note
    wait: 2 days
    subject: "{{ account.name }} and forecasting"
    template: note
ON_OUTCOME
"""
TEMPLATES = {
    "call-1": (
        "Call {{ prospect.first_name }} on {{ prospect.phone | fallback('(no number)') }}.\n"
        "Profile: {{ prospect.profile_url | fallback('none') }}\n"
        "Ask who owns the forecast at {{ account.name }}."
    ),
    "note": "Hi {{ prospect.first_name }}, who owns the forecast?\n\n{{ sender.signature }}",
}
EXECUTIVES = ["ada@spear.example", "ben@spear.example"]


def cadence(on_outcome: str = "") -> Cadence:
    text = CADENCE.replace("ON_OUTCOME", on_outcome)
    return parse_cadence(text, "call-first.yaml", TEMPLATES.get)


def config(**overrides: Any) -> Config:
    values: dict[str, Any] = {
        "timezone": "America/New_York",
        "mailboxes": [
            {
                "name": "robin",
                "address": "robin@spear.example",
                "display_name": "Robin Rep",
                "owner": "robin",
                "smtp": {"host": "127.0.0.1", "port": 2525, "tls": "none"},
            }
        ],
        "hand_off": {"account_executives": EXECUTIVES},
    }
    values.update(overrides)
    return Config.model_validate(values)


@dataclass
class World:
    engine: Engine
    clock: FixedClock
    config: Config
    planner: Planner
    enrollment_id: int
    prospect_id: int
    account_id: int


def build(engine: Engine, *, on_outcome: str = "", phone: str | None = "+1 212 555 0100") -> World:
    clock = FixedClock(T0)
    settings = config()
    with Session(engine) as db:
        account = Account(domain="acme.example", name="Acme", country="US")
        db.add(account)
        db.flush()
        person = Prospect(
            email="pat@acme.example",
            first_name="Pat",
            account_id=account.id,
            timezone="America/New_York",
            phone=phone,
            custom={"LinkedIn": "https://www.linkedin.com/in/pat-example"},
        )
        db.add(person)
        db.flush()
        [enrollment] = enroll(db, cadence(on_outcome), [person], now=clock.now())
        db.commit()
        assert enrollment.id and person.id and account.id
        ids = enrollment.id, person.id, account.id
    planner = Planner(engine, settings, clock, random.Random(1))
    return World(engine, clock, settings, planner, *ids)
