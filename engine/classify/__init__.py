"""Reply classification: raw message bytes in, a `Classification` out (pure, no I/O).

The rules compile a few hundred regular expressions when `classifier` is imported; commands that
only read stored results (`spear queue`, `spear status`) import this package for its types and
should not pay for that, so `classify_message` loads the classifier on its first call.
"""

from engine.classify.result import (
    DEFAULT_THRESHOLD,
    Bounce,
    BounceKind,
    BounceRecipient,
    Classification,
    Referral,
    ReplyLabel,
)


def classify_message(raw: bytes, *, threshold: float = DEFAULT_THRESHOLD) -> Classification:
    """Classify one message; never raises on bad input (see `engine.classify.classifier`)."""
    from engine.classify.classifier import classify_message as classify

    return classify(raw, threshold=threshold)


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
