"""The planner: due enrollment steps become outbox rows, rendered and with their Message-ID.

For each active enrollment whose `next_due_at` has come, one transaction renders the step,
chooses (or keeps) the sender mailbox, fits the send time to the recipient's windows and the
mailbox's caps, inserts the outbox row, and advances the enrollment to its next step. The
`(enrollment_id, step_id)` unique key means a step is planned at most once, whoever plans it.

A row also keeps the end of the window it was slotted into (`send_before`): the dispatcher never
sends it at or after that time. A row that missed its window (the daemon was down, the queue was
long, a retry was proposed after the window closed) is moved by `reslot_missed` to the next
allowed slot under the same rules, keeping its Message-ID and its rendered message.

A step is planned only once the previous one was sent: a follow-up must never overtake the
message it follows, and its wait counts from when that message really went.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from engine.basics.windows import due_after, window_end
from engine.cadences.model import PROSPECT_TIMEZONE, Cadence
from engine.cadences.templates import context_for, render_step
from engine.cadences.versions import pinned_cadence
from engine.clock import Clock
from engine.config import Config, MailboxConfig
from engine.errors import SpearError
from engine.prospects.contact_state import load_contact_facts, why_not_mail
from engine.prospects.lifecycle import Direct, stop_enrollment
from engine.prospects.pauses import enrollment_not_active
from engine.prospects.timezones import prospect_timezone
from engine.sending.capacity import Bookings, MailboxLimits, choose_mailbox, send_slot
from engine.sending.compose import (
    Sender,
    Thread,
    compose,
    message_bytes,
    new_message_id,
)
from engine.sending.tasks import open_task, plan_task
from engine.store.events import EventKind
from engine.store.models import (
    DUE,
    Account,
    Enrollment,
    EnrollmentStatus,
    Event,
    MailboxState,
    OutboundMessage,
    OutboundStatus,
    Prospect,
    StopCause,
    stored_reason,
)
from engine.unsubscribe.links import unsubscribe_links

log = logging.getLogger(__name__)

# Rows that hold (or held) a mailbox's send time.
BOOKED = (
    OutboundStatus.PLANNED,
    OutboundStatus.RETRY,
    OutboundStatus.SENDING,
    OutboundStatus.SENT,
    OutboundStatus.UNCERTAIN,
)
WAITING = (*DUE, OutboundStatus.SENDING)
# A previous step in one of these holds the next one back: it has not gone, or it may have.
HOLDING = (*WAITING, OutboundStatus.UNCERTAIN)
# How often to look again at an enrollment whose previous message has not gone yet.
RECHECK = timedelta(hours=1)


@dataclass
class PlanStats:
    planned: int = 0
    tasks: int = 0  # call, LinkedIn and other task steps that became tasks for a rep
    deferred: int = 0  # the previous step has not been sent yet
    parked: int = 0  # could not be planned (render error, no mailbox): paused for a person
    stopped: int = 0  # the contact state says no (replied, unsubscribed, bounced, forgotten)
    reslotted: int = 0  # missed their window: moved to the next one
    cancelled: int = 0  # missed their window and their enrollment is no longer active


class PlanningError(SpearError):
    """A step cannot be planned for this enrollment; it is parked with this reason."""


def due_enrollment_ids(session: Session, now: datetime, limit: int) -> list[int]:
    """Active enrollments whose next step is due: one range scan of `ix_enrollment_due`."""
    query = (
        select(Enrollment.id)
        .where(
            Enrollment.status == EnrollmentStatus.ACTIVE,
            col(Enrollment.next_due_at) <= now,
        )
        .order_by(col(Enrollment.next_due_at))
        .limit(limit)
    )
    return [i for i in session.exec(query) if i is not None]


def recipient_zone(
    cadence: Cadence, prospect: Prospect, account: Account | None, default: str
) -> ZoneInfo:
    """The cadence's fixed zone, else the prospect's own, else its or its account's country."""
    if cadence.schedule.timezone_source != PROSPECT_TIMEZONE:
        return ZoneInfo(cadence.schedule.timezone_source)
    places = [(prospect.country, prospect.region)]
    if account is not None:
        places.append((account.country, account.region))
    return ZoneInfo(prospect_timezone(prospect.timezone, places, default))


