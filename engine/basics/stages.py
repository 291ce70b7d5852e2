"""Stages, grades and buyer roles of an account: the pure rules.

**Stages** say how far the sale has gone, each with the win rate the weighted pipeline multiplies
a deal by: opportunity 0 %, target identified 10 %, demo and support 30 %, key people engaged
50 %, negotiation 70 %, won 90 %, paid 100 %; lost is out of the pipeline. A team may set its own
rates (`pipeline.win_rates`).

**Grades** say how far the sale has gone with the three key people of a B2B decision, the
economic, user and technical buyers (EB, UB, TB): D, first contact with one of them; C, one of
them engaged, needs confirmed and budget known; B, two of them, budget and process clear, no
quote yet; A, all three, objections handled, quote agreed, decision within a week.

A person sets the grade; `suggested_grade` offers one from what Spear can see (the roles engaged
and the stage), shown beside it so the two can be compared.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from engine.store.models import AccountGrade, AccountStage, BuyerRole

# The open stages in the order a sale moves through them; won and paid close it, lost leaves it.
STAGE_ORDER: tuple[AccountStage, ...] = (
    AccountStage.OPPORTUNITY,
    AccountStage.TARGET_IDENTIFIED,
    AccountStage.DEMO,
    AccountStage.KEY_PEOPLE,
    AccountStage.NEGOTIATION,
    AccountStage.WON,
    AccountStage.PAID,
)

DEFAULT_WIN_RATES: dict[AccountStage, float] = {
    AccountStage.OPPORTUNITY: 0.0,
    AccountStage.TARGET_IDENTIFIED: 0.10,
    AccountStage.DEMO: 0.30,
    AccountStage.KEY_PEOPLE: 0.50,
    AccountStage.NEGOTIATION: 0.70,
    AccountStage.WON: 0.90,
    AccountStage.PAID: 1.0,
    AccountStage.LOST: 0.0,
}

STAGE_NAMES: dict[AccountStage, str] = {
    AccountStage.OPPORTUNITY: "opportunity",
    AccountStage.TARGET_IDENTIFIED: "target identified",
    AccountStage.DEMO: "demo and support",
    AccountStage.KEY_PEOPLE: "key people engaged",
    AccountStage.NEGOTIATION: "negotiation",
    AccountStage.WON: "won",
    AccountStage.PAID: "paid",
    AccountStage.LOST: "lost",
}

# The stage a hand-off (interest, or a call that found a need) puts an account in, at least.
HANDED_OFF_STAGE = AccountStage.TARGET_IDENTIFIED


def win_rates(overrides: Mapping[AccountStage, float]) -> dict[AccountStage, float]:
    return {**DEFAULT_WIN_RATES, **overrides}


def rank(stage: AccountStage) -> int:
    """A stage's place in the sale; lost ranks below the first stage (a new lead reopens it)."""
    return STAGE_ORDER.index(stage) if stage in STAGE_ORDER else -1


def at_least(current: AccountStage, floor: AccountStage) -> AccountStage:
    """`floor` when the account is not that far yet, else where it is."""
    return floor if rank(current) < rank(floor) else current


def parse_stage(text: str) -> AccountStage:
    """A stage from its code or its name, in any case: `demo`, `Demo and support`, `key-people`."""
    wanted = "-".join(text.strip().lower().replace("_", " ").split())
    for stage in AccountStage:
        if wanted in (stage.value, "-".join(STAGE_NAMES[stage].split())):
            return stage
    known = ", ".join(s.value for s in AccountStage)
    raise ValueError(f"unknown stage {text!r}: one of {known}")


def suggested_grade(
    contacted: Collection[BuyerRole], engaged: Collection[BuyerRole], stage: AccountStage
) -> AccountGrade | None:
    """The grade the roles and the stage point to; None before any key person was reached.

    `contacted`: roles of the people at the account Spear has written to or called; `engaged`:
    roles of those who answered as a person (a reply, a call that got somewhere). The stage
    stands in for what Spear cannot see (needs, budget, process, the quote): a grade needs both
    the people and a stage that far along.
    """
    people = len(set(engaged))
    if stage is AccountStage.LOST:
        return None
    if people >= 3 and rank(stage) >= rank(AccountStage.NEGOTIATION):
        return AccountGrade.A
    if people >= 2 and rank(stage) >= rank(AccountStage.DEMO):
        return AccountGrade.B
    if people >= 1 and rank(stage) >= rank(AccountStage.TARGET_IDENTIFIED):
        return AccountGrade.C
    if people or contacted:
        return AccountGrade.D
    return None
