"""The interactive reviewer: one queued reply at a time, one key per decision.

The loop knows nothing of terminals: it reads keys and lines through the functions it is given
and writes text through another (`engine.cli.review` wires them to click, which reads single keys
in raw mode on a terminal and plain input otherwise). Each decision is its own transaction, so
quitting, or a crash, keeps every decision made so far.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import getaddresses

from sqlalchemy.engine import Engine
from sqlmodel import Session

from engine.classify import Referral, ReplyLabel
from engine.errors import SpearError
from engine.replies import ReplySettings
from engine.review.decisions import Outcome, accept, relabel, undo_last
from engine.review.explain import plan_for
from engine.review.formatting import label_text
from engine.review.queue import QueueFilter, QueueItem, get_item, list_queue, raw_text, reply_text
from engine.store.db import session_scope

REPLY_LINES = 30  # longer replies are cut in the item view; `v` shows the whole message

# The relabel menu: a digit and a letter for each label.
LABEL_KEYS: tuple[tuple[str, str, ReplyLabel], ...] = (
    ("1", "r", ReplyLabel.REFERRAL),
    ("2", "i", ReplyLabel.INTEREST),
    ("3", "n", ReplyLabel.NOT_NOW),
    ("4", "x", ReplyLabel.NOT_INTERESTED),
    ("5", "u", ReplyLabel.UNSUBSCRIBE),
    ("6", "w", ReplyLabel.WRONG_PERSON),
    ("7", "o", ReplyLabel.AUTO_REPLY),
    ("8", "b", ReplyLabel.BOUNCE),
    ("9", "c", ReplyLabel.UNCLEAR),
)

HELP = """\
  a  accept what Spear proposes (the label shown, or an unclear reply's best guess)
  r  relabel: then a digit or letter from the menu (the old label's actions are undone)
  e  edit: type a referral ("Jane Smith <jane@acme.com>") or a date (YYYY-MM-DD)
  s  skip this reply for now
  v  view the raw message
  u  undo your last decision
  q  quit (decisions made so far are kept)
  ?  this help"""

KEYS_LINE = "[a]ccept [r]elabel [e]dit [s]kip [v]iew raw [u]ndo [q]uit [?]help"


@dataclass(frozen=True)
class Terminal:
    """How the loop talks to a person: one key, one line (after a prompt), and text out."""

    read_key: Callable[[], str]  # "" at end of input
    read_line: Callable[[str], str]
    write: Callable[[str], None]


@dataclass
class Tally:
    accepted: int = 0
    relabelled: int = 0
    skipped: int = 0
    undone: int = 0

    def __str__(self) -> str:
        return (
            f"{self.accepted} accepted, {self.relabelled} relabelled, "
            f"{self.skipped} skipped, {self.undone} undone"
        )


@dataclass
class ReviewSession:
    engine: Engine
    settings: ReplySettings
    terminal: Terminal
    reviewer: str
    now: Callable[[], datetime]
    queue_filter: QueueFilter = field(default_factory=QueueFilter)
    only: int | None = None  # review this one message instead of the queue
    tally: Tally = field(default_factory=Tally)

    def run(self) -> Tally:
        pending = self._pending()
        position = 0
        while True:
            if position >= len(pending):
                self._say(
                    "No more replies to review. u: undo the last decision, any other key: quit"
                )
                if self._key() != "u":
                    break
                undone = self._undo()
                if undone is not None:
                    pending.insert(position, undone)
                continue
            step = self._review(pending[position], position + 1, len(pending))
            if step == "quit":
                break
            if isinstance(step, int):  # an undone decision: look at that reply again
                pending.insert(position, step)
            elif step == "next":
                position += 1
        self._say(f"Done: {self.tally}.")
        return self.tally

    # -- one item ---------------------------------------------------------------------------

    def _review(self, item_id: int, number: int, total: int) -> str | int:
        """Show one reply and act on keys until it is decided: "next", "quit", or the id of a
        reply whose decision was undone."""
        with session_scope(self.engine) as session:
            item = get_item(session, item_id)
            text = reply_text(session, item)
            plan = plan_for(session, item.id, item.proposed_label, self.settings)
        self._say(show_item(item, text, plan, number, total))
        while True:
            key = self._key()
            if key in ("q", ""):
                return "quit"
            if key == "?":
                self._say(HELP)
            elif key == "a":
                if self._decide(
                    lambda s: accept(
                        s, item.id, self.settings, now=self.now(), reviewer=self.reviewer
                    )
                ):
                    self.tally.accepted += 1
                    return "next"
            elif key == "r":
                if self._relabel(item):
                    self.tally.relabelled += 1
                    return "next"
            elif key == "e":
                if self._edit(item):
                    self.tally.relabelled += 1
                    return "next"
            elif key == "s":
                self.tally.skipped += 1
                return "next"
            elif key == "v":
                with session_scope(self.engine) as session:
                    self._say(raw_text(session, item.id))
                self._say(KEYS_LINE)
            elif key == "u":
                undone = self._undo()
                if undone is not None:
                    return undone
            else:
                self._say(f"Unknown key {key!r}. {KEYS_LINE}")

    def _relabel(self, item: QueueItem) -> bool:
        label = self._choose_label()
        if label is None:
            return False
        return self._decide(
            lambda s: relabel(
                s, item.id, label, self.settings, now=self.now(), reviewer=self.reviewer
            )
        )

    def _choose_label(self) -> ReplyLabel | None:
        self._say(
            "Relabel as: "
            + "  ".join(f"{digit}/{letter} {label}" for digit, letter, label in LABEL_KEYS)
            + "  (any other key: cancel)"
        )
        key = self._key()
        for digit, letter, label in LABEL_KEYS:
            if key in (digit, letter):
                return label
        self._say(f"Cancelled. {KEYS_LINE}")
        return None

    def _edit(self, item: QueueItem) -> bool:
        line = self.terminal.read_line(
            "Referral (Name <email>, several with commas) or date (YYYY-MM-DD), empty to cancel"
        ).strip()
        if not line:
            self._say(f"Cancelled. {KEYS_LINE}")
            return False
        try:
            edit = parse_edit(line, item.proposed_label)
        except ValueError as error:
            self._say(f"{error}. {KEYS_LINE}")
            return False
        return self._decide(
            lambda s: relabel(
                s,
                item.id,
                edit.label,
                self.settings,
                now=self.now(),
                reviewer=self.reviewer,
                referrals=edit.referrals,
                resume_after=edit.resume_after,
                return_date=edit.return_date,
            )
        )

    def _decide(self, decision: Callable[[Session], Outcome]) -> bool:
        try:
            with session_scope(self.engine) as session:
                outcome = decision(session)
        except SpearError as error:
            self._say(f"Not done: {error}. {KEYS_LINE}")
            return False
        record = outcome.decision
        self._say(f"#{record.inbound_id}: {record.old_label} -> {record.new_label} (saved)")
        for note in outcome.notes:
            self._say(f"  note: {note}")
        return True

    def _undo(self) -> int | None:
        try:
            with session_scope(self.engine) as session:
                decision = undo_last(session, self.reviewer, self.settings, now=self.now())
        except SpearError as error:
            self._say(f"Nothing undone: {error}.")
            return None
        self.tally.undone += 1
        self._say(
            f"Undone: #{decision.inbound_id} is back to {decision.old_label} "
            f"(was {decision.new_label})."
        )
        return decision.inbound_id

    # -- plumbing ---------------------------------------------------------------------------

    def _pending(self) -> list[int]:
        if self.only is not None:
            return [self.only]
        with session_scope(self.engine) as session:
            return [item.id for item in list_queue(session, self.queue_filter, self.now())]

    def _key(self) -> str:
        key = self.terminal.read_key()
        return key.lower() if len(key) == 1 else key[:1].lower()

    def _say(self, text: str) -> None:
        self.terminal.write(text)


# --- pure helpers -------------------------------------------------------------------------------


def show_item(item: QueueItem, text: str, plan: str, number: int, total: int) -> str:
    """The screen for one reply."""
    received = item.received_at.strftime("%Y-%m-%d %H:%M UTC") if item.received_at else "unknown"
    answers = "/".join(p for p in (item.cadence, item.step) if p) or "nothing we sent (unmatched)"
    account = f"{item.account_name} ({item.account})" if item.account_name else item.account
    lines = [
        f"── {number} of {total} ── message #{item.id} ── {received} ── mailbox {item.mailbox}",
        f"From:     {item.from_address or 'unknown'}"
        + (f"  (prospect {item.prospect_email})" if item.prospect_email else ""),
        f"Account:  {account or 'none'}",
        f"Answers:  {answers}",
        f"Subject:  {item.subject or ''}",
        f"Label:    {label_text(item)}",
    ]
    if item.reason:
        lines.append(f"Why here: {item.reason}")
    lines.append("")
    reply = text.strip().splitlines() or ["(no text)"]
    if len(reply) > REPLY_LINES:
        reply = [*reply[:REPLY_LINES], f"... ({len(reply) - REPLY_LINES} more lines: press v)"]
    lines += [textwrap.indent(line, "  ") if line else "" for line in reply]
    lines += ["", f"Accept as {item.proposed_label}: Spear will {plan}.", KEYS_LINE]
    return "\n".join(lines)


@dataclass(frozen=True)
class Edit:
    label: str
    referrals: list[Referral] | None = None
    resume_after: date | None = None
    return_date: date | None = None


def parse_edit(line: str, label: str) -> Edit:
    """A typed correction: a date (resume date, or return date for an auto-reply) or referrals.

    A date on anything but an auto-reply makes it `not-now`; referrals make it `referral`.
    """
    try:
        day = date.fromisoformat(line)
    except ValueError:
        day = None
    if day is not None:
        if label == ReplyLabel.AUTO_REPLY:
            return Edit(label, return_date=day)
        return Edit(str(ReplyLabel.NOT_NOW), resume_after=day)
    people = [(name.strip(), address.strip()) for name, address in getaddresses([line])]
    referrals = [
        Referral(email=address.lower(), name=name or None)
        for name, address in people
        if "@" in address
    ]
    if not referrals or len(referrals) != len(people):
        raise ValueError(f"not a date (YYYY-MM-DD) or a list of addresses: {line!r}")
    return Edit(str(ReplyLabel.REFERRAL), referrals=referrals)
