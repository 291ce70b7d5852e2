"""Prometheus metrics and `/healthz` on an optional local HTTP endpoint.

Two kinds of numbers. Gauges and totals read from the database on every scrape (`StatusCollector`
runs `collect_status`), so they are the truth of the shared database whichever daemon is scraped.
Process counters (`spear_daemon_*_total`) count what *this* process did since it started; the
daemon calls `Metrics.sent`, `.failed` and `.reply` as things happen.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine
from sqlmodel import Session

from engine.clock import Clock
from engine.config import Config
from engine.service.status import collect_status

log = logging.getLogger(__name__)


class StatusCollector(Collector):
    """Reads the database on each scrape; a database it cannot read gives `spear_database_up 0`."""

    def __init__(self, engine: Engine, config: Config, clock: Clock) -> None:
        self.engine = engine
        self.config = config
        self.clock = clock

    def describe(self) -> Iterable[Metric]:
        # Nothing: registering must not query the database.
        return []

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("spear_database_up", "1 if the last scrape could read the database")
        try:
            with Session(self.engine) as session:
                status = collect_status(session, self.config, self.clock.now())
        except sa.exc.SQLAlchemyError as exc:
            log.warning("metrics scrape cannot read the database: %s", exc.__class__.__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up

        mailbox = ["mailbox"]
        sent = CounterMetricFamily("spear_sent", "Messages sent, from the database", labels=mailbox)
        sent_today = GaugeMetricFamily(
            "spear_sent_today", "Messages sent since UTC midnight", labels=mailbox
        )
        failed = CounterMetricFamily(
            "spear_send_failed", "Outbox rows that failed for good", labels=mailbox
        )
        remaining = GaugeMetricFamily(
            "spear_mailbox_remaining_capacity",
            "Messages a mailbox may still send today (cap minus sent since UTC midnight)",
            labels=mailbox,
        )
        paused = GaugeMetricFamily("spear_mailbox_paused", "1 if paused", labels=mailbox)
        alarm = GaugeMetricFamily("spear_mailbox_alarm", "1 if an alarm is raised", labels=mailbox)
        for m in status.mailboxes:
            sent.add_metric([m.name], m.sent_total)
            sent_today.add_metric([m.name], m.sent_today)
            failed.add_metric([m.name], m.failed)
            if m.remaining_today is not None:
                remaining.add_metric([m.name], m.remaining_today)
            paused.add_metric([m.name], int(m.paused))
            alarm.add_metric([m.name], int(m.alarm is not None))
        yield from (sent, sent_today, failed, remaining, paused, alarm)

        replies = CounterMetricFamily(
            "spear_replies", "Classified inbound messages, by label", labels=["label"]
        )
        for label, count in sorted(status.replies_by_label.items()):
            replies.add_metric([label], count)
        yield replies

        outbox = GaugeMetricFamily("spear_outbox", "Outbox rows by status", labels=["status"])
        for outbox_status, count in sorted(status.outbox.items()):
            outbox.add_metric([outbox_status], count)
        yield outbox
        yield GaugeMetricFamily(
            "spear_outbox_queue", "Outbox rows still to send or resolve", value=status.queued
        )
        yield GaugeMetricFamily(
            "spear_outbox_uncertain",
            "Rows left mid-transaction by a crash, waiting for a person",
            value=status.uncertain,
        )
        yield GaugeMetricFamily(
            "spear_review_queue", "Inbound messages waiting for review", value=status.review_queue
        )
        yield GaugeMetricFamily(
            "spear_tasks_due",
            "Calls and other task steps due by now and waiting for a rep",
            value=status.tasks_due,
        )

        lag = GaugeMetricFamily(
            "spear_poll_lag_seconds",
            "Seconds since an IMAP folder was last polled (absent: never polled)",
            labels=["mailbox", "folder"],
        )
        for f in status.folders:
            if f.lag_seconds is not None:
                lag.add_metric([f.mailbox, f.folder], f.lag_seconds)
        yield lag


class Metrics:
    """The daemon's registry: database gauges plus counters of what this process did."""

    def __init__(self, engine: Engine, config: Config, clock: Clock) -> None:
        self.registry = CollectorRegistry()
        self._status = StatusCollector(engine, config, clock)
        self.registry.register(self._status)
        self._sent = Counter(
            "spear_daemon_sent",
            "Messages this process sent",
            ["mailbox"],
            registry=self.registry,
        )
        self._failed = Counter(
            "spear_daemon_send_failures",
            "Send attempts of this process that failed, by kind (temporary, permanent, auth...)",
            ["mailbox", "kind"],
            registry=self.registry,
        )
        self._replies = Counter(
            "spear_daemon_replies",
            "Replies this process classified, by label",
            ["label"],
            registry=self.registry,
        )

    def sent(self, mailbox: str) -> None:
        self._sent.labels(mailbox=mailbox).inc()

    def failed(self, mailbox: str, kind: str) -> None:
        self._failed.labels(mailbox=mailbox, kind=kind).inc()

    def reply(self, label: str) -> None:
        self._replies.labels(label=label).inc()

    def use_config(self, config: Config) -> None:
        """After a reload: capacities and folders follow the new configuration."""
        self._status.config = config


def database_health(engine: Engine) -> Callable[[], bool]:
    """A health check that passes while the database answers `SELECT 1`."""

    def healthy() -> bool:
        try:
            with engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            return False
        return True

    return healthy


# --- the HTTP endpoint --------------------------------------------------------------------------


class MetricsServer:
    """`/metrics` and `/healthz` served from a background thread; `close()` stops it."""

    def __init__(self, server: WSGIServer, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self._closed = False

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a slow scraper must not hold the process at exit


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        # One debug line instead of wsgiref's stderr access log.
        log.debug("metrics http: " + format, *args)


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def metrics_app(
    registry: CollectorRegistry,
    health: Callable[[], bool],
    routes: Mapping[str, WsgiApp] | None = None,
) -> WsgiApp:
    """`/healthz`, the `routes` given (path -> app), and Prometheus for everything else."""
    prometheus = make_wsgi_app(registry)
    routes = dict(routes or {})

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        route = routes.get(environ.get("PATH_INFO", ""))
        if route is not None:
            answered: Iterable[bytes] = route(environ, start_response)
            return answered
        if environ.get("PATH_INFO") == "/healthz":
            ok = _safe(health)
            start_response(
                "200 OK" if ok else "503 Service Unavailable",
                [("Content-Type", "text/plain; charset=utf-8")],
            )
            return [b"ok\n" if ok else b"unhealthy\n"]
        body: Iterable[bytes] = prometheus(environ, start_response)
        return body

    return app


def _safe(health: Callable[[], bool]) -> bool:
    try:
        return bool(health())
    except Exception:
        log.exception("health check raised")
        return False


def start_http(
    host: str,
    port: int,
    registry: CollectorRegistry,
    health: Callable[[], bool],
    routes: Mapping[str, WsgiApp] | None = None,
) -> MetricsServer:
    """Serve on `host:port` (port 0: any free port; read it back from `.port`)."""
    server = make_server(
        host,
        port,
        metrics_app(registry, health, routes),
        server_class=_ThreadingWSGIServer,
        handler_class=_QuietHandler,
    )
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.1},  # how long close() may wait for the loop to notice
        name="spear-metrics",
        daemon=True,
    )
    thread.start()
    log.info("metrics endpoint listening", extra={"url": f"http://{host}:{server.server_port}"})
    return MetricsServer(server, thread)
