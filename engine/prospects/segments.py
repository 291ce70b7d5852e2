"""Segments: named filters over prospect and account fields.

A segment is declared in YAML (in `spear.yaml` under `segments:`, or inline as a cadence's
audience); its schema is `engine.basics.segments.SegmentFilter`. `matches` applies it to one
prospect and its account, so the same rule serves `spear segment show`, enrolment and tests.

Where each condition looks: industry, employees, revenue, business model, stage and grade are the
account's;
country and region are the prospect's own, else its account's (countries compare as ISO codes, so
`US`, `USA` and `United States` are one); seniority and title are the prospect's. A prospect with no
value for a condition does not match it, except `last_interaction_before`: someone never contacted
counts as last contacted long ago.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from sqlmodel import Session, select

from engine.basics.segments import SegmentFilter
from engine.errors import NotFoundError
from engine.prospects.timezones import country_code
from engine.store.models import Account, Prospect


def find_segment(segments: dict[str, SegmentFilter], name: str) -> SegmentFilter:
    try:
        return segments[name]
    except KeyError:
        known = ", ".join(sorted(segments)) or "none defined in the config"
        raise NotFoundError(f"no segment named {name!r} (known: {known})") from None


def matches(segment: SegmentFilter, prospect: Prospect, account: Account | None) -> bool:
    """Whether `prospect` (at `account`) meets every condition of `segment`."""
    country = prospect.country or (account.country if account else None)
    region = prospect.region or (account.region if account else None)
    last = prospect.last_interaction
    return (
        _any_of(segment.industry, account.industry if account else None)
        and (segment.employees is None or segment.employees.contains(_employees(account)))
        and (segment.revenue is None or segment.revenue.contains(_revenue(account)))
        and _same_country(segment.country, country)
        and _any_of(segment.region, region)
        and _any_of(segment.business_model, account.business_model if account else None)
        and _any_of(segment.seniority, prospect.seniority)
        and (
            segment.title is None
            or (prospect.title is not None and re.search(segment.title, prospect.title, re.I))
            is not None
        )
        and (
            segment.last_interaction_before is None
            or last is None
            or last < segment.last_interaction_before
        )
        and (
            segment.last_interaction_after is None
            or (last is not None and last > segment.last_interaction_after)
        )
        and (not segment.stage or (account is not None and account.stage in segment.stage))
        and (not segment.grade or (account is not None and account.grade in segment.grade))
    )


def segment_members(session: Session, segment: SegmentFilter) -> Iterator[Prospect]:
    """The prospects in `segment`, in import order, read in batches."""
    query = (
        select(Prospect, Account)
        .join(Account, Prospect.account_id == Account.id, isouter=True)  # type: ignore[arg-type]
        .order_by(Prospect.id)  # type: ignore[arg-type]
        .execution_options(yield_per=1000)
    )
    for prospect, account in session.exec(query):
        if matches(segment, prospect, account):
            yield prospect


def _any_of(wanted: list[str], value: str | None) -> bool:
    if not wanted:
        return True
    return value is not None and value.strip().lower() in {w.strip().lower() for w in wanted}


def _same_country(wanted: list[str], value: str | None) -> bool:
    if not wanted:
        return True
    if value is None:
        return False
    code = country_code(value) or value.strip().lower()
    return code in {country_code(w) or w.strip().lower() for w in wanted}


def _employees(account: Account | None) -> float | None:
    return None if account is None or account.employees is None else float(account.employees)


def _revenue(account: Account | None) -> float | None:
    return None if account is None else account.revenue
