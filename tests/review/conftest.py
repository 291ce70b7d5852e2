"""A working folder for review tests: config, cadences and templates on disk, a migrated SQLite
database with one account (Dana and Sam, both in `outreach`, one email sent to Dana), and
replies written by hand that go through the real intake: classifier, matching and actions."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# The same small world the reply tests use (tests/replies is on the path as `replies`).
from replies.acme import START, mail_sam, seed_acme
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from engine.cadences import load_cadences
from engine.clock import FixedClock
from engine.config import load_config
from engine.replies import ReplySettings
from engine.replies.intake import FetchedMessage, process, store_raw
from engine.store.db import make_engine, session_scope, upgrade
from engine.store.models import (
    Account,
    Enrollment,
    Event,
    InboundMessage,
    MailboxState,
    Prospect,
    Suppression,
)

SENDER = "alex@example-sender.com"

CONFIG = """\
database: sqlite:///spear.db
timezone: UTC
review_threshold: 0.6
cadences_dir: cadences
templates_dir: templates
hand_off:
  account_executive: ae@example-sender.com
"""
OUTREACH = """\
name: {name}
audience:
  one_per_account: false
steps:
  - id: ask
    subject: Quick question
    template: ask
  - id: bump
    wait: 3 days
    template: ask
on_reply:
  referral: enrol referred
  not-now: enrol nurture at resume date
"""
TEMPLATE = "Hi {{ prospect.first_name }}, who looks after sales tooling?\n\nAlex\n"

# Replies the real classifier labels as the names say.
INTEREST = "Hi Alex,\r\n\r\nThis sounds interesting. Can we set up a call next week?\r\n\r\nDana"
NOT_INTERESTED = "Hi Alex,\r\n\r\nThanks, but we are not interested.\r\n\r\nDana"
REFERRAL_WITHOUT_ADDRESS = (
    "Hi Alex, you should talk to Jane Smith in our finance team about this.\r\n\r\nDana"
)
BELOW_THRESHOLD = "Happy to chat sometime, but not interested right now."  # unclear, guess n-i
UNCLEAR = "Thanks for reaching out."
OUT_OF_OFFICE = (
    "I am out of the office until June 15, 2026 with limited access to email. "
    "For urgent matters please contact bob.backup@acme.example."
)


@dataclass
class Workspace:
    root: Path
    engine: Engine
    settings: ReplySettings
    clock: FixedClock
    ids: dict[str, int] = field(default_factory=dict)
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def config_file(self) -> Path:
        return self.root / "spear.yaml"

    def receive(
        self,
        body: str,
        *,
        sender: str = "Dana Boss <dana@acme.example>",
        subject: str = "Re: Quick question",
        in_reply_to: str | None = "<o1@example-sender.com>",
        headers: str = "",
        mailbox: str = "alex",
    ) -> int:
        """Store and process a reply as intake does; returns the inbound id."""
        number = next(self._numbers)
        thread = (
            f"In-Reply-To: {in_reply_to}\r\nReferences: {in_reply_to}\r\n" if in_reply_to else ""
        )
        raw = (
            f"From: {sender}\r\nTo: {SENDER}\r\nSubject: {subject}\r\n"
            "Date: Tue, 02 Jun 2026 10:00:00 +0000\r\n"
            f"Message-ID: <reply-{number}@acme.example>\r\n"
            f"{thread}{headers}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"{body}\r\n"
        ).encode()
        fetched = FetchedMessage(mailbox, "INBOX", 1, number, raw)
        with session_scope(self.engine) as session:
            inbound = store_raw(session, fetched, now=self.clock.now())
            assert inbound is not None and inbound.id is not None
            process(session, inbound.id, self.settings, now=self.clock.now())
            return inbound.id

    def inbound(self, inbound_id: int) -> InboundMessage:
        with Session(self.engine) as session:
            row = session.get(InboundMessage, inbound_id)
            assert row is not None
            return row

    def get(self, model: type[Any], key: Any) -> Any:
        with Session(self.engine) as session:
            return session.get(model, key)

    def events(self, inbound_id: int) -> list[Event]:
        with Session(self.engine) as session:
            query = select(Event).where(Event.inbound_id == inbound_id).order_by(col(Event.id))
            return list(session.exec(query).all())

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every row a decision or the actions may change, for before/after comparisons."""
        tables: dict[str, Any] = {
            "accounts": Account,
            "prospects": Prospect,
            "enrollments": Enrollment,
            "suppressions": Suppression,
            "mailboxes": MailboxState,
            "inbound": InboundMessage,
        }
        with Session(self.engine) as session:
            return {
                name: [row.model_dump() for row in session.exec(select(model)).all()]
                for name, model in tables.items()
            }


def write_workspace(root: Path) -> None:
    (root / "cadences").mkdir(parents=True)
    (root / "templates").mkdir()
    (root / "spear.yaml").write_text(CONFIG)
    for name in ("outreach", "referred", "nurture"):
        (root / "cadences" / f"{name}.yaml").write_text(OUTREACH.format(name=name))
    (root / "templates" / "ask.txt.j2").write_text(TEMPLATE)


def build_world(workspace: Workspace) -> None:
    workspace.ids.update(
        seed_acme(workspace.engine, workspace.settings.cadences["outreach"].version)
    )
    mail_sam(workspace.engine, workspace.ids)  # Sam's replies without thread headers act


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    root = tmp_path / "work"
    write_workspace(root)
    config = load_config(root / "spear.yaml")
    upgrade(config.database_url)
    engine = make_engine(config.database_url)
    cadences = load_cadences(config.cadences_path, config.templates_path)
    settings = ReplySettings.from_config(config, cadences)
    space = Workspace(root, engine, settings, FixedClock(START))
    build_world(space)
    yield space
    engine.dispose()
