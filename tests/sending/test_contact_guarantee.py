"""The contact guarantee, as a model-based test: whatever happens in whatever order, no means no.

A Hypothesis state machine interleaves what users and the world do (import and re-import,
`enroll` with and without `--again`, replies of every label acted on by the real reply actions,
unsubscribes and forgets, account and mailbox pauses and resumes, review relabels and undos) with
the daemon's work (the real planner and dispatcher, restarted each pass, sometimes under the
worker id of one that was killed mid-transaction, sometimes retired by a reload mid-batch, sending
to an aiosmtpd sink that may drop the connection while it answers the body). After every step it
checks, against what the sink really received:

- nobody is mailed after a human reply, except by a cadence started after it (by that reply's
  action, or by a person with `--again`);
- nobody is mailed after they unsubscribed, bounced or were forgotten;
- no step of an enrollment arrives twice;
- nothing of an enrollment arrives after a step of it that is uncertain (until a person settles).

It runs on SQLite and, when a server is available, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import Session as DbSession
from sqlmodel import SQLModel, select

from engine.cadences import Cadence, load_cadences
from engine.classify.result import (
    Bounce,
    BounceKind,
    BounceRecipient,
    Classification,
    Referral,
    ReplyLabel,
)
from engine.clock import FixedClock, utc
from engine.config import Config, HandOff
from engine.errors import SpearError
from engine.prospects.account_control import find_account, pause_by_hand, resume_account
from engine.prospects.contact_state import EnrolPath
from engine.prospects.enrollment import enroll, plan_enrollment
from engine.prospects.importer import import_prospects
from engine.prospects.privacy import forget_person
from engine.prospects.suppression import add_suppression
from engine.replies.actions import ReplySettings, apply_actions
from engine.review.decisions import relabel, undo_last
from engine.sending.dispatcher import Dispatcher
from engine.sending.mailboxes import pause_mailbox, resume_mailbox
from engine.sending.planner import Planner
from engine.sending.uncertain import Settlement, settle, uncertain_rows
from engine.store.db import make_engine, upgrade
from engine.store.models import (
    Enrollment,
    InboundMessage,
    InboundStatus,
    OutboundMessage,
    OutboundStatus,
    Prospect,
)

from .support import MAILBOX, Sink, sink_config, sink_in_thread

# Enough to matter (each example is up to 30 steps, after a start that mails everyone) and under
# a minute a database on a CI machine. PostgreSQL's round trips cost more: fewer examples there.
EXAMPLES = {"sqlite": 25, "postgresql": 15}
STEPS = 30

START = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
POOL = [
    "ann@alpha.example",
    "abe@alpha.example",
    "bea@beta.example",
    "bob@beta.example",
    "cal@gamma.example",
    "cat@gamma.example",
]
REFERRED = ["ria@alpha.example", "rex@beta.example"]
HUMAN = [
    ReplyLabel.REFERRAL,
    ReplyLabel.INTEREST,
    ReplyLabel.NOT_NOW,
    ReplyLabel.NOT_INTERESTED,
    ReplyLabel.WRONG_PERSON,
    ReplyLabel.UNSUBSCRIBE,
    ReplyLabel.UNCLEAR,
]
LABELS = [*HUMAN, ReplyLabel.AUTO_REPLY, ReplyLabel.BOUNCE]
NOT_HUMAN = {str(ReplyLabel.AUTO_REPLY), str(ReplyLabel.BOUNCE)}
SCHEDULE = """
schedule:
  timezone: UTC
  windows: ["00:00-23:59"]
  weekdays: [mon, tue, wed, thu, fri, sat, sun]
"""
CADENCES = {
    "ask": """name: ask
audience:
  one_per_account: true
{schedule}
steps:
  - id: one
    subject: "A question"
    template: note
  - id: two
    wait: 1 day
    template: note
  - id: three
    wait: 1 day
    subject: "Another question"
    template: note
on_reply:
  referral: enrol follow
  not-now: enrol nurture at resume date
  interest: hand off
  not-interested: stop
  wrong-person: stop
  unsubscribe: suppress
""",
    "follow": """name: follow
audience:
  one_per_account: false
{schedule}
steps:
  - id: intro
    subject: "Introduced"
    template: note
  - id: again
    wait: 1 day
    template: note
