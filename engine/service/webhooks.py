"""Webhooks: tell other systems (a CRM, a chat channel) about interest, referrals, bounces and
unsubscribes, without ever holding up the daemon.

The replies code records an `Event` of kind `webhook.pending` whose data is a `WebhookRequest`
(`{"event": "interest", "payload": {...}}`; one `TypedDict` for the writer and this reader).
`WebhookSender.deliver_due` finds the ones that are due and POSTs, to every configured webhook
that subscribes to that event, the JSON body

    {"id": <event id>, "event": "interest", "at": "<when it happened>", "data": {<payload>}}

with headers `X-Spear-Event`, `X-Spear-Delivery` (the event id: receivers use it to ignore a
repeat) and, when the webhook has a secret, `X-Spear-Signature: sha256=<hex HMAC-SHA256 of the
body>`. A 2xx answer is success; anything else, a time-out or a refused connection is retried
with exponential backoff until `deadline` after the event, then given up.

The event itself records the progress: `data["targets"][url]` holds attempts, the next attempt
and the last error. While one sender works on it its kind is `webhook.sending` (a conditional
update claims it, so two daemons never deliver one event at once); afterwards it goes back to
`webhook.pending`, or ends as `webhook.delivered` (every target answered 2xx), `webhook.failed`
(some target never did) or `webhook.skipped` (no webhook subscribes to it). Delivery is at least
once: a crash between the POST and the update repeats the POST.

HTTP runs in worker threads (`asyncio.to_thread` around urllib, with a time-out), so a slow or
dead receiver never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NotRequired, cast

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from engine import __version__
from engine.clock import Clock, utc
from engine.config import Config, Webhook
from engine.errors import SpearError
from engine.store.db import session_scope
from engine.store.events import EventKind
from engine.store.models import Event
from engine.store.payloads import WebhookRequest

log = logging.getLogger(__name__)


class PendingWebhook(WebhookRequest):
    """`Event.data` of a webhook event: what the replies wrote, and the sender's progress."""

    targets: NotRequired[dict[str, dict[str, Any]]]
    next_attempt_at: NotRequired[str]
    first_attempt_at: NotRequired[str]
    claimed_at: NotRequired[str]


class WebhookError(SpearError, ConnectionError):
    """One delivery attempt failed; it is retried until the deadline."""


@dataclass(frozen=True)
class Backoff:
    first: timedelta = timedelta(seconds=30)
    longest: timedelta = timedelta(hours=1)
    deadline: timedelta = timedelta(hours=24)  # counted from the event

    def delay(self, attempts: int) -> timedelta:
        """Wait after the `attempts`-th failed attempt: first, 2x first, 4x first ... longest."""
        wait: timedelta = self.first * 2 ** max(attempts - 1, 0)
        return min(wait, self.longest)


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def pending_webhook(event: Event) -> PendingWebhook:
    return cast(PendingWebhook, event.data)


