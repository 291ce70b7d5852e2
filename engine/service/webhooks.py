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
by `WEBHOOK_RETRY` (exponential backoff until a day after the event), then given up.

The event is a job of `engine.store.jobs`, and records the progress: `data["targets"][url]`
holds attempts, the next attempt and the last error. While one sender works on it its kind is
`webhook.sending` (a conditional update claims it, so two daemons never deliver one event at
once, and another takes it over when the claim's lease runs out); afterwards it goes back to
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
from datetime import datetime, timedelta
from typing import Any, NotRequired, cast

from sqlalchemy.engine import Engine

from engine import __version__
from engine.clock import Clock
from engine.config import Config, Webhook
from engine.errors import SpearError
from engine.store.events import EventKind
from engine.store.jobs import EventJobs, JobState, RetryPolicy
from engine.store.models import Event
from engine.store.payloads import WebhookRequest

log = logging.getLogger(__name__)

WAITING, WORKING = JobState(EventKind.WEBHOOK_PENDING), JobState(EventKind.WEBHOOK_SENDING)


class PendingWebhook(WebhookRequest):
    """`Event.data` of a webhook event: what the replies wrote, and the sender's progress."""

    targets: NotRequired[dict[str, dict[str, Any]]]
    next_attempt_at: NotRequired[str]
    first_attempt_at: NotRequired[str]
    claim: NotRequired[str]
    claimed_at: NotRequired[str]


class WebhookError(SpearError, ConnectionError):
    """One delivery attempt failed; it is retried until the deadline."""


# From the event: 30 seconds, doubling, at most an hour apart, for a day.
WEBHOOK_RETRY = RetryPolicy(
    first_delay=timedelta(seconds=30), max_delay=timedelta(hours=1), deadline=timedelta(hours=24)
)


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def pending_webhook(event: Event) -> PendingWebhook:
    return cast(PendingWebhook, event.data)


def webhook_body(event: Event) -> bytes:
    pending = pending_webhook(event)
    document = {
        "id": event.id,
        "event": pending["event"],
        "at": event.at.isoformat() if event.at else None,
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
        retry: RetryPolicy = WEBHOOK_RETRY,
        lease: timedelta = timedelta(minutes=10),
    ) -> None:
        self.config = config
        self.clock = clock
        self.timeout = timeout
        self.retry = retry
        self.jobs = EventJobs(engine, waiting=WAITING, working=WORKING, lease=lease)

    async def deliver_due(self, now: datetime | None = None) -> int:
        """Try every due pending event once; returns how many events were settled for good."""
        now = now or self.clock.now()
        claimed = await asyncio.to_thread(self._claim_due, now)
        outcomes = await asyncio.gather(*(self._deliver(event, now) for event in claimed))
        return sum(1 for kind in outcomes if kind != EventKind.WEBHOOK_PENDING)

    def _claim_due(self, now: datetime) -> list[Event]:
        claimed = (self.jobs.claim(event, now) for event in self.jobs.due(now))
        return [event for event in claimed if event is not None]

    async def _settle(self, event: Event, kind: EventKind, data: dict[str, Any]) -> None:
        await asyncio.to_thread(self.jobs.finish, event, JobState(kind), data)

    # --- one event ------------------------------------------------------------------------------

    async def _deliver(self, event: Event, now: datetime) -> EventKind:
        name = str(pending_webhook(event)["event"])
        webhooks = [w for w in self.config.webhooks if name in w.events]
        data = dict(event.data)
        targets: dict[str, dict[str, Any]] = dict(data.get("targets", {}))
        if not webhooks:
            await self._settle(event, EventKind.WEBHOOK_SKIPPED, data)
            log.info("webhook skipped: nothing subscribes", extra={"event_id": event.id})
            return EventKind.WEBHOOK_SKIPPED
        body = webhook_body(event)
        to_try = [w for w in webhooks if targets.get(w.url, {}).get("status") != "delivered"]
        results = await asyncio.gather(*(self._attempt(w, event, name, body) for w in to_try))
        data.setdefault("first_attempt_at", now.isoformat())
        began = event.at or datetime.fromisoformat(data["first_attempt_at"])
        for webhook, error in zip(to_try, results, strict=True):
            target = dict(targets.get(webhook.url, {}))
            target["attempts"] = int(target.get("attempts", 0)) + 1
            target["last_attempt_at"] = now.isoformat()
            if error is None:
                target.update(status="delivered", error=None, next_attempt_at=None)
            else:
                retry_at = self.retry.next_attempt(target["attempts"], began, now)
                target.update(
                    status="retrying" if retry_at else "failed",
                    error=error,
                    next_attempt_at=retry_at.isoformat() if retry_at else None,
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
        await self._settle(event, kind, data)
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


def _outcome(targets: list[dict[str, Any]]) -> EventKind:
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
