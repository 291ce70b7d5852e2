"""The one-click token: which recipient a `/u/TOKEN` URL unsubscribes, signed so none is guessed.

A token is `<prospect id>-<MAC>`: the MAC is HMAC-SHA256 under the configured secret over the id
and the address the message went to, cut to 128 bits and base64url-encoded. The address is in
the MAC but not in the token, so a URL in a proxy's log does not say who it belongs to, and a
token stops working if the id ever names someone else. Pure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

_TOKEN = re.compile(r"([1-9][0-9]{0,17})-([A-Za-z0-9_-]{22})")
_CONTEXT = b"spear one-click unsubscribe v1\0"


def make_token(secret: str, prospect_id: int, email: str) -> str:
    return f"{prospect_id}-{_mac(secret, prospect_id, email)}"


def token_prospect(token: str) -> int | None:
    """The prospect id a well-formed token names (not yet verified), or None."""
    match = _TOKEN.fullmatch(token)
    return int(match.group(1)) if match else None


def token_matches(secret: str, token: str, prospect_id: int, email: str) -> bool:
    """True when `token` was made with `secret` for this prospect and address."""
    return hmac.compare_digest(
        token.encode("ascii", "replace"), make_token(secret, prospect_id, email).encode()
    )


def one_click_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/u/{token}"


def _mac(secret: str, prospect_id: int, email: str) -> str:
    message = _CONTEXT + f"{prospect_id}\0{email.strip().lower()}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
