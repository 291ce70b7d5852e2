"""What a run of the loop must show, checked from the database alone.

The play's promises, as the end-to-end test and the demo's closing summary state them: every
send booked inside its window and under its mailbox's caps; every bounced address pruned and never
mailed again; every referral enrolled, with the referrer named in the first email; no one mailed
after replying (save a later re-enrolment they asked for, like not-now's nurture).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email.message import Message
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from engine.basics.windows import in_window
from engine.cadences import Cadence, pinned_cadence
from engine.classify import ReplyLabel
from engine.classify.result import HUMAN_LABELS
from engine.config import Config
from engine.sending.planner import recipient_zone
from engine.store.models import (
    Account,
    EmailStatus,
    Enrollment,
    InboundMessage,
    OutboundMessage,
    OutboundStatus,
    Prospect,
)


@dataclass(frozen=True)
class Check:
    name: str
    failures: tuple[str, ...]
    checked: int

    @property
    def ok(self) -> bool:
        return not self.failures


def run_checks(engine: Engine, config: Config) -> list[Check]:
    with Session(engine) as session:
        sent = list(
            session.exec(
                select(OutboundMessage).where(OutboundMessage.status == OutboundStatus.SENT)
            ).all()
        )
        return [
            _inside_windows(session, config, sent),
            _under_caps(config, sent),
            _bounced_pruned(session, sent),
            _referrals_enrolled(session, sent),
            _quiet_after_reply(session, sent),
        ]


def _inside_windows(session: Session, config: Config, sent: list[OutboundMessage]) -> Check:
    failures = []
    cadences: dict[tuple[str, str], Cadence] = {}
    for row in sent:
        enrollment = session.get(Enrollment, row.enrollment_id)
        prospect = session.get(Prospect, row.prospect_id)
        assert enrollment is not None and prospect is not None and row.sent_at is not None
        key = (enrollment.cadence, enrollment.cadence_version)
        if key not in cadences:
            cadences[key] = pinned_cadence(session, *key)
        cadence = cadences[key]
        account = session.get(Account, prospect.account_id) if prospect.account_id else None
        zone = recipient_zone(cadence, prospect, account, config.timezone)
        # The slot Spear booked is its decision; on a fast clock the moment the message left
        # adds the machine's latency (0.1 s is half an hour at the demo's speed).
        assert row.scheduled_at is not None
        if not in_window(row.scheduled_at, zone, cadence.schedule.rules):
            local = row.scheduled_at.astimezone(zone)
            failures.append(f"{row.to_address} {row.step_id} at {local:%a %H:%M} {zone.key}")
    return Check("every send inside its window", tuple(failures), len(sent))


def _under_caps(config: Config, sent: list[OutboundMessage]) -> Check:
    day_zone = ZoneInfo(config.timezone)
    days = Counter((r.mailbox, _at(r).astimezone(day_zone).date()) for r in sent)
    hours = Counter((r.mailbox, _at(r).replace(minute=0, second=0, microsecond=0)) for r in sent)
    failures = [
        f"{mailbox} sent {n} on {day}"
        for (mailbox, day), n in days.items()
        if n > config.mailbox(mailbox).daily_cap
    ] + [
        f"{mailbox} sent {n} in the hour from {hour:%Y-%m-%d %H:00}Z"
        for (mailbox, hour), n in hours.items()
        if n > config.mailbox(mailbox).hourly_cap
    ]
    return Check("every mailbox under its caps", tuple(failures), len(sent))


def _bounced_pruned(session: Session, sent: list[OutboundMessage]) -> Check:
    invalid = session.exec(
        select(Prospect).where(Prospect.email_status == EmailStatus.INVALID)
    ).all()
    failures = []
    for prospect in invalid:
        bounced_at = _first_reply_at(session, prospect.id, {ReplyLabel.BOUNCE})
        later = [
            r for r in sent if r.prospect_id == prospect.id and bounced_at and _at(r) > bounced_at
        ]
        if later:
            failures.append(f"{prospect.email} mailed {len(later)} times after bouncing")
    return Check("every bounced address pruned", tuple(failures), len(invalid))


def _referrals_enrolled(session: Session, sent: list[OutboundMessage]) -> Check:
    referred = session.exec(select(Prospect).where(col(Prospect.referred_by_id).is_not(None))).all()
    failures = []
    for person in referred:
        enrollments = session.exec(
            select(Enrollment).where(
                Enrollment.prospect_id == person.id,
                Enrollment.referrer_id == person.referred_by_id,
            )
        ).all()
        if not enrollments:
            failures.append(f"{person.email} was referred but not enrolled")
            continue
        referrer = session.get(Prospect, person.referred_by_id)
        assert referrer is not None
        firsts = sorted(
            (r for r in sent if r.enrollment_id in {e.id for e in enrollments}), key=_at
        )
        if firsts and referrer.first_name not in _body(firsts[0]):
            failures.append(f"{person.email}'s first email does not name {referrer.first_name}")
    return Check("every referral enrolled, naming the referrer", tuple(failures), len(referred))


def _quiet_after_reply(session: Session, sent: list[OutboundMessage]) -> Check:
    replies = session.exec(
        select(InboundMessage).where(
            col(InboundMessage.label).in_([str(label) for label in HUMAN_LABELS]),
            col(InboundMessage.prospect_id).is_not(None),
        )
    ).all()
    failures = []
    for reply in replies:
        replied_at = _received(reply)
        for row in sent:
            if row.prospect_id != reply.prospect_id or _at(row) <= replied_at:
                continue
            enrollment = session.get(Enrollment, row.enrollment_id)
            assert enrollment is not None and enrollment.started_at is not None
            if enrollment.started_at < replied_at:  # not a re-enrolment they asked for
                failures.append(f"{row.to_address} mailed {row.step_id} after replying")
    return Check("no one mailed after replying", tuple(failures), len(replies))


def _first_reply_at(
    session: Session, prospect_id: int | None, labels: set[ReplyLabel]
) -> datetime | None:
    times = session.exec(
        select(InboundMessage.received_at).where(
            InboundMessage.prospect_id == prospect_id,
            col(InboundMessage.label).in_([str(label) for label in labels]),
        )
    ).all()
    return min((t for t in times if t is not None), default=None)


def _at(row: OutboundMessage) -> datetime:
    assert row.sent_at is not None
    return row.sent_at


def _received(reply: InboundMessage) -> datetime:
    assert reply.received_at is not None
    return reply.received_at


def _body(row: OutboundMessage) -> str:
    message: Message = message_from_bytes(row.raw)
    payload = message.get_payload(decode=True)
    return payload.decode("utf-8") if isinstance(payload, bytes) else str(payload)
