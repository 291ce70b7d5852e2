"""Responder scenarios: how the simulated prospects answer captured outreach, from a YAML file.

Every key is optional; this is the whole shape (values shown are the defaults, except where a
comment says "example"):

    seed: 0                    # same seed + same outreach -> same replies, word for word
    reply_rate: 0.09           # share of outreach emails that get any answer (the play: ~9%)
    outcomes:                  # relative weights among those answers
      referral: 30             #   "talk to Jane Park <jane.park@same-domain>"
      interest: 10             #   "sure, let's talk"
      not-now: 15              #   "ask me again next quarter"
      not-interested: 20       #   "no thanks"
      unsubscribe: 5           #   "take me off your list"
      unclear: 0               #   "hmm, maybe. what would it cost?" (for the review queue)
      auto-reply: 20           #   out-of-office with a return date (RFC 3834 headers)
    reply_delay: {min: 20m, max: 2d}   # after the outreach arrived, on the harness clock
    bounce_delay: {min: 5s, max: 2m}
    invalid:                   # these recipients bounce (RFC 3464 report, status 5.1.1)
      addresses: [gone@acme.example]           # example
      local_parts: ["^invalid", "^former\\."]  # example: regular expressions on the local part
      rate: 0.0                                # plus this share of all other recipients
    forced:                    # example: these recipients always answer this way
      dana.lee@acme.example: referral
    reply_to_follow_ups: false # true: a thread already answered may be answered again

Durations are a number of seconds or a number with a unit: `90s`, `20m`, `4h`, `2d`, `1w`.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from engine.errors import InputError
from engine.yamlfile import load_yaml, parse_yaml, validate

DEFAULT_SCENARIO = "default_scenario.yaml"


class ScenarioError(InputError):
    """A responder scenario file is invalid: names the file, line and field."""


class Outcome(StrEnum):
    """What a simulated prospect does with an outreach email (same words as Spear's labels)."""

    REFERRAL = "referral"
    INTEREST = "interest"
    NOT_NOW = "not-now"
    NOT_INTERESTED = "not-interested"
    UNSUBSCRIBE = "unsubscribe"
    UNCLEAR = "unclear"
    AUTO_REPLY = "auto-reply"
    BOUNCE = "bounce"


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


def parse_duration(value: object) -> timedelta:
    """`90`, `90s`, `20m`, `4h`, `2d` or `1w` as a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"not a duration: {value!r} (use e.g. 90s, 20m, 4h, 2d)")
        seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return timedelta(seconds=seconds)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Rate = Annotated[float, Field(ge=0, le=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DelayRange(_Strict):
    min: Duration
    max: Duration

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.max < self.min:
            raise ValueError("max must not be shorter than min")
        return self


class InvalidAddresses(_Strict):
    addresses: list[str] = Field(default_factory=list)
    local_parts: list[str] = Field(default_factory=list)
    rate: Rate = 0.0

    @field_validator("addresses")
    @classmethod
    def _lower(cls, addresses: list[str]) -> list[str]:
        return [address.strip().lower() for address in addresses]

    @field_validator("local_parts")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regular expression {pattern!r}: {exc}") from None
        return patterns

    def listed(self, address: str) -> bool:
        """Whether `address` is marked invalid by name or pattern (the rate is drawn elsewhere)."""
        address = address.lower()
        local_part = address.split("@", 1)[0]
        return address in self.addresses or any(
            re.search(pattern, local_part) for pattern in self.local_parts
        )


def _default_weights() -> dict[Outcome, float]:
    return {
        Outcome.REFERRAL: 30,
        Outcome.INTEREST: 10,
        Outcome.NOT_NOW: 15,
        Outcome.NOT_INTERESTED: 20,
        Outcome.UNSUBSCRIBE: 5,
        Outcome.AUTO_REPLY: 20,
    }


class Scenario(_Strict):
    seed: int = 0
    reply_rate: Rate = 0.09
    outcomes: dict[Outcome, Annotated[float, Field(ge=0)]] = Field(default_factory=_default_weights)
    reply_delay: DelayRange = DelayRange(min=timedelta(minutes=20), max=timedelta(days=2))
    bounce_delay: DelayRange = DelayRange(min=timedelta(seconds=5), max=timedelta(minutes=2))
    invalid: InvalidAddresses = InvalidAddresses()
    forced: dict[str, Outcome] = Field(default_factory=dict)
    reply_to_follow_ups: bool = False

    @field_validator("outcomes")
    @classmethod
    def _replies_only(cls, weights: dict[Outcome, float]) -> dict[Outcome, float]:
        if Outcome.BOUNCE in weights:
            raise ValueError("bounces come from `invalid`, not from reply weights")
        if not any(weight > 0 for weight in weights.values()):
            raise ValueError("at least one outcome needs a positive weight")
        return weights

    @field_validator("forced")
    @classmethod
    def _lower_addresses(cls, forced: dict[str, Outcome]) -> dict[str, Outcome]:
        return {address.strip().lower(): outcome for address, outcome in forced.items()}


def load_scenario(path: Path | str) -> Scenario:
    """Read and validate a scenario file; errors name the file, line and field."""
    path = Path(path)
    return validate(Scenario, load_yaml(path, ScenarioError), path, ScenarioError)


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    return validate(Scenario, parse_yaml(text, source, ScenarioError), source, ScenarioError)


def default_scenario() -> Scenario:
    """The scenario shipped with Spear (`engine/harness/default_scenario.yaml`)."""
    text = files("engine.harness").joinpath(DEFAULT_SCENARIO).read_text(encoding="utf-8")
    return parse_scenario(text, DEFAULT_SCENARIO)


def scenario_from(data: dict[str, Any]) -> Scenario:
    """A scenario from a plain dict, as tests build them."""
    return validate(Scenario, data, "<scenario>", ScenarioError)
