"""Who may reach the web inbox: loopback by default, a password before anything wider.

The rule: the inbox listens on a loopback address unless a password is configured, and a
non-loopback `listen:` without one is refused at start. Passwords are kept as scrypt hashes
(`spear web hash-password` makes one) or read from the environment; they are compared in
constant time and never shown.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from engine.config import Web, is_loopback
from engine.errors import SpearError

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_SCHEME = "scrypt"


class AccessError(SpearError):
    """The inbox cannot be served safely as configured."""


def check_exposure(host: str, settings: Web | None) -> None:
    """Refuse a non-loopback address unless a password is set."""
    if is_loopback(host) or (settings is not None and has_password(settings)):
        return
    raise AccessError(
        f"refusing to serve the web inbox on {host}: a non-loopback address needs "
        "web.password_hash (spear web hash-password) or web.password in spear.yaml"
    )


def has_password(settings: Web) -> bool:
    return settings.password_hash is not None or settings.password is not None


def hash_password(password: str) -> str:
    """`scrypt$N$r$p$salt$hash`, salt and hash in base64."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join(
        (_SCHEME, str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest))
    )


def verify_password(settings: Web, password: str) -> bool:
    """Whether `password` is the configured one (hash or environment), in constant time."""
    if settings.password is not None:
        return hmac.compare_digest(password.encode(), settings.password.value.encode())
    if settings.password_hash is None:
        return False
    n, r, p, salt, digest = _parse(settings.password_hash)
    return hmac.compare_digest(_scrypt(password, salt, n, r, p), digest)


def _parse(value: str) -> tuple[int, int, int, bytes, bytes]:
    parts = value.split("$")
    try:
        scheme, n, r, p, salt, digest = parts
        if scheme != _SCHEME:
            raise ValueError(scheme)
        return int(n), int(r), int(p), _unb64(salt), _unb64(digest)
    except ValueError:
        raise AccessError(
            "web.password_hash is not a hash from `spear web hash-password`"
        ) from None


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=2**26)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)
