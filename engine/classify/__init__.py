"""Reply classification: raw message bytes in, a `Classification` out (pure, no I/O)."""

from engine.classify.classifier import DEFAULT_THRESHOLD, classify_message
from engine.classify.result import (
    Bounce,
    BounceKind,
    BounceRecipient,
    Classification,
    Referral,
    ReplyLabel,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "Bounce",
    "BounceKind",
    "BounceRecipient",
    "Classification",
    "Referral",
    "ReplyLabel",
    "classify_message",
]
