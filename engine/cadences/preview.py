"""What a cadence would send to one prospect, and when, if nobody replied.

Each step becomes due its wait after the previous send (the first one after the start) and goes
out in the next open send window, so the dates here are the ones the planner would choose before
caps and jitter spread the sends out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from engine.basics.windows import due_after, next_slot
from engine.cadences.model import PROSPECT_TIMEZONE, Cadence, Step
from engine.cadences.templates import RenderedEmail, TemplateContext, render_step


@dataclass(frozen=True)
class PlannedEmail:
    step: Step
    email: RenderedEmail
    subject: str  # as the recipient sees it: a reply in the thread gets "Re:"; a task says so
    send_at: datetime  # UTC
    local_time: datetime  # the same instant in the recipient's zone


def cadence_timezone(cadence: Cadence, prospect_zone: str | None, default_zone: str) -> ZoneInfo:
    """The zone the windows are read in: the cadence's fixed zone, else the prospect's."""
    if cadence.schedule.timezone_source != PROSPECT_TIMEZONE:
        return ZoneInfo(cadence.schedule.timezone_source)
    return ZoneInfo(prospect_zone or default_zone)


def plan_preview(
    cadence: Cadence,
    context: TemplateContext,
    tz: ZoneInfo,
    start: datetime,
    *,
    variant_seed: int = 0,
) -> list[PlannedEmail]:
    """Every step rendered for `context`, with its send time counted from `start`."""
    rules = cadence.schedule.rules
    planned: list[PlannedEmail] = []
    previous = start
    thread_subject = ""
    for step in cadence.steps:
        send_at = next_slot(due_after(previous, step.wait, tz, rules), tz, rules)
        email = render_step(cadence, step, context, variant_seed=variant_seed)
        if step.is_task:
            subject = f"({step.type} for the rep: instructions below)"
        elif email.subject is not None:
            thread_subject = subject = email.subject
        else:
            subject = f"Re: {thread_subject}"
        planned.append(PlannedEmail(step, email, subject, send_at, send_at.astimezone(tz)))
        previous = send_at
    return planned
