"""Segments: named filters over prospect and account fields.

A segment is declared in YAML (in `spear.yaml` under `segments:`, or inline as a cadence's
audience). This module holds the filter's schema; `matches` applies it to one prospect and its
account, so the same rule serves `spear segment show`, enrolment and tests.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


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

    @field_validator("title")
    @classmethod
    def _valid_pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"title is not a valid regular expression: {exc}") from None
        return value