def webhook_body(event: Event) -> bytes:
    pending = pending_webhook(event)
    document = {
        "id": event.id,
        "event": pending["event"],
        "at": utc(event.at).isoformat() if event.at else None,
        "data": pending["payload"],
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


class WebhookSender:
    def __init__(
        self,
        config: Config,
        engine: Engine,
        clock: Clock,
        *,
        timeout: float = 10.0,
        backoff: Backoff = Backoff(),
        stale_claim: timedelta = timedelta(minutes=10),
    ) -> None:
        self.config = config
        self.engine = engine
        self.clock = clock
        self.timeout = timeout
        self.backoff = backoff
        self.stale_claim = stale_claim

    async def deliver_due(self, now: datetime | None = None) -> int:
        """Try every due pending event once; returns how many events were settled for good."""
        now = utc(now or self.clock.now())
        self._release_stale_claims(now)
        claimed = [event for event in self._due(now) if self._claim(event, now)]
        outcomes = await asyncio.gather(*(self._deliver(event, now) for event in claimed))
        return sum(1 for kind in outcomes if kind != EventKind.WEBHOOK_PENDING)

    # --- the database side ----------------------------------------------------------------------

    def _due(self, now: datetime) -> list[Event]:
        with Session(self.engine) as session:
            pending = session.exec(
                select(Event).where(Event.kind == EventKind.WEBHOOK_PENDING).order_by(col(Event.id))
            ).all()
        return [e for e in pending if _next_attempt(e) <= now]

    def _claim(self, event: Event, now: datetime) -> bool:
        data = {**event.data, "claimed_at": now.isoformat()}
        with session_scope(self.engine) as session:
            claimed = session.execute(
                sa.update(Event)
                .where(col(Event.id) == event.id, col(Event.kind) == EventKind.WEBHOOK_PENDING)
                .values(kind=EventKind.WEBHOOK_SENDING, data=data)
            )
        event.data = data
        return bool(getattr(claimed, "rowcount", 0) == 1)

    def _release_stale_claims(self, now: datetime) -> None:
        """Give back events a crashed sender left claimed, so they are not stuck for ever."""
        with session_scope(self.engine) as session:
            for event in session.exec(
                select(Event).where(Event.kind == EventKind.WEBHOOK_SENDING)
            ).all():
                claimed_at = event.data.get("claimed_at")
                if claimed_at and datetime.fromisoformat(claimed_at) + self.stale_claim <= now:
                    event.kind = EventKind.WEBHOOK_PENDING
                    session.add(event)

    def _settle(self, event: Event, kind: str, data: dict[str, Any]) -> None:
        with session_scope(self.engine) as session:
            session.execute(
                sa.update(Event)
                .where(col(Event.id) == event.id, col(Event.kind) == EventKind.WEBHOOK_SENDING)
                .values(kind=kind, data=data)
            )

    # --- one event ------------------------------------------------------------------------------

    async def _deliver(self, event: Event, now: datetime) -> str:
        name = str(pending_webhook(event)["event"])
        webhooks = [w for w in self.config.webhooks if name in w.events]
        data = {k: v for k, v in event.data.items() if k != "claimed_at"}
        targets: dict[str, dict[str, Any]] = dict(data.get("targets", {}))
        if not webhooks:
            self._settle(event, EventKind.WEBHOOK_SKIPPED, data)
            log.info("webhook skipped: nothing subscribes", extra={"event_id": event.id})
            return EventKind.WEBHOOK_SKIPPED
        body = webhook_body(event)
        to_try = [w for w in webhooks if targets.get(w.url, {}).get("status") != "delivered"]
        results = await asyncio.gather(*(self._attempt(w, event, name, body) for w in to_try))
        data.setdefault("first_attempt_at", now.isoformat())
        first = utc(event.at) if event.at else datetime.fromisoformat(data["first_attempt_at"])
        deadline = first + self.backoff.deadline
        for webhook, error in zip(to_try, results, strict=True):
            target = dict(targets.get(webhook.url, {}))
            target["attempts"] = int(target.get("attempts", 0)) + 1
            target["last_attempt_at"] = now.isoformat()
            if error is None:
                target.update(status="delivered", error=None, next_attempt_at=None)
            else:
                retry_at = now + self.backoff.delay(target["attempts"])
                gave_up = retry_at > deadline
                target.update(
                    status="failed" if gave_up else "retrying",
                    error=error,
                    next_attempt_at=None if gave_up else retry_at.isoformat(),
                )
            targets[webhook.url] = target
        data["targets"] = targets
        # Only webhooks configured now count: one removed since the last attempt is forgotten.
        current = [targets[w.url] for w in webhooks]
        kind = _outcome(current)
        if kind == EventKind.WEBHOOK_PENDING:
            data["next_attempt_at"] = min(
                t["next_attempt_at"] for t in current if t["status"] == "retrying"
            )
        self._settle(event, kind, data)
        return kind

    async def _attempt(self, webhook: Webhook, event: Event, name: str, body: bytes) -> str | None:
        """POST once; None on success, else the reason it failed."""
        started = time.monotonic()
        try:
            status = await asyncio.to_thread(self._post, webhook, event, name, body)
        except WebhookError as exc:
            log.warning(
                "webhook attempt failed",
                extra=_log_fields(webhook, event, name, started, error=str(exc)),
            )
            return str(exc)
        log.info("webhook delivered", extra=_log_fields(webhook, event, name, started, status))
        return None

    def _post(self, webhook: Webhook, event: Event, name: str, body: bytes) -> int:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"spear/{__version__}",
            "X-Spear-Event": name,
            "X-Spear-Delivery": str(event.id),
        }
        if webhook.secret is not None:
            headers["X-Spear-Signature"] = sign(body, webhook.secret.value)
        request = urllib.request.Request(webhook.url, data=body, headers=headers, method="POST")
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            raise WebhookError(f"HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise WebhookError(f"{type(reason).__name__}: {reason}") from None
        if not 200 <= status < 300:
            raise WebhookError(f"HTTP {status}")
        return status


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # urllib would turn a redirected POST into a GET without the body: treat it as a failure.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _next_attempt(event: Event) -> datetime:
    at = event.data.get("next_attempt_at")
    return datetime.fromisoformat(at) if at else utc(event.at or datetime.min)


def _outcome(targets: list[dict[str, Any]]) -> str:
    statuses = {t["status"] for t in targets}
    if "retrying" in statuses:
        return EventKind.WEBHOOK_PENDING
    return EventKind.WEBHOOK_FAILED if "failed" in statuses else EventKind.WEBHOOK_DELIVERED


def _log_fields(
    webhook: Webhook,
    event: Event,
    name: str,
    started: float,
    status: int | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "event_id": event.id,
        "webhook_event": name,
        "url": webhook.url,
        "duration_ms": round((time.monotonic() - started) * 1000),
    }
    if status is not None:
        fields["http_status"] = status
    if error is not None:
        fields["error"] = error
    return fields
