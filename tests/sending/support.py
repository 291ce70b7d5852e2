"""Helpers for the sending tests: an aiosmtpd sink with fault injection, and outbox seeding.

Faults are real SMTP answers from a real server on loopback, not mocks: a handler answers 421,
450 or 550, or drops the connection, at the stage a test asks for.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from sqlalchemy.engine import Engine
from sqlmodel import Session as DbSession
from sqlmodel import select

from engine.cadences.loader import parse_cadence
from engine.cadences.model import Cadence
from engine.clock import FixedClock
from engine.config import Config, MailboxConfig, ServerSettings, TlsMode
from engine.prospects.enrollment import enroll
from engine.sending.compose import Sender, compose, message_bytes, new_message_id
from engine.store.models import Account, Enrollment, OutboundMessage, Prospect

SENDER = "rep@spear.example"
MAILBOX = "sales"


@dataclass
class Sink:
    """An aiosmtpd handler that records what it accepts and answers what a test scripts.

    `rcpt_answers[address]` answers RCPT for that address ("drop" closes the connection);
    `data_answers` are used, in order, for the next DATA commands ("drop" closes the connection
    after the message has been received: the client cannot know whether it was accepted).
    """

    messages: list[bytes] = field(default_factory=list)
    rcpt_answers: dict[str, str] = field(default_factory=dict)
    data_answers: list[str] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=dict)
    data_delay: float = 0.0
    received: threading.Event = field(default_factory=threading.Event)
    connections: int = 0

    def message_ids(self) -> list[str]:
        return [str(message_from_bytes(m)["Message-ID"]) for m in self.messages]

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: Any
    ) -> Any:
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        answer = self.rcpt_answers.get(address.lower())
        if answer == "drop":
            assert server.transport is not None
            server.transport.close()
            return "421 gone"
        if answer is not None:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        answer = self.data_answers.pop(0) if self.data_answers else "250 OK queued"
        if answer.startswith("250") or answer == "drop":
            self.messages.append(data)
            self.received.set()
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        if answer == "drop":
            assert server.transport is not None
            server.transport.close()
            return "451 gone"
        return answer

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode()
        # handled=False: aiosmtpd then answers 535 itself (with True it answers nothing).
        return AuthResult(
            success=self.users.get(login) == auth_data.password.decode(), handled=False
        )


async def start_sink(sink: Sink, *, require_auth: bool = False, **smtp: Any) -> asyncio.Server:
    """Serve `sink` on 127.0.0.1 on an ephemeral port of the running loop."""
    loop = asyncio.get_running_loop()

    def protocol() -> SMTP:
        return SMTP(
            sink,
            hostname="sink.localhost",
            auth_require_tls=False,
            authenticator=sink.authenticate,
            auth_required=require_auth,
            loop=loop,
            **smtp,
        )

    return await loop.create_server(protocol, host="127.0.0.1", port=0)


def port_of(server: asyncio.Server) -> int:
    return int(server.sockets[0].getsockname()[1])


@contextmanager
def sink_in_thread(sink: Sink, **smtp: Any) -> Iterator[int]:
    """Run the sink on its own loop in a thread (for tests that block); yields its port."""
    loop = asyncio.new_event_loop()
    ready: list[asyncio.Server] = []
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        ready.append(loop.run_until_complete(start_sink(sink, **smtp)))
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(10)
    try:
        yield port_of(ready[0])
    finally:
        ready[0].close()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def sink_config(port: int, *, user: str | None = None, password: str | None = None) -> Config:
    settings: dict[str, Any] = {"host": "127.0.0.1", "port": port, "tls": TlsMode.NONE}
    if user is not None:
        settings |= {"user": user, "password": password}
    return Config.model_validate(
        {
            "mailboxes": [
                MailboxConfig(
                    name=MAILBOX,
                    address=SENDER,
                    display_name="Robin Rep",
                    smtp=ServerSettings.model_validate(settings),
                    daily_cap=1000,
                    hourly_cap=1000,
                    # Rows here are seeded due at one instant: no gap at dispatch between them
                    # (the gap has its own test).
                    min_gap_seconds=0,
                    jitter_seconds=0,
                )
            ]
        }
    )


def seed_outbox(
    engine: Engine,
    count: int,
    *,
    scheduled_at: datetime,
    planned_at: datetime | None = None,
    first: int = 0,
    domain: str = "prospect.example",
) -> list[int]:
    """`count` prospects at one account, each enrolled with one planned first step."""
    ids: list[int] = []
    planned_at = planned_at or scheduled_at
    with DbSession(engine) as db:
        account = Account(domain=f"{domain}-{first}", name="Prospect Inc")
        db.add(account)
        db.flush()
        for n in range(first, first + count):
            address = f"person{n}@{domain}"
            prospect = Prospect(email=address, first_name=f"P{n}", account_id=account.id)
            db.add(prospect)
            db.flush()
            assert prospect.id is not None
            enrollment = Enrollment(
                prospect_id=prospect.id, cadence="intro", cadence_version="v1", next_step=None
            )
            db.add(enrollment)
            db.flush()
            assert enrollment.id is not None
            message_id = new_message_id("spear.example")
            raw = message_bytes(
                compose(
                    sender=Sender(SENDER, "Robin Rep"),
                    to_address=address,
                    to_name=f"P{n}",
                    subject="Who handles logistics?",
                    body=f"Hi P{n},\n\nWho is the right person for logistics?\n\nRobin\n",
                    message_id=message_id,
                    date=scheduled_at,
                )
            )
            row = OutboundMessage(
                enrollment_id=enrollment.id,
                prospect_id=prospect.id,
                step_id="intro",
                mailbox=MAILBOX,
                message_id=message_id,
                to_address=address,
                subject="Who handles logistics?",
                raw=raw,
                scheduled_at=scheduled_at,
                created_at=planned_at,
            )
            db.add(row)
            db.flush()
            assert row.id is not None
            ids.append(row.id)
        db.commit()
    return ids


def statuses(engine: Engine) -> dict[int, str]:
    with DbSession(engine) as db:
        return {r.id: r.status.value for r in db.exec(select(OutboundMessage)) if r.id is not None}


T0 = datetime(2025, 6, 3, 11, 0, tzinfo=UTC)  # a Tuesday: 07:00 in New York


# A two-step cadence and two mailboxes that the planner and dispatcher tests share.
CADENCE = """
name: test-ask
mailboxes: []
audience:
  one_per_account: false
