"""The schema of a segment: a named filter over prospect and account fields.

Declared in YAML (in `spear.yaml` under `segments:`, or inline as a cadence's audience), so the
config and the cadences read it; `engine.prospects.segments.matches` applies it to a prospect.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from engine.store.models import AccountGrade, AccountStage


class Range(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min: Annotated[float, Field(ge=0)] | None = None
    max: Annotated[float, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not be greater than max")
        return self

    def contains(self, value: float | None) -> bool:
        if value is None:
            return False
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


class SegmentFilter(BaseModel):
    """Every given condition must hold; list conditions match any of their values (case-blind)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    industry: list[str] = Field(default_factory=list)
    employees: Range | None = None
    revenue: Range | None = None
    country: list[str] = Field(default_factory=list)
    region: list[str] = Field(default_factory=list)
    business_model: list[str] = Field(default_factory=list)
    seniority: list[str] = Field(default_factory=list)
    title: str | None = None  # a regular expression, searched case-blind
    last_interaction_before: date | None = None
    last_interaction_after: date | None = None
    stage: list[AccountStage] = Field(default_factory=list)
    grade: list[AccountGrade] = Field(default_factory=list)

    @field_validator("grade", mode="before")
    @classmethod
    def _grade_letters(cls, value: object) -> object:
        # `grade: [a, b]` or `grade: A`: letters in either case.
        items = value if isinstance(value, list) else [value]
        return [v.strip().upper() if isinstance(v, str) else v for v in items]

    @field_validator("stage", mode="before")
    @classmethod
    def _stage_list(cls, value: object) -> object:
        return value if isinstance(value, list) else [value]

    @field_validator("title")
    @classmethod
    def _valid_pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"title is not a valid regular expression: {exc}") from None
        return value
