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
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from engine.classify import Referral, ReplyLabel
from engine.errors import SpearError
from engine.replies import ReplySettings
from engine.review import claims
from engine.review.decisions import Outcome, accept, relabel, undo_last
from engine.review.explain import plan_for
from engine.review.formatting import label_text
from engine.review.queue import QueueFilter, QueueItem, get_item, list_queue, raw_text, reply_text
from engine.store.db import session_scope
from engine.store.models import InboundMessage

T = TypeVar("T")

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
    _decided: list[tuple[int, str]] = field(default_factory=list)  # (reply, tally key), in order

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
                    position = _back_to(pending, position, undone)
                continue
            step = self._review(pending[position], position + 1, len(pending))
            if step == "quit":
                break
            if isinstance(step, int):  # an undone decision: look at that reply again
                position = _back_to(pending, position, step)
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
            # Like the web inbox: a reply someone else has open is theirs until they let go.
            holder = claims.claim(session, item_id, self.reviewer, self.now())
            text = reply_text(session, item)
            plan = plan_for(session, item.id, item.proposed_label, self.settings)
            missing = missing_detail(session, item)
        if holder is not None:
            self._say(f"#{item.id}: {holder} is looking at this reply; passed over.")
            return "next"
        try:
            return self._act_on(item, text, plan, missing, number, total)
        finally:
            with session_scope(self.engine) as session:
                claims.release(session, item.id, self.reviewer)

    def _act_on(
        self,
        item: QueueItem,
        text: str,
        plan: str,
        missing: ReplyLabel | None,
        number: int,
        total: int,
    ) -> str | int:
        self._say(show_item(item, text, plan, number, total))
        while True:
            key = self._key()
            if key in ("q", ""):
                return "quit"
            if key == "?":
                self._say(HELP)
            elif key == "a":
                if self._accept(item, missing):
                    self._count(item.id, "accepted")
                    return "next"
            elif key == "r":
                if self._relabel(item):
                    self._count(item.id, "relabelled")
                    return "next"
            elif key == "e":
                if self._edit(item):
                    self._count(item.id, "relabelled")
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

    def _accept(self, item: QueueItem, missing: ReplyLabel | None) -> bool:
        """Accept; a not-now without a date or a referral without a person asks for it first,
        or nurture would never start and nobody would be enrolled."""
        if missing is None:
            return self._decide(
                item.id,
                lambda s: accept(s, item.id, self.settings, now=self.now(), reviewer=self.reviewer),
            )
        return self._relabel_with_details(item, missing)

    def _relabel(self, item: QueueItem) -> bool:
        label = self._choose_label()
        if label is None:
            return False
        return self._relabel_with_details(item, label)

    def _relabel_with_details(self, item: QueueItem, label: ReplyLabel) -> bool:
        referrals: list[Referral] | None = None
        resume_after: date | None = None
        if label is ReplyLabel.REFERRAL:
            referrals = self._ask(
                "Who did they refer you to? (Name <email>, several with commas; empty to cancel)",
                parse_referrals,
            )
            if referrals is None:
                return False
        elif label is ReplyLabel.NOT_NOW:
            resume_after = self._ask(
                "When to write again? (YYYY-MM-DD; empty to cancel)", parse_day
            )
            if resume_after is None:
                return False
        return self._decide(
            item.id,
            lambda s: relabel(
                s,
                item.id,
                label,
                self.settings,
                now=self.now(),
                reviewer=self.reviewer,
                referrals=referrals,
                resume_after=resume_after,
            ),
        )

    def _ask(self, prompt: str, parse: Callable[[str], T]) -> T | None:
        """A line parsed by `parse`, asked again after a mistake; None when left empty."""
        while True:
            line = self.terminal.read_line(prompt).strip()
            if not line:
                self._say(f"Cancelled. {KEYS_LINE}")
                return None
            try:
                return parse(line)
            except ValueError as error:
                self._say(str(error))

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
            item.id,
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
            ),
        )

    def _decide(self, item_id: int, decision: Callable[[Session], Outcome]) -> bool:
        try:
            with session_scope(self.engine) as session:
                # The lease may have run out while the reviewer thought; someone else may hold it.
                holder = claims.claim(session, item_id, self.reviewer, self.now())
                if holder is not None:
                    raise SpearError(f"{holder} is looking at this reply")
                outcome = decision(session)
                claims.release(session, item_id, self.reviewer)
        except SpearError as error:
            self._say(f"Not done: {error}. {KEYS_LINE}")
            return False
        record = outcome.decision
        self._say(f"#{record.inbound_id}: {record.old_label} -> {record.new_label} (saved)")
        for note in outcome.notes:
            self._say(f"  note: {note}")
        return True

    def _count(self, item_id: int, kind: str) -> None:
        setattr(self.tally, kind, getattr(self.tally, kind) + 1)
        self._decided.append((item_id, kind))

    def _undo(self) -> int | None:
        try:
            with session_scope(self.engine) as session:
                decision = undo_last(session, self.reviewer, self.settings, now=self.now())
        except SpearError as error:
            self._say(f"Nothing undone: {error}.")
            return None
        # The undone decision no longer counts as made (it may be one of an earlier session).
        if self._decided and self._decided[-1][0] == decision.inbound_id:
            _, kind = self._decided.pop()
            setattr(self.tally, kind, getattr(self.tally, kind) - 1)
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


def _back_to(pending: list[int], position: int, undone: int) -> int:
    """The position to review `undone` again at, keeping "N of M" true: a reply decided earlier
    in this session moves back to the front, one from elsewhere joins the list."""
    if undone in pending[:position]:
        pending.remove(undone)
        position -= 1
    pending.insert(position, undone)
    return position


def missing_detail(session: Session, item: QueueItem) -> ReplyLabel | None:
    """The proposed label, when accepting it needs a detail the classifier did not find: the
    date of a not-now, the person of a referral."""
    inbound = session.get(InboundMessage, item.id)
    found = inbound.classification if inbound is not None else {}
    if item.proposed_label == ReplyLabel.NOT_NOW and not found.get("resume_after"):
        return ReplyLabel.NOT_NOW
    if item.proposed_label == ReplyLabel.REFERRAL and not found.get("referrals"):
        return ReplyLabel.REFERRAL
    return None


def parse_day(line: str) -> date:
    try:
        return date.fromisoformat(line)
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD): {line!r}") from None


def parse_referrals(line: str) -> list[Referral]:
    people = [(name.strip(), address.strip()) for name, address in getaddresses([line])]
    referrals = [
        Referral(email=address.lower(), name=name or None)
        for name, address in people
        if "@" in address
    ]
    if not referrals or len(referrals) != len(people):
        raise ValueError(f"not a list of addresses (Name <email>, ...): {line!r}")
    return referrals


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
    try:
        referrals = parse_referrals(line)
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD) or a list of addresses: {line!r}") from None
    return Edit(str(ReplyLabel.REFERRAL), referrals=referrals)
