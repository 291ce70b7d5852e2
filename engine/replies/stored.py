"""A `Classification` as stored on an inbound row (`InboundMessage.classification`) and back.

The stored record is `Classification.to_json()` plus what the actions and the review queue need
later: the best guess, the complaint flag, the stripped reply text, the error, how the message
was matched and, for an unsubscribe request (`engine.unsubscribe.requests`), its channel.
Actions read the record, never the classifier, so a re-classification by a person (which edits
the record) is acted on exactly like the classifier's own result.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from engine.classify import (
    Bounce,
    BounceKind,
    BounceRecipient,
    Classification,
    Referral,
    ReplyLabel,
)
from engine.store.models import SuppressionSource

REQUEST_KEY = "unsubscribe_request"
MAX_REPLY_TEXT = 4000  # enough for a person to read in the queue; the raw message is kept too


def to_record(
    classification: Classification,
    match_method: str,
    request: SuppressionSource | None = None,
) -> dict[str, Any]:
    record = classification.to_json()
    record.pop("file", None)
    record["best_guess"] = str(classification.best_guess) if classification.best_guess else None
    record["complaint"] = classification.complaint
    record["reply_text"] = classification.reply_text[:MAX_REPLY_TEXT]
    record["error"] = classification.error
    record["match"] = match_method
    if request is not None:
        record[REQUEST_KEY] = str(request)
    return record


def stored_request(record: dict[str, Any]) -> SuppressionSource | None:
    """The channel of an unsubscribe request the record was made for (None: an ordinary reply)."""
    value = record.get(REQUEST_KEY)
    return SuppressionSource(value) if value in set(SuppressionSource) else None


def from_record(record: dict[str, Any], label: str | None) -> Classification:
    """The classification a stored record describes; `label` is the row's (possibly edited) one."""
    bounce = record.get("bounce")
    return Classification(
        label=ReplyLabel(label or record.get("label") or ReplyLabel.UNCLEAR),
        confidence=float(record.get("confidence") or 0.0),
        referrals=tuple(
            Referral(email=r.get("email"), name=r.get("name")) for r in record.get("referrals", [])
        ),
        resume_after=_date(record.get("resume_after")),
        return_date=_date(record.get("return_date")),
        alternate_emails=tuple(record.get("alternate_emails", [])),
        bounce=_bounce(bounce) if isinstance(bounce, dict) else None,
        best_guess=ReplyLabel(record["best_guess"]) if record.get("best_guess") else None,
        reply_text=str(record.get("reply_text") or ""),
        complaint=bool(record.get("complaint")),
        error=record.get("error"),
    )


def _date(value: object) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None


def _bounce(data: dict[str, Any]) -> Bounce:
    return Bounce(
        kind=BounceKind(data["kind"]),
        reason=str(data.get("reason") or ""),
        recipients=tuple(
            BounceRecipient(address=r["address"], status=r.get("status"))
            for r in data.get("recipients", [])
        ),
    )
