"""The harness's mail store: one directory on disk that both local servers work from.

Layout of the store directory:

    captured/000001.eml    every message accepted over SMTP, byte for byte as received
    captured/000001.json   its envelope: sender, recipients, arrival time (harness clock), size
    imap/                  the pymap maildir backend's base directory: its users and passwords
                           files, and one Maildir per harness user (the user's INBOX at its root)

Captured mail is written file-then-metadata, so a listing never sees a half-written message. INBOX
delivery writes the message into the Maildir's `tmp/` and renames it into `new/`, which is the
Maildir delivery protocol; pymap rescans the folder on every command (and once a second during
IDLE), so a delivered message shows up for connected clients without talking to the server.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from engine.clock import Clock, SystemClock
from engine.errors import NotFoundError, SpearError

UIDLIST_FILE = "dovecot-uidlist"  # where pymap's maildir backend keeps UIDVALIDITY and UIDs


class MailStoreError(SpearError):
    """The store directory is unusable, or a message in it cannot be read."""


@dataclass(frozen=True)
class CapturedMessage:
    """One message accepted over SMTP, with its envelope."""

    id: int
    mail_from: str
    rcpt_tos: tuple[str, ...]
    received_at: datetime
    size: int
    path: Path

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()

    def parse(self) -> EmailMessage:
        parsed = message_from_bytes(self.read_bytes(), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def summary(self) -> dict[str, Any]:
        """Envelope and headline fields, as `spear harness messages --json` prints them."""
        headers = self.parse()
        return {
            "id": self.id,
            "received_at": self.received_at.isoformat(),
            "mail_from": self.mail_from,
            "rcpt_tos": list(self.rcpt_tos),
            "size": self.size,
            "from": str(headers.get("From", "")),
            "to": str(headers.get("To", "")),
            "subject": str(headers.get("Subject", "")),
            "message_id": str(headers.get("Message-ID", "")),
        }


class MailStore:
    """Captured SMTP mail plus the harness users' Maildirs, under one directory."""

    def __init__(self, root: Path | str, clock: Clock | None = None) -> None:
        self.root = Path(root)
        self.clock: Clock = clock or SystemClock()
        self.captured_dir = self.root / "captured"
        self.imap_dir = self.root / "imap"
        try:
            self.captured_dir.mkdir(parents=True, exist_ok=True)
            self.imap_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MailStoreError(f"cannot create mail store {self.root}: {exc}") from exc
        self._last_id = max((_id_of(p) for p in self.captured_dir.glob("*.json")), default=0)

    # -- captured mail ---------------------------------------------------------------------

    def capture(self, mail_from: str, rcpt_tos: list[str], data: bytes) -> CapturedMessage:
        """Store one message accepted over SMTP and return its record."""
        self._last_id += 1
        message_id = self._last_id
        eml = self.captured_dir / f"{message_id:06d}.eml"
        _write_atomically(eml, data)
        captured = CapturedMessage(
            id=message_id,
            mail_from=mail_from,
            rcpt_tos=tuple(rcpt_tos),
            received_at=self.clock.now(),
            size=len(data),
            path=eml,
        )
        meta = {
            "mail_from": captured.mail_from,
            "rcpt_tos": list(captured.rcpt_tos),
            "received_at": captured.received_at.isoformat(),
            "size": captured.size,
        }
        _write_atomically(eml.with_suffix(".json"), json.dumps(meta, indent=2).encode())
        return captured

    def captured(self) -> list[CapturedMessage]:
        """Every captured message, oldest first."""
        return [self._load(meta) for meta in sorted(self.captured_dir.glob("*.json"))]

    def captured_since(self, last_id: int) -> list[CapturedMessage]:
        """Captured messages with an id above `last_id`, oldest first."""
        metas = sorted(p for p in self.captured_dir.glob("*.json") if _id_of(p) > last_id)
        return [self._load(meta) for meta in metas]

    def get(self, message_id: int) -> CapturedMessage:
        meta = self.captured_dir / f"{message_id:06d}.json"
        if not meta.exists():
            raise NotFoundError(f"no captured message {message_id} in {self.root}")
        return self._load(meta)

    def _load(self, meta_path: Path) -> CapturedMessage:
        try:
            meta = json.loads(meta_path.read_text())
            return CapturedMessage(
                id=_id_of(meta_path),
                mail_from=meta["mail_from"],
                rcpt_tos=tuple(meta["rcpt_tos"]),
                received_at=datetime.fromisoformat(meta["received_at"]),
                size=meta["size"],
                path=meta_path.with_suffix(".eml"),
            )
        except (OSError, ValueError, KeyError) as exc:
            raise MailStoreError(f"unreadable captured message {meta_path}: {exc}") from exc

    # -- user mailboxes ----------------------------------------------------------------------

    def maildir_path(self, user: str, folder: str = "INBOX") -> Path:
        """The Maildir holding `user`'s `folder` (pymap's `++` layout: subfolders are `.Name`)."""
        home = self.imap_dir / user.lower()
        return home if folder == "INBOX" else home / f".{folder}"

    def deliver(self, user: str, raw: bytes, folder: str = "INBOX") -> Path:
        """Put `raw` into `user`'s folder as a new, unseen message dated by the store's clock."""
        maildir = self.maildir_path(user, folder)
        for sub in ("tmp", "new", "cur"):
            (maildir / sub).mkdir(parents=True, exist_ok=True)
        name = f"{int(self.clock.now().timestamp())}.{uuid.uuid4().hex}.{socket.gethostname()}"
        tmp = maildir / "tmp" / name
        tmp.write_bytes(raw)
        # pymap takes the message's INTERNALDATE from the file's modification time.
        when = self.clock.now().timestamp()
        os.utime(tmp, (when, when))
        final = maildir / "new" / name
        os.replace(tmp, final)
        return final

    def reset_uidvalidity(self, user: str, folder: str = "INBOX") -> None:
        """Give `user`'s folder a new UIDVALIDITY, as a server does when a folder is recreated.

        pymap keeps UIDVALIDITY and the UID of each message in the folder's uidlist file;
        without it, the next command rebuilds the list with a fresh UIDVALIDITY and new UIDs.
        Clients still holding the folder selected should reconnect.
        """
        uidlist = self.maildir_path(user, folder) / UIDLIST_FILE
        uidlist.unlink(missing_ok=True)

    def inbox_count(self, user: str, folder: str = "INBOX") -> int:
        """How many messages sit in `user`'s folder (read from disk, not over IMAP)."""
        maildir = self.maildir_path(user, folder)
        return sum(len(list((maildir / sub).glob("*"))) for sub in ("new", "cur"))


def _id_of(path: Path) -> int:
    try:
        return int(path.stem)
    except ValueError:
        return 0


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