class Planner:
    """Turns due enrollment steps into outbox rows. `plan_due` for a daemon job or cron."""

    def __init__(
        self, engine: Engine, config: Config, clock: Clock, rng: random.Random | None = None
    ) -> None:
        self.engine = engine
        self.config = config
        self.clock = clock
        # Seeded: `spear run --once` on a fixed clock plans the same slots every time.
        self.rng = rng or random.Random(0)
        self._cadences: dict[tuple[str, str], Cadence] = {}

    def plan_due(self, limit: int = 500) -> PlanStats:
        # Rows that missed their window go first: they have waited longest for a slot.
        stats = self.reslot_missed(limit)
        now = self.clock.now()
        with Session(self.engine) as session:
            ids = due_enrollment_ids(session, now, limit)
        for enrollment_id in ids:
            try:
                with Session(self.engine, expire_on_commit=False) as session:
                    outcome = self._plan_one(session, enrollment_id, now)
                    session.commit()
            except sa.exc.IntegrityError:
                # Another planner planned this step first: the unique key did its job.
                log.info("enrollment %d: step already planned elsewhere", enrollment_id)
                continue
            except PlanningError as exc:
                self._park(enrollment_id, str(exc), now)
                stats.parked += 1
                continue
            except (ArithmeticError, ValueError, TypeError, LookupError) as exc:
                # A bug or a value no check foresaw: this enrollment waits for a person, and
                # every other cadence still plans.
                log.exception("enrollment %d cannot be planned", enrollment_id)
                self._park(enrollment_id, f"cannot be planned: {type(exc).__name__}: {exc}", now)
                stats.parked += 1
                continue
            if outcome == "planned":
                stats.planned += 1
            elif outcome == "task":
                stats.tasks += 1
            elif outcome == "deferred":
                stats.deferred += 1
            elif outcome == "stopped":
                stats.stopped += 1
        return stats

    def reslot_missed(self, limit: int = 500) -> PlanStats:
        """Move rows still waiting to go whose window has closed to their next allowed slot."""
        stats = PlanStats()
        now = self.clock.now()
        with Session(self.engine) as session:
            ids = missed_outbound_ids(session, now, limit)
        for outbound_id in ids:
            try:
                with Session(self.engine, expire_on_commit=False) as session:
                    outcome = self._reslot_one(session, outbound_id, now)
                    session.commit()
            except PlanningError as exc:
                # The row stays; with its enrollment paused, the next pass cancels it.
                with Session(self.engine) as session:
                    row = session.get(OutboundMessage, outbound_id)
                    enrollment_id = row.enrollment_id if row else None
                if enrollment_id is not None:
                    self._park(enrollment_id, f"cannot re-slot a missed message: {exc}", now)
                    stats.parked += 1
                continue
            if outcome == "reslotted":
                stats.reslotted += 1
            elif outcome == "cancelled":
                stats.cancelled += 1
        return stats

    def _reslot_one(self, session: Session, outbound_id: int, now: datetime) -> str:
        row = session.get(OutboundMessage, outbound_id)
        if row is None or row.status not in DUE or row.send_before is None:
            return "skipped"
        missed = row.send_before
        if missed > now:
            return "skipped"
        enrollment = session.get(Enrollment, row.enrollment_id)
        if enrollment is None or enrollment.status != EnrollmentStatus.ACTIVE:
            # The dispatcher would cancel it at the last moment anyway: do it now, with the reason.
            why = enrollment_not_active(enrollment.status if enrollment else None)
            cancel = {
                "status": OutboundStatus.CANCELLED,
                "error": why.reason,
                "cancel_cause": why.cause,
            }
            if not _update_waiting(session, outbound_id, now, cancel):
                return "skipped"
            self._event(session, row, now, EventKind.SEND_CANCELLED, {"reason": why.reason})
            return "cancelled"
        cadence = self._cadence(session, enrollment)
        prospect = session.get(Prospect, row.prospect_id)
        if prospect is None:
            raise PlanningError("the prospect no longer exists")
        account = session.get(Account, prospect.account_id) if prospect.account_id else None
        tz = recipient_zone(cadence, prospect, account, self.config.timezone)
        rules = cadence.schedule.rules
        try:
            mailbox = self.config.mailbox(row.mailbox)
        except KeyError:
            raise PlanningError(f"mailbox {row.mailbox} is no longer configured") from None
        limits, bookings = self._capacity(session, mailbox, now, excluding=outbound_id)
        # A retry's backoff proposes its time; the windows and caps decide, as for a new row.
        proposed = now
        if row.status == OutboundStatus.RETRY and row.next_attempt_at is not None:
            proposed = max(now, row.next_attempt_at)
        slot = send_slot(proposed, tz, rules, limits, bookings, self.rng)
        changed: dict[str, object] = {
            "send_before": window_end(slot, tz, rules),
            "claimed_by": None,
            "claimed_at": None,
        }
        if row.status == OutboundStatus.RETRY:
            # `scheduled_at` stays: the retry deadline counts from the first slot.
            changed["next_attempt_at"] = slot
        else:
            changed["scheduled_at"] = slot
        if not _update_waiting(session, outbound_id, now, changed):
            return "skipped"  # a dispatcher took it meanwhile (it will not send it late)
        data = {"missed": missed.isoformat(), "scheduled_at": slot.isoformat()}
        self._event(session, row, now, EventKind.RESLOTTED, data)
        log.info(
            "outbox row %d missed its window (ended %s): re-slotted to %s (%s local)",
            outbound_id,
            missed.isoformat(),
            slot.isoformat(),
            slot.astimezone(tz).isoformat(),
        )
        return "reslotted"

    def _event(
        self,
        session: Session,
        row: OutboundMessage,
        now: datetime,
        kind: EventKind,
        data: dict[str, str],
    ) -> None:
        session.add(
            Event(
                at=now,
                kind=kind,
                actor="planner",
                prospect_id=row.prospect_id,
                enrollment_id=row.enrollment_id,
                outbound_id=row.id,
                data={"step_id": row.step_id, "mailbox": row.mailbox, **data},
            )
        )

    def _plan_one(self, session: Session, enrollment_id: int, now: datetime) -> str:
        enrollment = session.get(Enrollment, enrollment_id)
        if enrollment is None or enrollment.status != EnrollmentStatus.ACTIVE:
            return "skipped"
        if enrollment.next_step is None:
            enrollment.next_due_at = None
            return "skipped"
        cadence = self._cadence(session, enrollment)
        step = cadence.step(enrollment.next_step)
        prospect = session.get(Prospect, enrollment.prospect_id)
        if prospect is None:
            raise PlanningError("the prospect no longer exists")
        account = session.get(Account, prospect.account_id) if prospect.account_id else None
        tz = recipient_zone(cadence, prospect, account, self.config.timezone)
        rules = cadence.schedule.rules

        previous = _previous_message(session, enrollment_id)
        # Not gone yet, or maybe gone (uncertain), or a task still open: nothing follows yet.
        waiting = previous is not None and previous.status in HOLDING
        if waiting or open_task(session, enrollment_id) is not None:
            enrollment.next_due_at = now + RECHECK
            return "deferred"
        facts = load_contact_facts(session, [prospect])[enrollment.prospect_id]
        blocked = why_not_mail(facts, enrollment_id)
        if blocked is not None:
            reason, why = blocked
            stop_enrollment(
                enrollment, StopCause.CONTACT_STATE, f"{reason.value}: {why}", now, Direct(session)
            )
            data = {"reason": reason.value, "detail": why}
            session.add(
                Event(
                    at=now,
                    kind=EventKind.ENROLLMENT_STOPPED,
                    actor="planner",
                    prospect_id=enrollment.prospect_id,
                    enrollment_id=enrollment_id,
                    data=data,
                )
            )
            log.info("enrollment %d stopped before planning: %s: %s", enrollment_id, reason, why)
            return "stopped"
        due = enrollment.next_due_at or now
        if previous is not None and previous.sent_at is not None:
            due = max(due, due_after(previous.sent_at, step.wait, tz, rules))
            if due > now:
                enrollment.next_due_at = due
                return "deferred"

        mailbox = self._mailbox(session, enrollment, cadence, now)
        if step.is_task:
            return self._plan_task(session, cadence, enrollment, mailbox, max(due, now), now)
        limits, bookings = self._capacity(session, mailbox, now)
        slot = send_slot(max(due, now), tz, rules, limits, bookings, self.rng)

        referrer = session.get(Prospect, enrollment.referrer_id) if enrollment.referrer_id else None
        try:
            rendered = render_step(
                cadence,
                step,
                context_for(prospect, account, mailbox, referrer),
                variant_seed=enrollment.variant_seed,
            )
        except SpearError as exc:
            raise PlanningError(f"step {step.id} cannot be rendered: {exc}") from None
        thread = None
        if rendered.subject is None:
            if enrollment.thread_message_id is None or enrollment.thread_subject is None:
                raise PlanningError(f"step {step.id} replies in a thread that was never started")
            thread = Thread(enrollment.thread_message_id, enrollment.thread_subject)
        message_id = new_message_id(mailbox.domain)
        try:
            message = compose(
                sender=Sender(mailbox.address, mailbox.display_name, mailbox.reply_to),
                to_address=prospect.email,
                to_name=f"{prospect.first_name} {prospect.last_name}",
                subject=rendered.subject,
                body=rendered.body,
                message_id=message_id,
                date=slot,
                thread=thread,
                unsubscribe=unsubscribe_links(self.config.unsubscribe, prospect),
            )
            raw = message_bytes(message)
        except SpearError as exc:
            raise PlanningError(f"step {step.id} cannot be composed: {exc}") from None
        subject = str(message["Subject"])
        session.add(
            OutboundMessage(
                enrollment_id=enrollment_id,
                prospect_id=prospect.id or 0,
                step_id=step.id,
                variant=rendered.variant,
                mailbox=mailbox.name,
                message_id=message_id,
                to_address=prospect.email,
                subject=subject,
                raw=raw,
                status=OutboundStatus.PLANNED,
                scheduled_at=slot,
                send_before=window_end(slot, tz, rules),
                created_at=now,
            )
        )
        bookings.add(slot)

        if thread is None:
            # A step with a subject of its own starts the thread its follow-ups answer.
            enrollment.thread_message_id = message_id
            enrollment.thread_subject = subject
        enrollment.mailbox = mailbox.name
        following = cadence.step_after(step.id)
        enrollment.next_step = following.id if following else None
        enrollment.next_due_at = due_after(slot, following.wait, tz, rules) if following else None
        enrollment.updated_at = now
        session.add(
            Event(
                at=now,
                kind=EventKind.PLANNED,
                actor="planner",
                prospect_id=prospect.id,
                enrollment_id=enrollment_id,
                data={
                    "step_id": step.id,
                    "mailbox": mailbox.name,
                    "message_id": message_id,
                    "scheduled_at": slot.isoformat(),
                },
            )
        )
        session.flush()
        log.info(
            "planned enrollment %d step %s via %s at %s (%s local)",
            enrollment_id,
            step.id,
            mailbox.name,
            slot.isoformat(),
            slot.astimezone(tz).isoformat(),
        )
        return "planned"

    def _plan_task(
        self,
        session: Session,
        cadence: Cadence,
        enrollment: Enrollment,
        sender: MailboxConfig,
        not_before: datetime,
        now: datetime,
    ) -> str:
        """A call, LinkedIn or other step: a task for a rep in the window, not a message."""
        step = cadence.step(enrollment.next_step or "")
        prospect = session.get(Prospect, enrollment.prospect_id)
        if prospect is None:
            raise PlanningError("the prospect no longer exists")
        account = session.get(Account, prospect.account_id) if prospect.account_id else None
        thread = self.config.mailbox(enrollment.mailbox) if enrollment.mailbox else None
        try:
            outcome = plan_task(
                session,
                cadence=cadence,
                step=step,
                enrollment=enrollment,
                prospect=prospect,
                account=account,
                sender=sender,
                thread_mailbox=thread,
                tz=recipient_zone(cadence, prospect, account, self.config.timezone),
                not_before=not_before,
                now=now,
            )
        except SpearError as exc:
            raise PlanningError(f"step {step.id} cannot be rendered: {exc}") from None
        session.flush()
        return "task" if outcome == "planned" else "skipped"

    def _cadence(self, session: Session, enrollment: Enrollment) -> Cadence:
        key = (enrollment.cadence, enrollment.cadence_version)
        if key not in self._cadences:
            try:
                self._cadences[key] = pinned_cadence(session, *key)
            except SpearError as exc:
                raise PlanningError(str(exc)) from None
        return self._cadences[key]

    def _mailbox(
        self, session: Session, enrollment: Enrollment, cadence: Cadence, now: datetime
    ) -> MailboxConfig:
        """The thread's mailbox, or for a new thread the least loaded allowed one."""
        if enrollment.mailbox is not None:
            try:
                return self.config.mailbox(enrollment.mailbox)
            except KeyError:
                raise PlanningError(
                    f"mailbox {enrollment.mailbox} of this thread is no longer configured"
                ) from None
        allowed = list(cadence.mailboxes) or [m.name for m in self.config.sending_mailboxes]
        paused = session.exec(select(MailboxState.name).where(col(MailboxState.paused))).all()
        load = dict(
            session.exec(
                select(OutboundMessage.mailbox, sa.func.count())
                .where(
                    col(OutboundMessage.status).in_(WAITING),
                    col(OutboundMessage.mailbox).in_(allowed),
                )
                .group_by(OutboundMessage.mailbox)
            ).all()
        )
        chosen = choose_mailbox(allowed, load, paused)
        if chosen is None:
            raise PlanningError("no mailbox available: every allowed mailbox is paused")
        return self.config.mailbox(chosen)

    def _capacity(
        self, session: Session, mailbox: MailboxConfig, now: datetime, excluding: int | None = None
    ) -> tuple[MailboxLimits, Bookings]:
        """The mailbox's limits and its booked sends, `excluding` the row being re-slotted."""
        state = session.get(MailboxState, mailbox.name)
        limits = MailboxLimits.of(
            mailbox, state.first_send_on if state else None, ZoneInfo(self.config.timezone)
        )
        return limits, mailbox_bookings(session, mailbox.name, now - timedelta(days=2), excluding)

    def _park(self, enrollment_id: int, reason: str, now: datetime) -> None:
        """Pause the enrollment with the reason, for a person to look at; never drop it."""
        with Session(self.engine) as session:
            enrollment = session.get(Enrollment, enrollment_id)
            if enrollment is None:
                return
            enrollment.status = EnrollmentStatus.PAUSED
            enrollment.stop_cause = StopCause.PLAN_FAILED
            enrollment.stop_reason = stored_reason(reason)
            enrollment.updated_at = now
            session.add(
                Event(
                    at=now,
                    kind=EventKind.PLAN_FAILED,
                    actor="planner",
                    prospect_id=enrollment.prospect_id,
                    enrollment_id=enrollment_id,
                    data={"reason": reason},
                )
            )
            session.commit()
        log.error("enrollment %d parked: %s", enrollment_id, reason)


