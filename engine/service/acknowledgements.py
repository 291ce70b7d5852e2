"""Lead acknowledgements by webhook: the account executive's CRM says "I have this lead".

`POST /acknowledge` on the metrics endpoint (when `metrics.port` and `pipeline.acknowledge_secret`
are set) with the JSON body `{"domain": "acme.com", "by": "ada"}` and the header
`X-Spear-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>` (the signature Spear's
own webhooks carry) records a `lead.acknowledged` event for the account, as `spear account ack`
does: the first one after a hand-off ends the lead's wait for speed to lead.

Everything in the request is hostile until checked: the body is read up to `MAX_BODY` bytes, the
signature is compared in constant time before the body is parsed, and the answer never echoes
what was sent.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from engine.clock import Clock
from engine.errors import NotFoundError
from engine.prospects.account_control import find_account
from engine.prospects.sales import acknowledge
from engine.service.metrics import WsgiApp
from engine.service.webhooks import sign
from engine.store.db import session_scope

PATH = "/acknowledge"
MAX_BODY = 4096
SIGNATURE_HEADER = "HTTP_X_SPEAR_SIGNATURE"  # X-Spear-Signature, as WSGI names it
DEFAULT_ACTOR = "webhook"


@dataclass(frozen=True)
class Answer:
    status: str
    message: str


def verify(body: bytes, signature: str | None, secret: str) -> bool:
    return signature is not None and hmac.compare_digest(signature.strip(), sign(body, secret))


def parse(body: bytes) -> tuple[str, str]:
    """(domain, who) from the JSON body; ValueError naming what is wrong."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError("the body is not JSON") from None
    if not isinstance(document, dict):
        raise ValueError("the body must be a JSON object")
    domain, actor = document.get("domain"), document.get("by", DEFAULT_ACTOR)
    if not isinstance(domain, str) or not domain.strip() or len(domain) > 253:
        raise ValueError("domain must be a domain name")
    if not isinstance(actor, str) or not actor.strip() or len(actor) > 100:
        raise ValueError("by must be a short name")
    return domain, " ".join(actor.split())


def handle(engine: Engine, clock: Clock, secret: str, body: bytes, signature: str | None) -> Answer:
    if not verify(body, signature, secret):
        return Answer("401 Unauthorized", "bad or missing X-Spear-Signature")
    try:
        domain, actor = parse(body)
    except ValueError as exc:
        return Answer("400 Bad Request", str(exc))
    try:
        with session_scope(engine) as session:
            account = find_account(session, domain)
            acknowledge(session, account, now=clock.now(), actor=actor)
    except NotFoundError:
        return Answer("404 Not Found", "no such account")
    return Answer("200 OK", "acknowledged")


def acknowledgement_app(engine: Engine, clock: Clock, secret: str) -> WsgiApp:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            answer = Answer("405 Method Not Allowed", "POST only")
        else:
            answer = _answer(environ)
        start_response(answer.status, [("Content-Type", "text/plain; charset=utf-8")])
        return [answer.message.encode() + b"\n"]

    def _answer(environ: dict[str, Any]) -> Answer:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return Answer("400 Bad Request", "bad Content-Length")
        if length > MAX_BODY or length < 0:
            return Answer("413 Payload Too Large", f"at most {MAX_BODY} bytes")
        body = environ["wsgi.input"].read(length)
        return handle(engine, clock, secret, body, environ.get(SIGNATURE_HEADER))

    return app
