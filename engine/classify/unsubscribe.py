"""Requests to stop that must never depend on how a reply's prose scores.

Three shapes: a mail provider's generated request (the recipient clicked "Unsubscribe" in Gmail,
Yahoo/AOL, Outlook.com, iCloud or Fastmail, and the provider mailed our `List-Unsubscribe` target
itself); any message whose Subject is just an unsubscribe word, which is what that `mailto:` asks
for, whatever the body or headers say; and a reply whose first line or whole text is a short
imperative ("remove", "stop", "配信停止") above however much quoted text.
"""

from __future__ import annotations

import re

from engine.classify.lexicon import combined

_WORDS = combined("unsubscribe_words")
_COURTESY = combined("courtesy")
# The whole line: the word, perhaps with courtesy words and punctuation around it.
_SHORT_REQUEST = re.compile(
    rf"^[\W_]*(?:(?:{_COURTESY})[\W_]*)*(?:{_WORDS})(?:[\W_]*(?:{_COURTESY}))*[\W_]*$",
    re.IGNORECASE,
)
# Providers' own wording when they send a request on a user's behalf (the Subject then
# normally carries the unsubscribe word as well).
_PROVIDER_REQUEST = re.compile(
    r"(automatically generated|sent automatically|generated automatically) (by|from) "
    r"(gmail|google|yahoo|aol|outlook|microsoft|hotmail|icloud|apple|mail|fastmail)|"
    r"(gmail|yahoo|aol|outlook\.com|icloud|fastmail)\b.{0,80}\bunsubscribe|"
    r"unsubscribe request|request to unsubscribe",
    re.IGNORECASE,
)
_REPLY_PREFIX = re.compile(
    r"^\s*((re|aw|sv|r|rif|res|antw|答复|回复|回覆|답장|회신)\s*[:：]\s*)+", re.I
)


def subject_request(subject: str) -> bool:
    """Whether the Subject is an unsubscribe request ("unsubscribe", "Abmelden", "退订")."""
    text = subject.strip()
    return bool(text) and len(text) <= 60 and bool(_SHORT_REQUEST.match(text))


def provider_request(subject: str, body: str) -> bool:
    """Whether a provider generated this request for its user (Gmail's "automatically
    generated" note, or an empty body under an unsubscribe Subject)."""
    bare_subject = _REPLY_PREFIX.sub("", subject)
    if subject_request(subject):
        return True
    head = body[:2000]
    return bool(_PROVIDER_REQUEST.search(head)) and (
        "unsubscribe" in head.lower() or subject_request(bare_subject)
    )


def short_request(text: str) -> bool:
    """Whether the reply's first line, or the whole of a short reply, asks to stop."""
    for line in text.split("\n"):
        if line.strip():
            return len(line) <= 80 and bool(_SHORT_REQUEST.match(line.strip()))
    return False
