"""Who takes a lead, and what handing an account off changes: one home for both reply and call.

`hand_off.account_executives` may list several executives. Round robin gives each hand-off to
the next in turn, counted from the hand-offs on record, so the turn survives restarts and is the
same on every daemon; by segment gives it to the first executive whose segments the prospect is
in, and falls back to round robin among all when none is. A single `hand_off.account_executive`
is a list of one.

Handing an account off sets its status to handed-off, its stage to target identified at least,
and its owner to the executive; the event it records (`account.handed-off`, with the account and
when the interest came) is where speed to lead counts from.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlmodel import Session, col, func, select

from engine.basics.segments import SegmentFilter
from engine.basics.stages import HANDED_OFF_STAGE, at_least
from engine.config import AccountExecutive, HandOff, Routing
from engine.prospects.segments import matches
from engine.store.changes import ChangeLog
from engine.store.events import EventKind
from engine.store.models import Account, AccountStatus, Event, Prospect
from engine.store.payloads import HandedOff, HandoffEmail


def choose_executive(
    session: Session,
    hand_off: HandOff,
    segments: Mapping[str, SegmentFilter],
    prospect: Prospect,
    account: Account | None,
) -> AccountExecutive | None:
    """The executive this lead goes to, per `hand_off.routing`; None when none is configured."""
    executives = hand_off.executives
    if not executives:
        return None
    if hand_off.routing is Routing.BY_SEGMENT:
        for executive in executives:
            named = [segments[s] for s in executive.segments if s in segments]
            if any(matches(segment, prospect, account) for segment in named):
                return executive
    turns = session.exec(
        select(func.count())
        .select_from(Event)
        .where(col(Event.kind) == EventKind.ACCOUNT_HANDED_OFF)
    ).one()
    return executives[int(turns) % len(executives)]


def hand_off_account(
    changes: ChangeLog,
    account: Account,
    executive: AccountExecutive | None,
    reason: str,
    now: datetime,
) -> None:
    """The account's status, stage and owner after a hand-off, through `changes` (undoable)."""
    changes.set(account, "status", AccountStatus.HANDED_OFF)
    changes.set(account, "status_reason", reason)
    changes.set(account, "stage", at_least(account.stage, HANDED_OFF_STAGE))
    if executive is not None:
        changes.set(account, "owner", executive.owner)
    changes.set(account, "updated_at", now)


def handed_off_data(
    account: Account | None, executive: AccountExecutive | None, interest_at: datetime
) -> HandedOff:
    """What the `account.handed-off` event keeps for the pipeline and speed to lead."""
    return {
        "account_id": account.id if account else None,
        "owner": executive.owner if executive else None,
        "interest_at": interest_at.isoformat(),
    }


def handoff_email_data(
    prospect: Prospect,
    account: Account | None,
    executive: AccountExecutive,
    mailbox: str | None,
    text: str,
) -> HandoffEmail:
    """A pending `handoff.email` event's data, for `engine.replies.handoff.HandoffSender`."""
    name = " ".join(p for p in (prospect.first_name, prospect.last_name) if p)
    company = account.name or account.domain if account is not None else ""
    where = f" at {company}" if company else ""
    return {
        "status": "pending",
        "to": executive.address,
        "mailbox": mailbox,
        "subject": f"Hand-off: {name or prospect.email}{where} is interested",
        "prospect": {"email": prospect.email, "name": name, "title": prospect.title},
        "reply_text": text,
    }
