"""Mail that asks to unsubscribe by where it goes or what it answers, not by what it says. Pure.

Each message's `List-Unsubscribe` carries `mailto:TARGET?subject=unsubscribe`. A mailbox
provider's unsubscribe button (Gmail, Yahoo, Outlook.com, iCloud, Fastmail) and a recipient's
mail client both send a message to TARGET with that subject, often with a body that reads like an
auto-reply or nothing at all. So a message is an unsubscribe request, whatever its body says,
when:

- its subject is the unsubscribe subject (after any `Re:`/`Fwd:`, spaces and case), or
- a separate unsubscribe address is configured, the message is addressed to it, and it starts a
  conversation of its own (a reply in one of our threads is read as a reply, so a person answering
  outreach sent from that mailbox is never mistaken for an unsubscribe).

Whether it is acted on is decided later, like any reply: only for an address Spear has mailed.
"""

from __future__ import annotations

import re
from email.message import Message

from engine.classify.parse import body_text, header_addresses, header_text, referenced_message_ids
from engine.store.models import SuppressionSource

UNSUBSCRIBE_SUBJECT = "unsubscribe"  # the `?subject=` of the mailto, matched exactly
_PREFIXES = re.compile(
    r"^(?:\s*(?:re|fwd?|aw|wg|sv|vs|antw|tr|rv|res|enc|回复|答复|转发|轉寄|回覆)\s*(?:\[\d+\])?\s*[:：])+",
    re.IGNORECASE,
)
_RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To")


def is_unsubscribe_subject(subject: str) -> bool:
    """`unsubscribe`, `Re: Unsubscribe `, `AW:unsubscribe` -> True; `unsubscribe me` -> False."""
    bare = _PREFIXES.sub("", subject.strip())
    return " ".join(bare.split()).casefold() == UNSUBSCRIBE_SUBJECT


def unsubscribe_request(msg: Message, target: str | None) -> SuppressionSource | None:
    """`MAILTO` or `PROVIDER_REQUEST` when `msg` is an unsubscribe request (see above), else None.

    `target` is the configured separate unsubscribe address (None: each sending mailbox, where
    only the subject tells a request from a reply).
    """
    if not (is_unsubscribe_subject(header_text(msg, "Subject")) or _to_target(msg, target)):
        return None
    return SuppressionSource.PROVIDER_REQUEST if _machine_made(msg) else SuppressionSource.MAILTO


def _to_target(msg: Message, target: str | None) -> bool:
    if not target or referenced_message_ids(msg):
        return False
    wanted = target.strip().lower()
    return any(
        address.lower() == wanted for _, address in header_addresses(msg, *_RECIPIENT_HEADERS)
    )


def _machine_made(msg: Message) -> bool:
    """Sent by a program for the recipient (RFC 3834 Auto-Submitted), or with no text at all."""
    auto = header_text(msg, "Auto-Submitted").strip().lower()
    return (auto != "" and auto != "no") or not body_text(msg).strip()