def mailbox_bookings(
    session: Session,
    mailbox: str,
    since: datetime,
    excluding: int | None = None,
    until: datetime | None = None,
) -> Bookings:
    """The mailbox's booked sends from `since` (to `until`): what its caps count.

    A sent row counts when it went, a retry at its next attempt, the rest when slotted.
    """
    booked_at = sa.func.coalesce(
        OutboundMessage.sent_at, OutboundMessage.next_attempt_at, OutboundMessage.scheduled_at
    )
    query = select(booked_at).where(
        OutboundMessage.mailbox == mailbox,
        col(OutboundMessage.status).in_(BOOKED),
        booked_at >= since,
        col(OutboundMessage.id) != (excluding or 0),
    )
    if until is not None:
        query = query.where(booked_at < until)
    return Bookings(t for t in session.exec(query).all() if t is not None)


def missed_outbound_ids(session: Session, now: datetime, limit: int) -> list[int]:
    """Rows waiting to go whose window has closed.

    `send_before` always follows `scheduled_at`, so the condition on `scheduled_at` keeps this a
    range scan of `ix_outbound_message_due`.
    """
    query = (
        select(OutboundMessage.id)
        .where(
            col(OutboundMessage.status).in_(DUE),
            col(OutboundMessage.scheduled_at) < now,
            col(OutboundMessage.send_before) <= now,
        )
        .order_by(col(OutboundMessage.scheduled_at))
        .limit(limit)
    )
    return [i for i in session.exec(query) if i is not None]


def _update_waiting(
    session: Session, outbound_id: int, now: datetime, values: Mapping[str, object]
) -> bool:
    """Change a row only while it still waits and has missed its window: a dispatcher that
    committed it `sending` in the meantime wins, and nothing is overwritten under it."""
    table = OutboundMessage.__table__  # type: ignore[attr-defined]
    result = session.connection().execute(
        sa.update(table)
        .where(
            table.c.id == outbound_id,
            table.c.status.in_([s.value for s in DUE]),
            table.c.send_before <= now,
        )
        .values(**values)
    )
    return result.rowcount == 1


def _previous_message(session: Session, enrollment_id: int) -> OutboundMessage | None:
    query = (
        select(OutboundMessage)
        .where(OutboundMessage.enrollment_id == enrollment_id)
        .order_by(col(OutboundMessage.id).desc())
        .limit(1)
    )
    return session.exec(query).first()