""",
    "nurture": """name: nurture
audience:
  one_per_account: false
{schedule}
steps:
  - id: back
    subject: "As you asked"
    template: note
""",
}


@dataclass
class Delivered:
    at: datetime
    message_id: str


@dataclass
class TimedSink(Sink):
    """The sink, noting when (on the test's clock) each message arrived."""

    clock: FixedClock = field(default_factory=lambda: FixedClock(START))
    delivered: list[Delivered] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        answer = self.data_answers[0] if self.data_answers else "250"
        if answer.startswith("250") or answer == "drop":
            message_id = str(message_from_bytes(content)["Message-ID"])
            self.delivered.append(Delivered(self.clock.now(), message_id))
        return await super().handle_DATA(server, session, envelope)


@dataclass(frozen=True)
class Sent:
    """What an outbox row was, kept even after `forget` erases it."""

    outbound_id: int
    enrollment_id: int
    step_id: str
    address: str


class World:
    """Everything one database needs across examples: engine, config, cadences, sink."""

    def __init__(self, url: str, tmp: Path, sink: TimedSink, port: int) -> None:
        self.engine = make_engine(url)
        self.tmp = tmp
        self.sink = sink
        base = sink_config(port)
        self.config = Config(
            mailboxes=base.mailboxes,
            timezone="UTC",
            hand_off=HandOff(account_executive="ae@ourco.example"),
        )
        for folder in ("cadences", "templates"):
            (tmp / folder).mkdir(exist_ok=True)
        for name, text in CADENCES.items():
            (tmp / "cadences" / f"{name}.yaml").write_text(text.format(schedule=SCHEDULE))
        (tmp / "templates" / "note.txt.j2").write_text("Hi {{ prospect.email }}, a question.\n")
        self.cadences: dict[str, Cadence] = load_cadences(tmp / "cadences", tmp / "templates")
        self.settings = ReplySettings.from_config(self.config, self.cadences)
        # What the examples got up to, so a run that never mails anyone cannot pass unnoticed.
        self.seen: Counter[str] = Counter()

    def reset(self) -> None:
        tables = list(reversed(SQLModel.metadata.sorted_tables))
        with self.engine.begin() as db:
            # DELETE, not TRUNCATE: on tables this small it is the faster of the two.
            for table in tables:
                db.execute(table.delete())
        self.sink.delivered.clear()
        self.sink.data_answers.clear()
        self.sink.data_delay = 0.0


def machine_for(world: World) -> type[RuleBasedStateMachine]:
    class ContactGuarantee(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            world.reset()
            world.seen["examples"] += 1
            self.clock = FixedClock(START)
            world.sink.clock = self.clock
            self.uids = itertools.count(1)
            self.sent: dict[str, Sent] = {}  # Message-ID -> what it was
            self.final: dict[str, datetime] = {}  # address -> unsubscribed/forgotten since
            self.killed_worker: str | None = None

        # -- helpers ----------------------------------------------------------------------

        def tick(self, **delta: float) -> datetime:
            """Every step happens at its own time, so 'after' is never ambiguous."""
            self.clock.fast_forward(**({"seconds": 1} | delta))
            return self.clock.now()

        def session(self) -> DbSession:
            return DbSession(world.engine, expire_on_commit=False)

        def prospects(self) -> list[Prospect]:
            with self.session() as db:
                return list(db.exec(select(Prospect).order_by(Prospect.id)))  # type: ignore[arg-type]

        def plan(self) -> None:
            Planner(world.engine, world.config, self.clock).plan_due()

        def dispatcher(self, worker: str | None) -> Dispatcher:
            return Dispatcher(world.engine, world.config, self.clock, worker)

        def run(self, coroutine: Any) -> Any:
            return asyncio.run(coroutine)

        # -- what people and the world do -------------------------------------------------

        @initialize()
        def start(self) -> None:
            """Everyone imported and the first enrolment done: mail flows from the first pass."""
            self.import_people(set(POOL))
            with self.session() as db:
                enroll(db, world.cadences["ask"], self.prospects(), now=self.tick())
                db.commit()

        @rule(people=st.sets(st.sampled_from(POOL), min_size=1))
        def import_people(self, people: set[str]) -> None:
            now = self.tick()
            csv = world.tmp / "people.csv"
            rows = [f"{email},{email.split('@')[0].title()},VP Sales" for email in sorted(people)]
            csv.write_text("email,first_name,title\n" + "\n".join(rows) + "\n")
            with self.session() as db:
                import_prospects(db, csv, now=now)
                db.commit()

        @rule(data=st.data(), again=st.booleans())
        def enrol(self, data: st.DataObject, again: bool) -> None:
            now = self.tick()
            people = self.prospects()
            if not people:
                return
            chosen = data.draw(st.lists(st.sampled_from(people), min_size=1, unique_by=id))
            path = EnrolPath.AGAIN if again else EnrolPath.COMMAND
            with self.session() as db:
                cadence = world.cadences["ask"]
                plan = plan_enrollment(db, cadence, chosen, now, path=path)
                enroll(db, cadence, plan.enrol, now=now, path=path)
                db.commit()

        @rule(data=st.data(), label=st.sampled_from(LABELS), referred=st.sampled_from(REFERRED))
        def reply(self, data: st.DataObject, label: ReplyLabel, referred: str) -> None:
            now = self.tick()
            with self.session() as db:
                mailed = list(
                    db.exec(
                        select(OutboundMessage).where(OutboundMessage.status == OutboundStatus.SENT)
                    )
                )
                if not mailed:
                    return
                answered = data.draw(st.sampled_from(mailed))
                classification = Classification(
                    label=label,
                    confidence=0.95,
                    referrals=(Referral(referred, "Ria Rex"),)
                    if label is ReplyLabel.REFERRAL
                    else (),
                    resume_after=(now + timedelta(days=2)).date()
                    if label is ReplyLabel.NOT_NOW
                    else None,
                    bounce=Bounce(
                        BounceKind.HARD,
                        "user unknown",
                        (BounceRecipient(answered.to_address, "5.1.1"),),
                    )
                    if label is ReplyLabel.BOUNCE
                    else None,
                )
                inbound = InboundMessage(
                    mailbox=MAILBOX,
                    uid=next(self.uids),
                    raw=b"Subject: Re: A question\r\n\r\nmy answer\r\n",
                    from_address=answered.to_address,
                    received_at=now,
                    prospect_id=answered.prospect_id,
                    outbound_id=answered.id,
                    label=str(label),
                    confidence=0.95,
                    classification=classification.to_json(),
                    status=InboundStatus.NEW,
                )
                db.add(inbound)
                db.flush()
                apply_actions(db, inbound.id or 0, world.settings, now=now)
                db.commit()
            world.seen[f"reply {label}"] += 1

        @rule(data=st.data(), forget=st.booleans())
        def unsubscribe_or_forget(self, data: st.DataObject, forget: bool) -> None:
            now = self.tick()
            address = data.draw(st.sampled_from(POOL + REFERRED))
            with self.session() as db:
                if forget:
                    forget_person(db, address, now=now)
                else:
                    add_suppression(db, address, now=now, reason="one-click", source="one-click")
                db.commit()
            self.final.setdefault(address, now)

        @rule(data=st.data(), pause=st.booleans())
        def account_pause_or_resume(self, data: st.DataObject, pause: bool) -> None:
            now = self.tick()
            domain = data.draw(st.sampled_from(sorted({a.split("@")[1] for a in POOL})))
            with self.session() as db:
                try:
                    account = find_account(db, domain)
                except SpearError:
                    return
                if pause:
                    pause_by_hand(db, account, now, "a person asked")
                else:
                    resume_account(db, account, now)
                db.commit()

        @rule(pause=st.booleans())
        def mailbox_pause_or_resume(self, pause: bool) -> None:
            now = self.tick()
            with self.session() as db:
                if pause:
                    pause_mailbox(db, world.config, MAILBOX, now, "a person asked")
                else:
                    resume_mailbox(db, world.config, MAILBOX, now)
                db.commit()

        @rule(data=st.data(), label=st.sampled_from(LABELS))
        def review_relabel(self, data: st.DataObject, label: ReplyLabel) -> None:
            now = self.tick()
            with self.session() as db:
                ids = list(db.exec(select(InboundMessage.id)))
                if not ids:
                    return
                item = data.draw(st.sampled_from(ids))
                try:
                    relabel(db, item or 0, label, world.settings, now=now, reviewer="rev")
                except SpearError:
                    db.rollback()
                    return
                db.commit()
            world.seen["relabelled"] += 1

        @rule()
        def review_undo(self) -> None:
            now = self.tick()
            with self.session() as db:
                try:
                    undo_last(db, "rev", world.settings, now=now)
                except SpearError:
                    db.rollback()
                    return
                db.commit()
            world.seen["undone"] += 1

        # -- what the daemon does -----------------------------------------------------------

        @rule(
            hours=st.integers(min_value=0, max_value=48),
            worker=st.sampled_from(["w1", "w2", None]),
            drop=st.booleans(),
        )
        def plan_and_dispatch(self, hours: int, worker: str | None, drop: bool) -> None:
            """A restarted dispatcher's pass; the server may drop the connection mid-body."""
            self.tick(hours=hours)
            self.plan()
            world.sink.data_answers[:] = ["drop"] if drop else []

            async def send() -> None:
                dispatcher = self.dispatcher(worker)
                try:
                    await dispatcher.run_once()
                finally:
                    await dispatcher.close()

            self.run(send())
            world.sink.data_answers.clear()

        @rule(worker=st.sampled_from(["w1", None]))
        def kill_mid_transaction(self, worker: str | None) -> None:
            """The process dies while the server takes the body: the row is left `sending`."""
            self.tick()
            self.plan()
            world.sink.received.clear()
            world.sink.data_delay = 0.3

            async def send_and_die() -> None:
                dispatcher = self.dispatcher(worker)
                task = asyncio.create_task(dispatcher.run_once())
                for _ in range(200):
                    if world.sink.received.is_set() or task.done():
                        break
                    await asyncio.sleep(0.01)
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                # Its connections and its liveness lock go with the process.
                await dispatcher.close()

            self.run(send_and_die())
            world.sink.data_delay = 0.0

        @rule()
        def reload_mid_batch(self) -> None:
            """SIGHUP retires the dispatcher while it sends: the message under way completes."""
            self.tick()
            self.plan()
            world.sink.received.clear()
            world.sink.data_delay = 0.2
            seen = len(world.sink.delivered)

            async def send_and_retire() -> None:
                dispatcher = self.dispatcher(None)
                task = asyncio.create_task(dispatcher.run_once())
                for _ in range(200):
                    if world.sink.received.is_set() or task.done():
                        break
                    await asyncio.sleep(0.01)
                dispatcher.retire()
                await task
                await dispatcher.close()

            self.run(send_and_retire())
            world.sink.data_delay = 0.0
            self.remember_sent()
            with self.session() as db:
                for delivered in world.sink.delivered[seen:]:
                    row = db.exec(
                        select(OutboundMessage).where(
                            OutboundMessage.message_id == delivered.message_id
                        )
                    ).first()
                    assert row is not None and row.status == OutboundStatus.SENT, row

        @rule()
        def settle_uncertain(self) -> None:
            """A person checks the server's log and settles each uncertain message truthfully."""
            now = self.tick()
            arrived = {d.message_id for d in world.sink.delivered}
            with self.session() as db:
                for row in uncertain_rows(db):
                    message_id = db.get(OutboundMessage, row.id).message_id  # type: ignore[union-attr]
                    outcome = Settlement.SENT if message_id in arrived else Settlement.NOT_SENT
                    settle(db, row.id, outcome, now, actor="rev")
                    world.seen[f"settled {outcome}"] += 1
                db.commit()

        # -- what must always hold ------------------------------------------------------------

        def remember_sent(self) -> None:
            with self.session() as db:
                for row in db.exec(select(OutboundMessage)):
                    self.sent.setdefault(
                        row.message_id,
                        Sent(row.id or 0, row.enrollment_id, row.step_id, row.to_address),
                    )

        @invariant()
        def no_means_no(self) -> None:
            self.remember_sent()
            delivered = [(d, self.sent[d.message_id]) for d in world.sink.delivered]
            world.seen["most delivered"] = max(world.seen["most delivered"], len(delivered))
            # No step twice.
            steps = [(s.enrollment_id, s.step_id) for _, s in delivered]
            assert len(steps) == len(set(steps)), steps
            with self.session() as db:
                replies = list(
                    db.exec(select(InboundMessage).where(InboundMessage.prospect_id.is_not(None)))  # type: ignore[union-attr]
                )
                emails = {p.id: p.email for p in db.exec(select(Prospect))}
                started = {e.id: utc(e.started_at) for e in db.exec(select(Enrollment))}  # type: ignore[arg-type]
                uncertain = list(
                    db.exec(
                        select(OutboundMessage).where(
                            OutboundMessage.status == OutboundStatus.UNCERTAIN
                        )
                    )
                )
            final = dict(self.final)
            for reply in replies:
                address = emails.get(reply.prospect_id)
                if address is None or reply.received_at is None:
                    continue
                at = utc(reply.received_at)
                hard_bounce = reply.label == str(ReplyLabel.BOUNCE)
                if reply.label == str(ReplyLabel.UNSUBSCRIBE) or hard_bounce:
                    final[address] = min(final.get(address, at), at)
                if reply.label in NOT_HUMAN or reply.label is None:
                    continue
                for sink_entry, sent in delivered:
                    if sent.address != address or sink_entry.at <= at:
                        continue
                    # Mailed after a human reply: only by a cadence started after it.
                    began = started.get(sent.enrollment_id)
                    assert began is not None and began > at, (
                        f"{address} mailed {sent.step_id} at {sink_entry.at} after replying "
                        f"{reply.label} at {at} (enrollment began {began})"
                    )
            for sink_entry, sent in delivered:
                since = final.get(sent.address)
                assert since is None or sink_entry.at <= since, (
                    f"{sent.address} mailed at {sink_entry.at}, gone since {since}"
                )
            world.seen["uncertain"] += len(uncertain)
            for row in uncertain:
                later = [
                    s
                    for _, s in delivered
                    if s.enrollment_id == row.enrollment_id and s.outbound_id > (row.id or 0)
                ]
                assert later == [], f"sent after uncertain row {row.id}: {later}"

    return ContactGuarantee


@pytest.fixture
def sink() -> Iterator[tuple[TimedSink, int]]:
    handler = TimedSink()
    with sink_in_thread(handler) as port:
        yield handler, port


def check(url: str, tmp: Path, sink: tuple[TimedSink, int]) -> None:
    upgrade(url)
    world = World(url, tmp, *sink)
    try:
        run_state_machine_as_test(
            machine_for(world),
            settings=settings(
                max_examples=EXAMPLES[world.engine.dialect.name],
                stateful_step_count=STEPS,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
            ),
        )
    finally:
        world.engine.dispose()
    print(sorted(world.seen.items()))
    # The run did what it is about: mail went out, people replied, reviewers changed their minds,
    # sends were left uncertain and settled.
    assert world.seen["most delivered"] >= 3, world.seen
    assert sum(n for k, n in world.seen.items() if k.startswith("reply")) > 0, world.seen
    assert world.seen["relabelled"] > 0 and world.seen["uncertain"] > 0, world.seen


def test_no_means_no_on_sqlite(
    sqlite_url: str, tmp_path: Path, sink: tuple[TimedSink, int]
) -> None:
    check(sqlite_url, tmp_path, sink)


@pytest.mark.postgres
def test_no_means_no_on_postgres(
    postgres_url: str, tmp_path: Path, sink: tuple[TimedSink, int]
) -> None:
    check(postgres_url, tmp_path, sink)


def test_the_model_sees_a_broken_promise(
    sqlite_url: str, tmp_path: Path, sink: tuple[TimedSink, int]
) -> None:
    """The checks are not vacuous: mailing someone who unsubscribed is caught."""
    upgrade(sqlite_url)
    world = World(sqlite_url, tmp_path, *sink)
    machine = machine_for(world)()
    machine.import_people({"ann@alpha.example"})
    with machine.session() as db:
        enroll(db, world.cadences["ask"], machine.prospects(), now=machine.clock.now())
        db.commit()
    machine.final["ann@alpha.example"] = machine.clock.now()  # as if she had unsubscribed
    machine.plan_and_dispatch(hours=1, worker=None, drop=False)
    with pytest.raises(AssertionError, match="gone since"):
        machine.no_means_no()
    world.engine.dispose()
