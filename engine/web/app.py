"""The web inbox as a Starlette app: pages, forms, and the rules that keep it safe.

- Every page needs a signed-in reviewer. Without a password (loopback only, see `access`) the
  browser is signed in as the default reviewer and may pick another name; with one, the sign-in
  form asks for it.
- The session is a signed cookie: HttpOnly, SameSite=Strict, Secure when served over TLS. It holds
  the reviewer's name and a CSRF token that every POST form carries back.
- Templates autoescape, and the Content-Security-Policy allows only the package's own script and
  style: a reply's text is shown as text, and even a mistake in a template could not run it.
- Database work runs in the thread pool, one transaction per request, as `spear review` does.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.clock import Clock
from engine.config import Config, Web
from engine.errors import NotFoundError, SpearError
from engine.replies import ReplySettings
from engine.review import claims
from engine.review.queue import QueueFilter, raw_text
from engine.review.session import HELP, LABEL_KEYS
from engine.store.db import session_scope
from engine.web import access, reviewing

STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "spear_session"
SESSION_MAX_AGE = 12 * 3600  # a working day
MAX_NAME = 64
FILTER_KEYS = ("label", "mailbox", "cadence", "account", "since", "until")

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]

T = TypeVar("T")


@dataclass
class Inbox:
    """What every page needs: the database, the configuration, the reply rules and the clock."""

    engine: Engine
    config: Config
    settings: ReplySettings
    clock: Clock
    default_reviewer: str
    pages: Environment = field(
        default_factory=lambda: Environment(
            loader=PackageLoader("engine.web", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    )

    @property
    def web(self) -> Web:
        return self.config.web or Web()


def create_app(inbox: Inbox) -> Starlette:
    pages = Pages(inbox)
    secure = inbox.web.tls_cert is not None or inbox.web.behind_tls
    return Starlette(
        routes=[
            Route("/", pages.home),
            Route("/signin", pages.signin, methods=["GET", "POST"]),
            Route("/signout", pages.signout, methods=["POST"]),
            Route("/queue", pages.queue),
            Route("/queue/next", pages.next_reply),
            Route("/reply/{item_id:int}", pages.reply),
            Route("/reply/{item_id:int}/raw", pages.raw),
            Route("/reply/{item_id:int}/decide", pages.decide, methods=["POST"]),
            Route("/reply/{item_id:int}/skip", pages.skip, methods=["POST"]),
            Route("/reply/{item_id:int}/claim", pages.renew, methods=["POST"]),
            Route("/undo", pages.undo, methods=["POST"]),
            *pages.more_routes(),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        exception_handlers={CsrfError: refuse_csrf, SignInFirst: to_signin},
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=secrets.token_urlsafe(32),  # sessions end when the server restarts
                session_cookie=SESSION_COOKIE,
                max_age=SESSION_MAX_AGE,
                same_site="strict",
                https_only=secure,
            ),
        ],
    )


class SecurityHeaders:
    """The same protective headers on every response, static files and errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


