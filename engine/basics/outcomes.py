"""The outcomes a telesales team logs after each call, and what each makes the cadence do.

Nine codes, as every team writes them down: N/A (no answer, phone off, busy), W/N (stopped or wrong
number), B/L (hostile), Cut (hung up), R/J (no need, before discovery), No Need (declined after
discovery), call back later, D potential (need found, product presented, follow-up agreed) and
C target (meeting booked). The codes are stable values the database keeps; the short names are
what people type and read, and a team may rename them in `spear.yaml` (`tasks.outcome_names`).

What an outcome does next is a cadence's choice (`on_outcome`, like `on_reply`), with the play's
defaults below. Pure: nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Outcome(StrEnum):
    NO_ANSWER = "no-answer"
    WRONG_NUMBER = "wrong-number"
    HOSTILE = "hostile"
    HUNG_UP = "hung-up"
    REJECTED = "rejected"  # not needed, before discovery
    NO_NEED = "no-need"  # declined after discovery
    CALL_BACK = "call-back"
    POTENTIAL = "potential"
    TARGET = "target"


SHORT_NAMES: dict[Outcome, str] = {
    Outcome.NO_ANSWER: "N/A",
    Outcome.WRONG_NUMBER: "W/N",
    Outcome.HOSTILE: "B/L",
    Outcome.HUNG_UP: "Cut",
    Outcome.REJECTED: "R/J",
    Outcome.NO_NEED: "No Need",
    Outcome.CALL_BACK: "call back later",
    Outcome.POTENTIAL: "D potential",
    Outcome.TARGET: "C target",
}


class OutcomeAction(StrEnum):
    CONTINUE = "continue"  # the next step, after its wait
    STOP = "stop"  # the enrollment ends
    SUPPRESS = "suppress"  # ends, and the address is never written to again
    NOT_NOW = "not-now"  # the next step waits until the resume date
    HAND_OFF = "hand-off"  # ends; the account goes to an account executive
    INVALID_PHONE = "invalid-phone"  # the phone is marked invalid; the next step, after its wait


DEFAULT_ON_OUTCOME: dict[Outcome, OutcomeAction] = {
    Outcome.NO_ANSWER: OutcomeAction.CONTINUE,
    Outcome.WRONG_NUMBER: OutcomeAction.INVALID_PHONE,
    Outcome.HOSTILE: OutcomeAction.SUPPRESS,
    Outcome.HUNG_UP: OutcomeAction.CONTINUE,
    Outcome.REJECTED: OutcomeAction.STOP,
    Outcome.NO_NEED: OutcomeAction.STOP,
    Outcome.CALL_BACK: OutcomeAction.NOT_NOW,
    Outcome.POTENTIAL: OutcomeAction.HAND_OFF,
    Outcome.TARGET: OutcomeAction.HAND_OFF,
}

# Outcomes that mean the person engaged: they count toward the account's suggested grade.
ENGAGED_OUTCOMES = frozenset({Outcome.CALL_BACK, Outcome.POTENTIAL, Outcome.TARGET})


def outcome_names(renamed: Mapping[Outcome, str]) -> dict[Outcome, str]:
    """The short name of every outcome, with the team's renames over the defaults."""
    return {**SHORT_NAMES, **renamed}


def parse_outcome(text: str, renamed: Mapping[Outcome, str]) -> Outcome:
    """The outcome `text` names: its code, its short name or the team's name, in any case."""
    wanted = " ".join(text.split()).casefold()
    names = outcome_names(renamed)
    for outcome in Outcome:
        spellings = {outcome.value, SHORT_NAMES[outcome], names[outcome]}
        if wanted in {s.casefold() for s in spellings}:
            return outcome
    known = ", ".join(f"{names[o]} ({o.value})" for o in Outcome)
    raise ValueError(f"unknown outcome {text!r}: one of {known}")


def parse_outcome_key(raw: object) -> Outcome:
    """A key of `on_outcome` or `outcome_names`: a code or its default short name."""
    if isinstance(raw, Outcome):
        return raw
    if not isinstance(raw, str):
        raise ValueError(f"an outcome is a code such as 'no-answer' or 'N/A', not {raw!r}")
    return parse_outcome(raw, {})
