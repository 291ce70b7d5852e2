"""The RFC 8058 one-click endpoint: `POST /u/TOKEN` unsubscribes, `GET /u/TOKEN` asks first.

Mail providers (Gmail, Yahoo...) POST `List-Unsubscribe=One-Click` to the URL in
`List-Unsubscribe` when a recipient clicks their unsubscribe button: that suppresses the address
at once and answers 200. A person who opens the URL in a browser gets a small page with a confirm
button (the same POST), because link scanners and previews GET every URL in a message and must
never unsubscribe anyone. A malformed, tampered or unknown token gets the same bare 400, so the
endpoint tells an outsider nothing.

`serve` runs it under uvicorn on a socket bound first (a port in use is a one-line error, not an
exit), until a stop event is set; the daemon keeps its own signal handlers. The access log stays
off: the URLs name recipients.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
from collections.abc import Iterator
from urllib.parse import parse_qs

import sqlalchemy as sa
import uvicorn
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from engine.clock import Clock
from engine.config import OneClick
from engine.errors import SpearError
from engine.store.db import session_scope
from engine.unsubscribe.recipients import recipient_of, unsubscribe_by_token

log = logging.getLogger(__name__)

MAX_BODY = 4096  # `List-Unsubscribe=One-Click`, in a form: a few hundred bytes at most
ONE_CLICK_FIELD, ONE_CLICK_VALUE = "List-Unsubscribe", "One-Click"
_MULTIPART_FIELD = re.compile(
    rb'name="?List-Unsubscribe"?[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\n[ \t]*One-Click[ \t]*\r?\n'
)
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
}
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Unsubscribe</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 32em; margin: 4em auto; padding: 0 1em">
{content}
</body></html>
"""
_CONFIRM = """<p>Stop receiving these emails?</p>
<form method="post">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button>
</form>"""
_DONE = "<p>You are unsubscribed. You will receive no more of these emails.</p>"


class OneClickError(SpearError):
    """The one-click endpoint cannot be served (its port is taken, its address unusable)."""


def one_click_app(engine: Engine, settings: OneClick, clock: Clock) -> Starlette:
    secret = settings.secret.value

    def known(token: str) -> bool:
        with session_scope(engine) as session:
            return recipient_of(session, secret, token) is not None

    def unsubscribe(token: str) -> bool:
        try:
            with session_scope(engine) as session:
                return unsubscribe_by_token(session, secret, token, now=clock.now())
        except sa.exc.IntegrityError:
            # A second click (or the provider's retry) listed the address at the same moment:
            # once more, it finds the entry there and only confirms it.
            with session_scope(engine) as session:
                return unsubscribe_by_token(session, secret, token, now=clock.now())

    async def endpoint(request: Request) -> Response:
        token = request.path_params["token"]
        if request.method == "POST":
            body = await _bounded_body(request)
            if body is None or not _asks_one_click(request.headers.get("content-type", ""), body):
                return _bad_request()
            # The database work is blocking: keep it off the loop the daemon's jobs share.
            if not await asyncio.to_thread(unsubscribe, token):
                return _bad_request()
            return HTMLResponse(_PAGE.format(content=_DONE), headers=_HEADERS)
        if not await asyncio.to_thread(known, token):
            return _bad_request()
        return HTMLResponse(_PAGE.format(content=_CONFIRM), headers=_HEADERS)

    return Starlette(routes=[Route("/u/{token}", endpoint, methods=["GET", "POST"])])


async def serve(app: Starlette, settings: OneClick, stop: asyncio.Event) -> None:
    """Serve `app` on `settings.host`:`settings.port` until `stop` is set."""
    listener = _listen(settings.host, settings.port)
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="off", server_header=False
    )
    server = _Server(config)
    log.info("one-click unsubscribe listening on %s:%d", settings.host, settings.port)

    async def stop_when_asked() -> None:
        await stop.wait()
        server.should_exit = True

    watcher = asyncio.create_task(stop_when_asked())
    try:
        await server.serve(sockets=[listener])
    finally:
        watcher.cancel()
        listener.close()


class _Server(uvicorn.Server):
    """uvicorn without its own SIGINT/SIGTERM handlers: the daemon (or CLI) owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _listen(host: str, port: int) -> socket.socket:
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
        listener.setblocking(False)
    except OSError as exc:
        raise OneClickError(
            f"one-click unsubscribe cannot listen on {host}:{port}: {exc.strerror}"
        ) from None
    return listener


async def _bounded_body(request: Request) -> bytes | None:
    """The request body, or None when it is larger than a one-click form can be."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return body


def _asks_one_click(content_type: str, body: bytes) -> bool:
    """The body says `List-Unsubscribe=One-Click`, url-encoded or as multipart form data."""
    if content_type.split(";", 1)[0].strip().lower() == "multipart/form-data":
        return _MULTIPART_FIELD.search(body) is not None
    try:
        fields = parse_qs(body.decode("latin-1"), max_num_fields=10)
    except ValueError:  # more fields than a one-click form has
        return False
    return ONE_CLICK_VALUE in fields.get(ONE_CLICK_FIELD, [])


def _bad_request() -> Response:
    return PlainTextResponse("Bad request\n", status_code=400, headers=_HEADERS)
