"""Routing leads among several account executives: round robin, by segment, and bad config."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from engine.config import config_from_document
from engine.errors import ConfigError
from engine.replies.routing import choose_executive
from engine.store.events import EventKind
from engine.store.models import Account, Event, Prospect

DOCUMENT = {
    "segments": {"emea": {"country": ["DE", "FR"]}, "us": {"country": ["US"]}},
    "hand_off": {
        "routing": "by-segment",
        "account_executives": [
            {"address": "ada@spear.example", "name": "Ada", "segments": ["emea"]},
            {"address": "ben@spear.example", "segments": ["us"]},
            "cy@spear.example",
        ],
    },
}


def test_by_segment_then_round_robin_for_the_rest(db_engine: Engine) -> None:
    config = config_from_document(DOCUMENT, "spear.yaml")
    hand_off = config.hand_off
    german = Prospect(email="a@x.de", country="DE")
    american = Prospect(email="b@x.com", country="US")
    brazilian = Prospect(email="c@x.br", country="BR")
    with Session(db_engine) as db:
        chosen = choose_executive(db, hand_off, config.segments, german, None)
        assert chosen is not None and chosen.owner == "Ada"
        chosen = choose_executive(db, hand_off, config.segments, american, Account(domain="x"))
        assert chosen is not None and chosen.address == "ben@spear.example"
        # No segment fits: the turn goes round all three, counted from the hand-offs on record.
        turns = []
        for _ in range(4):
            chosen = choose_executive(db, hand_off, config.segments, brazilian, None)
            assert chosen is not None
            turns.append(chosen.address)
            db.add(Event(kind=EventKind.ACCOUNT_HANDED_OFF, data={}))
            db.flush()
    assert turns == [
        "ada@spear.example",
        "ben@spear.example",
        "cy@spear.example",
        "ada@spear.example",
    ]


def test_an_executive_naming_an_unknown_segment_is_a_config_error() -> None:
    document = {"hand_off": {"account_executives": [{"address": "a@x", "segments": ["apac"]}]}}
    with pytest.raises(ConfigError, match="segments that are not configured: apac"):
        config_from_document(document, "spear.yaml")