class Pages:
    """The endpoints. Each reads the request, does its work in one transaction, answers."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    def more_routes(self) -> list[Route]:
        """The pages around the queue (accounts, mailboxes, outbox, report)."""
        from engine.web.around import around_routes

        return around_routes(self)

    # -- signing in -------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        return RedirectResponse("/queue", status_code=303)

    async def signin(self, request: Request) -> Response:
        needs_password = access.has_password(self.inbox.web)
        notice = None
        if request.method == "POST":
            form = await request.form()
            self.check_csrf(request, form)
            name = " ".join(str(form.get("name") or "").split())[:MAX_NAME]
            password = str(form.get("password") or "")
            ok = bool(name) and (
                not needs_password
                or await run_in_threadpool(access.verify_password, self.inbox.web, password)
            )
            if ok:
                request.session["reviewer"] = name
                request.session["csrf"] = secrets.token_urlsafe(32)  # a new session, a new token
                return RedirectResponse("/queue", status_code=303)
            if needs_password:
                await run_in_threadpool(time.sleep, 1.0)  # slows guessing down
            notice = "Wrong name or password." if needs_password else "Type your name."
        return self.render(
            request,
            "signin.html",
            needs_password=needs_password,
            notice=notice,
            current=request.session.get("reviewer", ""),
        )

    async def signout(self, request: Request) -> Response:
        await self.posted(request)
        request.session.clear()
        return RedirectResponse("/signin", status_code=303)

    def reviewer(self, request: Request) -> str | None:
        """The signed-in reviewer; without a password, the default one until they pick a name."""
        name = request.session.get("reviewer")
        if name is None and not access.has_password(self.inbox.web):
            name = request.session["reviewer"] = self.inbox.default_reviewer
        return str(name) if name is not None else None

    def signed_in(self, request: Request) -> str:
        """The reviewer, or `SignInFirst` (answered with the sign-in page)."""
        reviewer = self.reviewer(request)
        if reviewer is None:
            raise SignInFirst()
        return reviewer

    async def posted(self, request: Request) -> FormData:
        """The form of a POST that carries this session's CSRF token."""
        form = await request.form()
        self.check_csrf(request, form)
        return form

    async def in_session(self, work: Callable[[Session], T]) -> T:
        """`work` in one transaction, on the thread pool."""

        def run() -> T:
            with session_scope(self.inbox.engine) as session:
                return work(session)

        return await run_in_threadpool(run)

    def check_csrf(self, request: Request, form: FormData) -> None:
        expected = request.session.get("csrf")
        given = form.get("csrf")
        if not (
            isinstance(expected, str)
            and isinstance(given, str)
            and hmac.compare_digest(expected, given)
        ):
            raise CsrfError()

    # -- the queue --------------------------------------------------------------------------

    async def queue(self, request: Request) -> Response:
        reviewer = self.signed_in(request)
        params = filter_params(request.query_params)
        queue_filter = to_queue_filter(params)
        page = _int(request.query_params.get("page"), 1)

        listing = await self.in_session(
            lambda session: reviewing.queue_page(session, queue_filter, page, reviewer, self.now())
        )
        return self.render(
            request,
            "queue.html",
            listing=listing,
            params=params,
            query=urlencode(params),
            mailboxes=[m.name for m in self.inbox.config.mailboxes],
            cadences=sorted(self.inbox.settings.cadences),
        )

    async def next_reply(self, request: Request) -> Response:
        reviewer = self.signed_in(request)
        params = filter_params(request.query_params)
        after = _int(request.query_params.get("after"), 0) or None

        found = await self.in_session(
            lambda session: reviewing.next_reply(
                session, to_queue_filter(params), after, reviewer, self.now()
            )
        )
        query = urlencode(params)
        if found is None:
            request.session["flash"] = "Nothing more after that one in this queue."
            return RedirectResponse(f"/queue?{query}", status_code=303)
        return RedirectResponse(f"/reply/{found}?{query}", status_code=303)

    async def reply(self, request: Request) -> Response:
        reviewer = self.signed_in(request)
        params = filter_params(request.query_params)
        item_id = int(request.path_params["item_id"])

        def work(session: Session) -> reviewing.ReplyView:
            return reviewing.reply_view(
                session, item_id, to_queue_filter(params), self.inbox.settings, reviewer, self.now()
            )

        try:
            view = await self.in_session(work)
        except NotFoundError as error:
            return self.render(request, "notice.html", status_code=404, notice=str(error))
        return self.render(
            request,
            "reply.html",
            view=view,
            params=params,
            query=urlencode(params),
            label_keys=[(digit, letter, str(label)) for digit, letter, label in LABEL_KEYS],
            help_text=HELP,
        )

    async def raw(self, request: Request) -> Response:
        self.signed_in(request)
        item_id = int(request.path_params["item_id"])

        try:
            text = await self.in_session(lambda session: raw_text(session, item_id))
        except NotFoundError as error:
            return PlainTextResponse(str(error), status_code=404)
        # text/plain with nosniff: the browser shows the bytes, it never interprets them.
        return PlainTextResponse(text)

    async def decide(self, request: Request) -> Response:
        reviewer = self.signed_in(request)
        form = await self.posted(request)
        item_id = int(request.path_params["item_id"])
        params = filter_params(form)
        try:
            move = reviewing.Move(str(form.get("move")))
        except ValueError:
            return PlainTextResponse("unknown decision", status_code=400)

        def work(session: Session) -> str:
            outcome = reviewing.decide(
                session,
                item_id,
                move,
                self.inbox.settings,
                reviewer=reviewer,
                now=self.now(),
                seen=str(form.get("seen") or ""),
                label=str(form.get("new_label") or "") or None,
                edit=str(form.get("edit") or "") or None,
            )
            record = outcome.decision
            notes = "".join(f" Note: {note}." for note in outcome.notes)
            return f"#{record.inbound_id}: {record.old_label} → {record.new_label} (saved).{notes}"

        try:
            request.session["flash"] = await self.in_session(work)
        except SpearError as error:
            request.session["flash"] = f"Not done: {error}."
            return RedirectResponse(f"/reply/{item_id}?{urlencode(params)}", status_code=303)
        return _to_next(item_id, params)

    async def skip(self, request: Request) -> Response:
        reviewer = self.signed_in(request)
        form = await self.posted(request)
        item_id = int(request.path_params["item_id"])

        await self.in_session(lambda session: reviewing.skip(session, item_id, reviewer))
        return _to_next(item_id, filter_params(form))

    async def renew(self, request: Request) -> Response:
        """Keep the lease while the reply stays open (the page asks every few minutes)."""
        reviewer = self.signed_in(request)
        await self.posted(request)
        item_id = int(request.path_params["item_id"])
        holder = await self.in_session(
            lambda session: claims.claim(session, item_id, reviewer, self.now())
        )
        if holder is not None:
            return PlainTextResponse(f"{holder} is looking at this reply", status_code=409)
        return PlainTextResponse("yours")

    async def undo(self, request: Request) -> Response:
        reviewer = self.signed_in(request)
        form = await self.posted(request)
        params = filter_params(form)

        try:
            item_id = await self.in_session(
                lambda session: reviewing.undo(
                    session, self.inbox.settings, reviewer=reviewer, now=self.now()
                )
            )
        except SpearError as error:
            request.session["flash"] = f"Nothing undone: {error}."
            return RedirectResponse(f"/queue?{urlencode(params)}", status_code=303)
        request.session["flash"] = f"Undone: #{item_id} is back as it was."
        return RedirectResponse(f"/reply/{item_id}?{urlencode(params)}", status_code=303)

    # -- plumbing ---------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.inbox.clock.now()

    def render(
        self, request: Request, template: str, *, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        if "csrf" not in request.session:
            request.session["csrf"] = secrets.token_urlsafe(32)
        page = self.inbox.pages.get_template(template).render(
            csrf=request.session["csrf"],
            reviewer=request.session.get("reviewer"),
            flash=request.session.pop("flash", None),
            path=request.url.path,
            **context,
        )
        return HTMLResponse(page, status_code=status_code)


class CsrfError(SpearError):
    """A POST without this session's token: refused."""


class SignInFirst(SpearError):
    """A page asked for before signing in."""


async def refuse_csrf(request: Request, error: Exception) -> Response:
    return PlainTextResponse("missing or wrong CSRF token", status_code=403)


async def to_signin(request: Request, error: Exception) -> Response:
    return RedirectResponse("/signin", status_code=303)


# --- filters ------------------------------------------------------------------------------------


def filter_params(source: Mapping[str, Any]) -> dict[str, str]:
    """The queue filters found in a query string or form, only the known keys, only set ones."""
    return {
        key: str(source.get(key)).strip()[:200]
        for key in FILTER_KEYS
        if source.get(key) and str(source.get(key)).strip()
    }


def to_queue_filter(params: Mapping[str, str]) -> QueueFilter:
    since = reviewing.parse_day(params.get("since"))
    until = reviewing.parse_day(params.get("until"))
    label = params.get("label")
    return QueueFilter(
        labels=(label,) if label in reviewing.labels() else (),
        mailbox=params.get("mailbox") or None,
        cadence=params.get("cadence") or None,
        account=params.get("account") or None,
        since=utc_day(since) if since else None,
        until=utc_day(until) + timedelta(days=1) if until else None,  # the whole day
    )


def utc_day(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _to_next(item_id: int, params: dict[str, str]) -> Response:
    query = urlencode({**params, "after": item_id})
    return RedirectResponse(f"/queue/next?{query}", status_code=303)
