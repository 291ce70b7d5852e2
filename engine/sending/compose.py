"""The message itself: a short text/plain UTF-8 email, threaded, with List-Unsubscribe. Pure.

No HTML, no tracking pixel, no rewritten link: plain text is the point of the play. Every header
value that may come from prospect data (names, subjects, addresses) is cleaned of control
characters first, and the `email` package's policy then refuses anything that still looks like a
header break, so a CSV cell can never add a header of its own.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import quote

from engine.clock import utc
from engine.errors import SpearError
from engine.unsubscribe.requests import UNSUBSCRIBE_SUBJECT

# SMTP line endings, 8-bit allowed in bodies (aiosmtplib speaks 8BITMIME), lines folded at 78.
MESSAGE_POLICY = policy.SMTP.clone(max_line_length=78, raise_on_defect=True)

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")
_SPACES = re.compile(r"\s{2,}")
_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|antw|回复|答复)\s*[:：]\s*", re.IGNORECASE)


class ComposeError(SpearError, ValueError):
    """A message cannot be built: an address is malformed or a header value is unusable."""


@dataclass(frozen=True)
class Sender:
    address: str
    display_name: str = ""
    reply_to: str | None = None

    @property
    def domain(self) -> str:
        return self.address.rsplit("@", 1)[-1].lower()


@dataclass(frozen=True)
class Thread:
    """The first message of a thread: follow-ups answer it."""

    message_id: str
    subject: str


@dataclass(frozen=True)
class UnsubscribeLinks:
    """Where a recipient unsubscribes: a mailto address and, optionally, a one-click URL.

    `mailto` None means the sending mailbox itself, which Spear polls. `one_click_url` is the
    recipient's own https URL (see `engine.unsubscribe.tokens`).
    """

    mailto: str | None = None
    one_click_url: str | None = None


def new_message_id(domain: str) -> str:
    """A fresh `<random@domain>` Message-ID on the sender's domain."""
    return f"<{secrets.token_hex(16)}@{clean_header_value(domain).lower()}>"


def compose(
    *,
    sender: Sender,
    to_address: str,
    to_name: str,
    subject: str | None,
    body: str,
    message_id: str,
    date: datetime,
    thread: Thread | None = None,
    unsubscribe: UnsubscribeLinks | None = None,
) -> EmailMessage:
    """Build the message. `subject=None` (or a thread) makes a reply in the thread: `Re: ...`."""
    message = EmailMessage(policy=MESSAGE_POLICY)
    message["Date"] = format_datetime(utc(date))
    message["Message-ID"] = _checked_message_id(message_id)
    message["From"] = _address(sender.display_name, sender.address)
    message["To"] = _address(to_name, to_address)
    if sender.reply_to:
        message["Reply-To"] = _address("", sender.reply_to)
    message["Subject"] = thread_subject(subject, thread)
    if thread is not None:
        first = _checked_message_id(thread.message_id)
        message["In-Reply-To"] = first
        message["References"] = first
    if unsubscribe is not None:
        _add_unsubscribe(message, sender, unsubscribe)
    message["MIME-Version"] = "1.0"
    message.set_content(_normalise_body(body), subtype="plain", charset="utf-8")
    return message


def message_bytes(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=MESSAGE_POLICY)


def thread_subject(subject: str | None, thread: Thread | None) -> str:
    """A first message keeps its subject; a follow-up is `Re: ` + the thread's subject."""
    if thread is None:
        if subject is None:
            raise ComposeError("the first message of a thread needs a subject")
        return clean_header_value(subject)
    base = _REPLY_PREFIX.sub("", clean_header_value(thread.subject))
    return f"Re: {base}"


def clean_header_value(value: str) -> str:
    """`value` with CR, LF and other control characters turned into single spaces."""
    value = unicodedata.normalize("NFC", value)
    return _SPACES.sub(" ", _CONTROL.sub(" ", value)).strip()


def restamp_date(raw: bytes, when: datetime) -> bytes:
    """`raw` with its Date header set to `when`: the message is built when planned, sent later."""
    stamp = f"Date: {format_datetime(utc(when))}\r\n".encode("ascii")
    head, separator, tail = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    for index, line in enumerate(lines):
        if line[:5].lower() == b"date:":
            lines[index] = stamp[:-2]
            return b"\r\n".join(lines) + separator + tail
    return stamp + raw


def _address(name: str, address: str) -> str:
    address = address.strip()
    if _CONTROL.search(address) or " " in address:
        raise ComposeError(f"not a usable email address: {address!r}")
    username, at, domain = address.rpartition("@")
    if not at or not username or not domain:
        raise ComposeError(f"not a usable email address: {address!r}")
    try:
        return str(Address(display_name=clean_header_value(name), username=username, domain=domain))
    except (ValueError, IndexError) as exc:
        raise ComposeError(f"not a usable email address: {address!r} ({exc})") from None


def _checked_message_id(message_id: str) -> str:
    if not re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", message_id):
        raise ComposeError(f"not a Message-ID: {message_id!r}")
    return message_id


def _add_unsubscribe(message: EmailMessage, sender: Sender, links: UnsubscribeLinks) -> None:
    # The sending mailbox itself by default (not Reply-To, which Spear may not poll), with the
    # subject Spear recognises in what comes back (engine.unsubscribe.requests).
    mailto = clean_header_value(links.mailto or sender.address)
    entries = [f"<mailto:{quote(mailto, safe='@+')}?subject={quote(UNSUBSCRIBE_SUBJECT)}>"]
    url = clean_header_value(links.one_click_url or "")
    one_click = url.lower().startswith("https://") and not re.search(r"[\s<>,\"]", url)
    if one_click:
        entries.append(f"<{url}>")
    message["List-Unsubscribe"] = ", ".join(entries)
    if one_click:
        # RFC 8058: the https URL accepts a POST with this body, no confirmation page.
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"


def _normalise_body(body: str) -> str:
    text = unicodedata.normalize("NFC", body).replace("\r\n", "\n").replace("\r", "\n")
    return text if text.endswith("\n") else text + "\n"
