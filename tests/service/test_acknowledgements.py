"""`POST /acknowledge` on a real loopback server: a signed acknowledgement ends a lead's wait for
speed to lead; unsigned, forged, oversized or malformed ones change nothing."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from engine.clock import FixedClock
from engine.config import config_from_document
from engine.service.acknowledgements import PATH, acknowledgement_app
from engine.service.metrics import MetricsServer, start_http
from engine.service.pipeline import lead_waits
from engine.service.webhooks import sign
from engine.store.events import EventKind
from engine.store.models import Account, Event

SECRET = "s3cret-for-tests"
NOW = datetime(2025, 6, 3, 15, tzinfo=UTC)


@pytest.fixture
def server(db_engine: Engine) -> Iterator[MetricsServer]:
    with Session(db_engine) as db:
        account = Account(domain="acme.com", name="Acme")
        db.add(account)
        db.flush()
        db.add(
            Event(
                at=NOW - timedelta(hours=2),
                kind=EventKind.ACCOUNT_HANDED_OFF,
                data={
                    "account_id": account.id,
                    "interest_at": (NOW - timedelta(hours=2)).isoformat(),
                },
            )
        )
        db.commit()
    app = acknowledgement_app(db_engine, FixedClock(NOW), SECRET)
    served = start_http("127.0.0.1", 0, CollectorRegistry(), lambda: True, {PATH: app})
    yield served
    served.close()


def post(server: MetricsServer, body: bytes, signature: str | None) -> tuple[int, str]:
    request = urllib.request.Request(server.url + PATH, data=body, method="POST")
    if signature is not None:
        request.add_header("X-Spear-Signature", signature)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode().strip()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode().strip()


def acknowledged(db_engine: Engine) -> list[Event]:
    with Session(db_engine) as db:
        return list(db.exec(select(Event).where(Event.kind == EventKind.LEAD_ACKNOWLEDGED)).all())


def test_a_signed_acknowledgement_ends_the_leads_wait(
    server: MetricsServer, db_engine: Engine
) -> None:
    body = json.dumps({"domain": "ACME.com", "by": "ada"}).encode()
    assert post(server, body, sign(body, SECRET)) == (200, "acknowledged")
    [event] = acknowledged(db_engine)
    assert event.actor == "ada" and event.data["domain"] == "acme.com"
    with Session(db_engine) as db:
        [wait] = lead_waits(db, NOW - timedelta(days=1), NOW + timedelta(days=1))
    assert wait.first_action_at == NOW and wait.interest_at == NOW - timedelta(hours=2)


def test_what_is_refused_changes_nothing(server: MetricsServer, db_engine: Engine) -> None:
    body = json.dumps({"domain": "acme.com"}).encode()
    assert post(server, body, None)[0] == 401
    assert post(server, body, sign(body, "another-secret"))[0] == 401
    assert post(server, body + b" ", sign(body, SECRET))[0] == 401  # the body was changed
    unknown = json.dumps({"domain": "nowhere.example"}).encode()
    assert post(server, unknown, sign(unknown, SECRET)) == (404, "no such account")
    for bad in (b"[1, 2]", b"not json", json.dumps({"domain": 7}).encode()):
        assert post(server, bad, sign(bad, SECRET))[0] == 400
    huge = json.dumps({"domain": "acme.com", "pad": "x" * 10_000}).encode()
    assert post(server, huge, sign(huge, SECRET))[0] == 413
    with urllib.request.urlopen(server.url + "/healthz", timeout=5) as response:
        assert response.status == 200  # the other routes still answer
    assert acknowledged(db_engine) == []


def test_the_secret_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPEAR_ACK", SECRET)
    config = config_from_document({"pipeline": {"acknowledge_secret": "${SPEAR_ACK}"}}, "x.yaml")
    assert config.pipeline.acknowledge_secret is not None
    assert config.pipeline.acknowledge_secret.value == SECRET
    assert SECRET not in repr(config)
