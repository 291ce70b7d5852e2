"""What the classifier decides about one inbound message.

These types are the contract between classification and the rest of Spear (polling, actions and
the review queue) and, through `Classification.to_json`, the `spear classify --json` output.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

# Below this confidence a reply's label is `unclear` and it waits for a person.
DEFAULT_THRESHOLD = 0.6


class ReplyLabel(StrEnum):
    REFERRAL = "referral"
    INTEREST = "interest"
    NOT_NOW = "not-now"
    NOT_INTERESTED = "not-interested"
    UNSUBSCRIBE = "unsubscribe"
    WRONG_PERSON = "wrong-person"
    AUTO_REPLY = "auto-reply"
    BOUNCE = "bounce"
    UNCLEAR = "unclear"


# Labels of mail no person wrote: it neither counts as a reply nor stops anyone's cadence.
NOT_A_PERSON = (ReplyLabel.AUTO_REPLY, ReplyLabel.BOUNCE)
HUMAN_LABELS = frozenset(ReplyLabel) - set(NOT_A_PERSON)


@dataclass(frozen=True)
class Referral:
    """Someone the replier points us to: an address, a name, or both."""

    email: str | None
    name: str | None


class BounceKind(StrEnum):
    HARD = "hard"  # the address is gone: prune it
    SOFT = "soft"  # temporary or policy failure: keep the address


@dataclass(frozen=True)
class BounceRecipient:
    address: str
    status: str | None  # enhanced status code such as "5.1.1", when the report gives one


@dataclass(frozen=True)
class Bounce:
    kind: BounceKind
    reason: str
    recipients: tuple[BounceRecipient, ...]


@dataclass(frozen=True)
class Classification:
    label: ReplyLabel
    confidence: float
    referrals: tuple[Referral, ...] = ()
    resume_after: date | None = None
    return_date: date | None = None
    alternate_emails: tuple[str, ...] = ()
    bounce: Bounce | None = None
    best_guess: ReplyLabel | None = None  # the label before the threshold turned it into unclear
    reply_text: str = ""  # the reply with quotes and signature stripped
    complaint: bool = False  # an ARF feedback report
    error: str | None = None

    def to_json(self, file: str | None = None) -> dict[str, object]:
        """The `spear classify --json` record: the contract's fields, plus "error" when set."""
        record: dict[str, object] = {
            "file": file,
            "label": str(self.label),
            "confidence": round(self.confidence, 3),
            "referrals": [{"email": r.email, "name": r.name} for r in self.referrals],
            "resume_after": _iso(self.resume_after),
            "return_date": _iso(self.return_date),
            "alternate_emails": list(self.alternate_emails),
            "bounce": _bounce_json(self.bounce),
        }
        if self.error is not None:
            record["error"] = self.error
        return record


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _bounce_json(bounce: Bounce | None) -> dict[str, object] | None:
    if bounce is None:
        return None
    return {
        "kind": str(bounce.kind),
        "reason": bounce.reason,
        "recipients": [{"address": r.address, "status": r.status} for r in bounce.recipients],
    }
