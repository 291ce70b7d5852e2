"""How fast the review queue lists: 1,000 queued replies among 5,000 in a temporary SQLite file.

    python scripts/bench_queue.py [--items 1000] [--applied 4000]

Bulk-inserts realistic rows (accounts, prospects, enrollments, sent emails, inbound replies with
their stored classification and raw message), then times `list_queue`, each formatter, and
`spear queue` end to end in a subprocess (interpreter start and imports included).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from engine.review.formatting import format_csv, format_json, format_table
from engine.review.queue import QueueFilter, list_queue
from engine.store.db import make_engine, upgrade
from engine.store.models import (
    Account,
    Enrollment,
    EnrollmentStatus,
    InboundMessage,
    InboundStatus,
    OutboundMessage,
    OutboundStatus,
    Prospect,
)

NOW = datetime(2026, 6, 2, 12, 0, tzinfo=UTC)
REPLIES = [
    ("unclear", 0.3, "not-interested", "Happy to chat sometime, but not interested right now."),
    ("referral", 1.0, None, "You should talk to Jane Smith in our finance team about this."),
    ("auto-reply", 0.95, None, "I am out of the office until June 15. Contact bob@{domain}."),
    ("unclear", 0.0, None, "Thanks for reaching out."),
    ("not-interested", 0.87, None, "Thanks, but we are not interested."),
]


def build(url: str, items: int, applied: int) -> None:
    upgrade(url)
    engine = make_engine(url)
    total = items + applied
    rng = random.Random(7)
    accounts = max(1, total // 5)
    with Session(engine) as session:
        session.execute(
            sa.insert(Account),
            [
                _row(Account(id=a + 1, domain=f"company{a}.example", name=f"Company {a}"))
                for a in range(accounts)
            ],
        )
        session.execute(
            sa.insert(Prospect),
            [
                _row(
                    Prospect(
                        id=p + 1,
                        email=f"person{p}@company{p % accounts}.example",
                        first_name=f"Person{p}",
                        account_id=p % accounts + 1,
                    )
                )
                for p in range(total)
            ],
        )
        session.execute(
            sa.insert(Enrollment),
            [
                _row(
                    Enrollment(
                        id=p + 1,
                        prospect_id=p + 1,
                        cadence=rng.choice(["referral-ask", "nurture"]),
                        cadence_version="v1",
                        status=EnrollmentStatus.STOPPED,
                        mailbox="alex",
                    )
                )
                for p in range(total)
            ],
        )
        session.execute(
            sa.insert(OutboundMessage),
            [
                _row(
                    OutboundMessage(
                        id=p + 1,
                        enrollment_id=p + 1,
                        prospect_id=p + 1,
                        step_id=rng.choice(["ask", "bump", "last"]),
                        mailbox="alex",
                        message_id=f"<o{p}@example-sender.com>",
                        to_address=f"person{p}@company{p % accounts}.example",
                        subject="Quick question",
                        raw=b"Subject: Quick question\r\n\r\nHi\r\n",
                        status=OutboundStatus.SENT,
                        scheduled_at=NOW - timedelta(days=3),
                    )
                )
                for p in range(total)
            ],
        )
        session.execute(
            sa.insert(InboundMessage), [_reply(n, n < items, rng) for n in range(total)]
        )
        session.commit()
    engine.dispose()


def _row(model: SQLModel) -> dict[str, Any]:
    """All columns, defaults included (a bulk INSERT does not apply the model's defaults)."""
    return model.model_dump()


def _reply(n: int, queued: bool, rng: random.Random) -> dict[str, Any]:
    label, confidence, guess, text = rng.choice(REPLIES)
    text = text.format(domain="company.example")
    raw = (
        f"From: person{n}@company.example\r\nSubject: Re: Quick question\r\n"
        f"Message-ID: <r{n}@company.example>\r\n\r\n{text}\r\n\r\n> Hi, who looks after...\r\n"
    ).encode()
    return _row(
        InboundMessage(
            id=n + 1,
            mailbox="alex",
            uid=n + 1,
            message_id=f"<r{n}@company.example>",
            raw=raw * 4,  # a realistic few kilobytes, never read by the listing
            from_address=f"person{n}@company.example",
            subject="Re: Quick question",
            received_at=NOW - timedelta(minutes=n),
            prospect_id=n + 1,
            outbound_id=n + 1,
            label=label,
            confidence=confidence,
            classification={
                "label": label,
                "confidence": confidence,
                "best_guess": guess,
                "reply_text": text,
                "referrals": [],
                "match": "in-reply-to",
            },
            status=InboundStatus.REVIEW if queued else InboundStatus.APPLIED,
            review_reason=f"{label} (best guess {guess})" if queued else None,
        )
    )


def timed(label: str, work: Callable[[], object], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    print(f"{label:<44} {best * 1000:8.1f} ms (best of {repeat})")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--applied", type=int, default=4000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        url = f"sqlite:///{root / 'bench.db'}"
        start = time.perf_counter()
        build(url, args.items, args.applied)
        print(
            f"built {args.items} queued + {args.applied} applied replies in "
            f"{time.perf_counter() - start:.1f} s"
        )
        engine = make_engine(url)
        with Session(engine) as session:
            items = list_queue(session, QueueFilter(), NOW)
            assert len(items) == args.items, len(items)
            timed(
                f"list_queue ({len(items)} items)", lambda: list_queue(session, QueueFilter(), NOW)
            )
            timed(
                "list_queue --all --days 30",
                lambda: list_queue(session, QueueFilter(include_applied_days=30), NOW),
            )
            timed("format_table", lambda: format_table(items))
            timed("format_json", lambda: format_json(items))
            timed("format_csv", lambda: format_csv(items))
            timed(
                "list_queue + format_table",
                lambda: format_table(list_queue(session, QueueFilter(), NOW)),
            )
        engine.dispose()
        (root / "spear.yaml").write_text("database: sqlite:///bench.db\n")
        command = [sys.executable, "-m", "engine", "--config", str(root / "spear.yaml"), "queue"]
        timed(
            "`spear queue` end to end (subprocess)",
            lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL),
            repeat=3,
        )
        timed(
            "`spear --version` (interpreter + imports)",
            lambda: subprocess.run(
                [sys.executable, "-m", "engine", "--version"], check=True, stdout=subprocess.DEVNULL
            ),
            repeat=3,
        )


if __name__ == "__main__":
    main()
