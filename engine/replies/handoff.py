"""Hand-off emails: tell the account executive about an interested prospect, with the thread.

The reply actions record `Event(kind="handoff.email", data={"status": "pending", ...})` and never
wait on the network; `HandoffSender.deliver_due` (a daemon job) sends them:

- **A job** of `engine.store.jobs`: kind `handoff.email`, not undone, status `pending` (due when
  its `next_attempt_at`, if any, is reached) or `sending` (claimed; taken over when the claim's
  lease runs out: its sender crashed). The claim is a conditional update, so two daemons never
  send one hand-off at once, and one undone before its turn never goes out.
- **The email** (built by `compose`, plain text): To the account executive; From the mailbox the
  event names, else `hand_off.from_mailbox`; Cc the rep's mailbox (the one that sent the message
  the prospect answered, else the one the reply arrived in) so the rep sees the hand-off. No
  Reply-To: the executive writes to the prospect himself and answers the rep by "reply all".
  The body says who, their title, the account, the cadence and step they answered, their reply
  without quotes and signature, and below it the thread: our message and their full reply.
- **Sending**: `MailboxSender`, one SMTP envelope per recipient with the same bytes (and one
  Message-ID for every attempt). Recipients that accepted are kept in `delivered_to`, so a
  retry does not repeat them.
- **Outcome**: `sent` (with `sent_at` and `smtp_response`); after a temporary failure (4xx, a
  refused or dropped connection, a time-out, refused credentials) back to `pending` with
  `attempts`, `error` and `next_attempt_at` (the outbox's `RetryPolicy` by default), until the
  retry deadline after the event, then `failed`; `failed` at once for a permanent refusal (5xx)
  or an email that cannot be built (no such mailbox, a malformed address). `error` says why,
  for a person to see.

Delivery is at least once: a crash between the SMTP answer and the update, or a connection lost
while the server answered the body, sends the email again on a later call. A second copy of a
hand-off costs less than a lead who never reaches the executive.

The email carries `X-Spear-Handoff: <event id>`: when the Cc lands in a mailbox Spear polls,
intake recognises its own hand-off and ignores it instead of queueing it for review.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from engine.classify.parse import body_text, header_text, parse_message
from engine.clock import Clock
from engine.config import Config, MailboxConfig
from engine.errors import MailAuthError, PermanentMailError, SpearError, TemporaryMailError
from engine.sending.compose import Sender, compose, message_bytes, new_message_id
from engine.sending.smtp import MailboxSender
from engine.store.events import EventKind
from engine.store.jobs import EventJobs, JobState, RetryPolicy
from engine.store.models import (
    Account,
    Enrollment,
    Event,
    InboundMessage,
    OutboundMessage,
    Prospect,
)
from engine.store.payloads import HandoffEmail, HandoffPerson, read

log = logging.getLogger(__name__)

HANDOFF_HEADER = "X-Spear-Handoff"
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
WAITING, WORKING = (
    JobState(EventKind.HANDOFF_EMAIL, PENDING),
    JobState(EventKind.HANDOFF_EMAIL, SENDING),
)


class HandoffError(SpearError):
    """A hand-off email cannot be built (its mailbox is not configured); retrying will not help."""


@dataclass(frozen=True)
class HandoffFacts:
    """What the account executive reads, gathered from the event and the rows it names."""

    name: str
    email: str
    title: str
    company: str
    cadence: str
    step: str
    reply_text: str
    outbound_subject: str
    outbound_text: str
    sent_at: datetime | None
    reply_subject: str
    reply_full: str
    received_at: datetime | None


def handoff_body(facts: HandoffFacts, rep: str) -> str:
    """The plain-text body: the facts first, the thread below. Pure."""
    who = f"{facts.name} <{facts.email}>" if facts.name else facts.email
    ours, theirs = facts.outbound_subject or "(no subject)", facts.reply_subject or "(no subject)"
    lines = [
        f"{facts.name or facts.email} is interested: please take it from here.",
        "",
        f"Who:      {who}",
        f"Title:    {facts.title or '-'}",
        f"Account:  {facts.company or '-'}",
        f"Answered: {facts.cadence or '-'}, step {facts.step or '-'}",
        f"Rep:      {rep} (copied)",
        "",
        "Their reply:",
        "",
        _quoted(facts.reply_text or facts.reply_full or "(empty)"),
        "",
        "---------- the thread ----------",
        "",
        f"{_when(facts.sent_at)}, we wrote: {ours}",
        "",
        _quoted(facts.outbound_text or "(not on record)"),
        "",
        f"{_when(facts.received_at)}, {facts.email} replied: {theirs}",
        "",
        _quoted(facts.reply_full or "(empty)"),
    ]
    return "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in text.strip().splitlines())


def _when(instant: datetime | None) -> str:
    return f"On {instant:%Y-%m-%d %H:%M} UTC" if instant else "Earlier"


@dataclass(frozen=True)
class _Email:
    mailbox: str
    mail_from: str
    recipients: tuple[str, ...]  # the executive first, then the rep
    raw: bytes
    message_id: str


class HandoffSender:
    """Delivers pending hand-off emails; `deliver_due` is the daemon's job (and a test's call)."""

    def __init__(
        self,
        engine: Engine,
        config: Config,
        clock: Clock,
        *,
        retry: RetryPolicy | None = None,
        lease: timedelta = timedelta(minutes=10),
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.engine = engine
        self.config = config
        self.clock = clock
        self.retry = retry or RetryPolicy()
        self.jobs = EventJobs(engine, waiting=WAITING, working=WORKING, lease=lease, live_only=True)
        self._tls_context = tls_context
        self._senders: dict[str, MailboxSender] = {}

    async def deliver_due(self, limit: int = 100) -> int:
        """Try each due hand-off once; returns how many were sent by this call.

        One event's failure (even an unexpected one) is recorded on that event and logged; it
        never stops the others or raises out of here.
        """
        now = self.clock.now()
        sent = 0
        for event in await asyncio.to_thread(self.jobs.due, now, limit):
            claimed: Event | None = None
            try:
                claimed = await asyncio.to_thread(self.jobs.claim, event, now)
                if claimed is not None and await self._deliver(claimed, now):
                    sent += 1
            except Exception as exc:  # a bug or a database hiccup: retry later, keep going
                log.exception("hand-off %s: unexpected failure", event.id)
                if claimed is not None:
                    await self._note_unexpected(claimed, now, exc)
        return sent

    async def close(self) -> None:
        """Close the SMTP connections; safe to call twice."""
        senders, self._senders = self._senders, {}
        for sender in senders.values():
            await sender.close()

    async def _settle(self, event: Event, data: dict[str, Any]) -> None:
        await asyncio.to_thread(
            self.jobs.finish, event, JobState(EventKind.HANDOFF_EMAIL, data["status"]), data
        )

    async def _note_unexpected(self, event: Event, now: datetime, exc: Exception) -> None:
        try:
            await self._settle(event, self._after_failure(event, now, repr(exc), temporary=True))
        except Exception:
            log.exception("hand-off %s: could not record the failure", event.id)

    # --- one hand-off ---------------------------------------------------------------------------

    async def _deliver(self, event: Event, now: datetime) -> bool:
        data = dict(event.data)
        try:
            email = await asyncio.to_thread(self._build, event, now)
        except (HandoffError, ValueError) as exc:  # ComposeError is a ValueError
            await self._settle(event, {**data, "status": FAILED, "error": str(exc)})
            log.error("hand-off %s cannot be sent: %s", event.id, exc)
            return False
        # Fixed at the first attempt: every retry and every recipient gets the same Message-ID.
        data["message_id"] = email.message_id
        # Recipient -> the server's acceptance; those in it are not sent to again on a retry.
        accepted: dict[str, str] = dict(data.get("smtp_responses", {}))
        sender = self._sender(email.mailbox)
        try:
            for recipient in email.recipients:
                if recipient not in accepted:
                    accepted[recipient] = await sender.send(email.mail_from, recipient, email.raw)
        except (PermanentMailError, TemporaryMailError, MailAuthError) as exc:
            temporary = not isinstance(exc, PermanentMailError)
            so_far = {**data, "smtp_responses": accepted, "delivered_to": list(accepted)}
            after = self._after_failure(event, now, str(exc), temporary=temporary, data=so_far)
            await self._settle(event, after)
            log.warning("hand-off %s not sent (%s): %s", event.id, after["status"], exc)
            return False
        await self._settle(
            event,
            {
                **data,
                "status": SENT,
                "sent_at": now.isoformat(),
                "smtp_response": accepted[email.recipients[0]],  # the executive's server
                "smtp_responses": accepted,
                "delivered_to": list(accepted),
                "attempts": int(data.get("attempts", 0)) + 1,
                "error": None,
                "next_attempt_at": None,
            },
        )
        log.info("hand-off %s sent to %s", event.id, ", ".join(email.recipients))
        return True

    def _after_failure(
        self,
        event: Event,
        now: datetime,
        error: str,
        *,
        temporary: bool,
        data: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        data = dict(data if data is not None else event.data)
        attempts = int(data.get("attempts", 0)) + 1
        first = event.at or now
        retry_at = self.retry.next_attempt(attempts, first, now) if temporary else None
        data.update(attempts=attempts, error=error, last_attempt_at=now.isoformat())
        if retry_at is None:
            data.update(status=FAILED, next_attempt_at=None)
            if temporary:
                data["error"] = f"gave up after {attempts} attempts: {error}"
        else:
            data.update(status=PENDING, next_attempt_at=retry_at.isoformat())
        return data

    def _build(self, event: Event, now: datetime) -> _Email:
        data = read(event, HandoffEmail)
        mailbox = self._mailbox(data)
        with Session(self.engine) as session:
            facts, rep_mailbox = _facts(session, event)
        rep = self._address_of(rep_mailbox) or mailbox.address
        executive = str(data["to"])
        message_id = str(data.get("message_id") or new_message_id(mailbox.domain))
        message = compose(
            sender=Sender(mailbox.address, mailbox.display_name),
            to_address=executive,
            to_name="",
            subject=str(data.get("subject") or f"Hand-off: {facts.name or facts.email}"),
            body=handoff_body(facts, rep),
            message_id=message_id,
            date=now,
        )
        recipients = [executive]
        if rep.lower() != executive.lower():
            message["Cc"] = rep
            recipients.append(rep)
        message[HANDOFF_HEADER] = str(event.id)
        raw = message_bytes(message, also=("Cc", HANDOFF_HEADER))
        return _Email(mailbox.name, mailbox.address, tuple(recipients), raw, message_id)

    def _mailbox(self, data: HandoffEmail) -> MailboxConfig:
        for name in (data.get("mailbox"), self.config.hand_off.from_mailbox):
            if name:
                try:
                    return self.config.mailbox(str(name))
                except KeyError:
                    continue
        raise HandoffError(
            f"mailbox {data.get('mailbox')!r} is not configured (nor is hand_off.from_mailbox)"
        )

    def _address_of(self, mailbox: str | None) -> str | None:
        try:
            return self.config.mailbox(mailbox).address if mailbox else None
        except KeyError:
            return None

    def _sender(self, name: str) -> MailboxSender:
        if name not in self._senders:
            smtp = self.config.mailbox(name).smtp
            self._senders[name] = MailboxSender(name, smtp, tls_context=self._tls_context)
        return self._senders[name]


def _facts(session: Session, event: Event) -> tuple[HandoffFacts, str | None]:
    """The facts for the body, and the name of the rep's mailbox."""
    data = read(event, HandoffEmail)
    person = data.get("prospect") or HandoffPerson(email="", name="", title=None)
    prospect = session.get(Prospect, event.prospect_id) if event.prospect_id else None
    account = (
        session.get(Account, prospect.account_id) if prospect and prospect.account_id else None
    )
    outbound = session.get(OutboundMessage, event.outbound_id) if event.outbound_id else None
    enrollment = session.get(Enrollment, outbound.enrollment_id) if outbound else None
    inbound = session.get(InboundMessage, event.inbound_id) if event.inbound_id else None
    company = ""
    if account is not None:
        company = f"{account.name} ({account.domain})" if account.name else account.domain
    facts = HandoffFacts(
        name=str(person.get("name") or ""),
        email=str(person.get("email") or (prospect.email if prospect else "")),
        title=str(person.get("title") or (prospect.title if prospect else "") or ""),
        company=company,
        cadence=enrollment.cadence if enrollment else "",
        step=outbound.step_id if outbound else "",
        reply_text=str(data.get("reply_text") or ""),
        outbound_subject=outbound.subject if outbound else "",
        outbound_text=_text(outbound.raw) if outbound else "",
        sent_at=outbound.sent_at if outbound else None,
        reply_subject=inbound.subject or "" if inbound else "",
        reply_full=_text(inbound.raw) if inbound else "",
        received_at=inbound.received_at if inbound else None,
    )
    rep_mailbox = outbound.mailbox if outbound else inbound.mailbox if inbound else None
    return facts, rep_mailbox


def _text(raw: bytes) -> str:
    try:
        return body_text(parse_message(raw))
    except Exception:  # a message too broken to read: the executive still gets the rest
        return ""


def is_own_handoff(session: Session, raw: bytes) -> bool:
    """Whether `raw` is a hand-off email Spear sent (a copy arriving in a polled mailbox)."""
    msg = parse_message(raw)
    event_id = header_text(msg, HANDOFF_HEADER).strip()
    if not event_id.isdigit():
        return False
    event = session.get(Event, int(event_id))
    if event is None or event.kind != EventKind.HANDOFF_EMAIL:
        return False
    return (
        bool(event.data.get("message_id"))
        and event.data.get("message_id") == header_text(msg, "Message-ID").strip()
    )


__all__ = ["HANDOFF_HEADER", "HandoffError", "HandoffFacts", "HandoffSender", "handoff_body"]