schedule:
  timezone: prospect
  windows: ["07:00-09:00", "17:00-19:00"]
  weekdays: [tue, wed, thu, sun]
steps:
  - id: ask
    wait: 0 days
    subject: "{{ account.name }} logistics"
    template: ask
  - id: bump
    wait: 2 days
    template: bump
"""
TEMPLATES = {
    "ask": (
        "Hi {{ prospect.first_name }},\\n\\nWho runs logistics at {{ account.name }}?"
        "\\n\\n{{ sender.name }}"
    ),
    "bump": "Hi {{ prospect.first_name }}, any pointer?\\n\\n{{ sender.name }}",
}


def cadence() -> Cadence:
    return parse_cadence(CADENCE, "test-ask.yaml", TEMPLATES.get)


def two_mailboxes(port: int, daily_cap: int = 50) -> Config:
    base = sink_config(port).mailboxes[0]
    boxes = [
        base.model_copy(
            update={
                "name": name,
                "address": f"{name}@spear.example",
                "daily_cap": daily_cap,
                "min_gap_seconds": 300.0,
            }
        )
        for name in ("alpha", "beta")
    ]
    return Config(mailboxes=boxes, timezone="America/New_York")


def enrol(engine: Engine, count: int, clock: FixedClock) -> list[int]:
    with DbSession(engine) as db:
        account = Account(domain="acme.example", name="Acme", country="US")
        db.add(account)
        db.flush()
        people = []
        for n in range(count):
            person = Prospect(
                email=f"p{n}@acme.example",
                first_name=f"Pat{n}",
                account_id=account.id,
                timezone="America/New_York",
            )
            db.add(person)
            people.append(person)
        db.flush()
        enrollments = enroll(db, cadence(), people, now=clock.now())
        db.commit()
        return [e.id for e in enrollments if e.id is not None]
