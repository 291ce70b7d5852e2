"""The pages around the queue: accounts and prospects, mailboxes, tasks, the outbox, the report.

Each page reads and changes through the module the CLI uses for the same thing
(`engine.prospects.account_control`, `engine.sending.mailboxes`, `engine.tasks`,
`engine.sending.uncertain`, `engine.service.report`), with the signed-in reviewer as the actor,
so `spear account show` and the page always agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from engine.basics.outcomes import Outcome, outcome_names
from engine.errors import NotFoundError, SpearError
from engine.prospects.account_control import (
    AccountDetail,
    AccountSummary,
    account_detail,
    find_account,
    list_accounts,
    pause_by_hand,
    resume_account,
)
from engine.sending.mailboxes import MailboxStatus, mailbox_statuses, pause_mailbox, resume_mailbox
from engine.sending.uncertain import Settlement, settle, uncertain_rows
from engine.service.report import Report, load_report
from engine.store.models import Account, Prospect
from engine.tasks.listing import due_tasks, end_of_day
from engine.tasks.recording import record_outcome
from engine.web.chart import weekly_chart
from engine.web.reviewing import parse_day

if TYPE_CHECKING:
    from engine.web.app import Pages

LISTED = 200  # rows a list page shows; the search narrows the rest
REPORT_DAYS = 56  # the report's default period: eight weeks


@dataclass(frozen=True)
class ProspectHit:
    email: str
    name: str
    title: str | None
    email_status: str
    domain: str | None


def around_routes(pages: Pages) -> list[Route]:
    around = Around(pages)
    return [
        Route("/accounts", around.accounts),
        Route("/accounts/{domain}", around.account),
        Route("/accounts/{domain}/pause", around.pause_account, methods=["POST"]),
        Route("/accounts/{domain}/resume", around.resume_account, methods=["POST"]),
        Route("/mailboxes", around.mailboxes),
        Route("/mailboxes/{name}/pause", around.pause_mailbox, methods=["POST"]),
        Route("/mailboxes/{name}/resume", around.resume_mailbox, methods=["POST"]),
        Route("/tasks", around.tasks),
        Route("/tasks/{task_id:int}/done", around.task_done, methods=["POST"]),
        Route("/outbox", around.outbox),
        Route("/outbox/{outbound_id:int}/settle", around.settle_uncertain, methods=["POST"]),
        Route("/report", around.report),
    ]


class Around:
    def __init__(self, pages: Pages) -> None:
        self.pages = pages

    # -- accounts and prospects -------------------------------------------------------------

    async def accounts(self, request: Request) -> Response:
        self.pages.signed_in(request)
        search = request.query_params.get("q", "").strip()[:200]
        paused = request.query_params.get("paused") == "1"

        def work(session: Session) -> tuple[list[AccountSummary], list[ProspectHit]]:
            accounts = list_accounts(session, paused_only=paused)
            if search:
                wanted = search.lower()
                accounts = [a for a in accounts if wanted in a.domain or wanted in a.name.lower()]
            return accounts[:LISTED], find_prospects(session, search) if search else []

        accounts, prospects = await self.pages.in_session(work)
        return self.pages.render(
            request,
            "accounts.html",
            accounts=accounts,
            prospects=prospects,
            search=search,
            paused=paused,
            listed=LISTED,
        )

    async def account(self, request: Request) -> Response:
        self.pages.signed_in(request)
        domain = request.path_params["domain"]

        def work(session: Session) -> AccountDetail:
            return account_detail(session, find_account(session, domain))

        try:
            detail = await self.pages.in_session(work)
        except NotFoundError as error:
            return self.pages.render(request, "notice.html", status_code=404, notice=str(error))
        return self.pages.render(request, "account.html", detail=detail)

    async def pause_account(self, request: Request) -> Response:
        return await self._account_change(request, pause=True)

    async def resume_account(self, request: Request) -> Response:
        return await self._account_change(request, pause=False)

    async def _account_change(self, request: Request, *, pause: bool) -> Response:
        reviewer = self.pages.signed_in(request)
        form = await self.pages.posted(request)
        domain = request.path_params["domain"]
        reason = str(form.get("reason") or "").strip()[:200] or None
        now = self.pages.now()

        def work(session: Session) -> str:
            account = find_account(session, domain)
            if pause:
                paused = pause_by_hand(session, account, now, reason, actor=reviewer)
                return f"Paused {paused.domain}: {len(paused.enrollments)} enrollments wait."
            resumed = resume_account(session, account, now, actor=reviewer)
            if not resumed.changed:
                return f"{resumed.domain} was not paused."
            return (
                f"Resumed {resumed.domain}: {len(resumed.enrollments)} enrollments go on, "
                f"{len(resumed.revived)} messages back in the outbox."
            )

        request.session["flash"] = await self._flash(work)
        return RedirectResponse(f"/accounts/{domain}", status_code=303)

    # -- mailboxes --------------------------------------------------------------------------

    async def mailboxes(self, request: Request) -> Response:
        self.pages.signed_in(request)
        config, now = self.pages.inbox.config, self.pages.now()

        def work(session: Session) -> list[MailboxStatus]:
            return mailbox_statuses(session, config, now)

        return self.pages.render(
            request, "mailboxes.html", mailboxes=await self.pages.in_session(work)
        )

    async def pause_mailbox(self, request: Request) -> Response:
        return await self._mailbox_change(request, pause=True)

    async def resume_mailbox(self, request: Request) -> Response:
        return await self._mailbox_change(request, pause=False)

    async def _mailbox_change(self, request: Request, *, pause: bool) -> Response:
        reviewer = self.pages.signed_in(request)
        form = await self.pages.posted(request)
        name = request.path_params["name"]
        reason = str(form.get("reason") or "").strip()[:200] or f"paused by {reviewer}"
        config, now = self.pages.inbox.config, self.pages.now()

        def work(session: Session) -> str:
            if pause:
                change = pause_mailbox(session, config, name, now, reason, actor=reviewer)
                return f"{name} paused." if change.changed else f"{name} was already paused."
            change = resume_mailbox(session, config, name, now, actor=reviewer)
            return f"{name} sends again." if change.changed else f"{name} was not paused."

        request.session["flash"] = await self._flash(work)
        return RedirectResponse("/mailboxes", status_code=303)

    # -- the outbox -------------------------------------------------------------------------

    # -- tasks: calls, LinkedIn touches and other steps a rep does ------------------------

    async def tasks(self, request: Request) -> Response:
        self.pages.signed_in(request)
        owner = request.query_params.get("owner", "").strip()[:200] or None
        config = self.pages.inbox.config
        zone = ZoneInfo(config.timezone)
        today = self.pages.now().astimezone(zone).date()
        until = end_of_day(today, config.timezone)
        lines = await self.pages.in_session(
            lambda session: due_tasks(session, until=until, owner=owner)
        )
        names = outcome_names(config.tasks.outcome_names)
        return self.pages.render(
            request,
            "tasks.html",
            lines=lines,
            owner=owner or "",
            zone=zone,
            outcomes=[(outcome.value, names[outcome]) for outcome in Outcome],
        )

    async def task_done(self, request: Request) -> Response:
        reviewer = self.pages.signed_in(request)
        form = await self.pages.posted(request)
        task_id = int(request.path_params["task_id"])
        config = self.pages.inbox.config
        try:
            outcome = Outcome(str(form.get("outcome")))
        except ValueError:
            return PlainTextResponse("unknown outcome code", status_code=400)
        resume_on = parse_day(str(form.get("resume") or "") or None)
        note = str(form.get("note") or "").strip()[:500] or None
        now = self.pages.now()

        def work(session: Session) -> str:
            result = record_outcome(
                session,
                task_id,
                outcome,
                config,
                now=now,
                actor=reviewer,
                note=note,
                resume_on=resume_on,
            )
            return result.summary(outcome_names(config.tasks.outcome_names)[outcome])

        request.session["flash"] = await self._flash(work)
        back = request.query_params.get("owner")
        return RedirectResponse(
            "/tasks" + (f"?{urlencode({'owner': back})}" if back else ""), status_code=303
        )

    # -- the outbox --------------------------------------------------------------------------

    async def outbox(self, request: Request) -> Response:
        self.pages.signed_in(request)
        rows = await self.pages.in_session(uncertain_rows)
        return self.pages.render(request, "outbox.html", rows=rows, Settlement=Settlement)

    async def settle_uncertain(self, request: Request) -> Response:
        reviewer = self.pages.signed_in(request)
        form = await self.pages.posted(request)
        outbound_id = int(request.path_params["outbound_id"])
        try:
            outcome = Settlement(str(form.get("outcome")))
        except ValueError:
            return PlainTextResponse("unknown outcome: say sent or not-sent", status_code=400)
        now = self.pages.now()

        def work(session: Session) -> str:
            return settle(session, outbound_id, outcome, now, actor=reviewer).summary()

        request.session["flash"] = await self._flash(work)
        return RedirectResponse("/outbox", status_code=303)

    # -- the report -------------------------------------------------------------------------

    async def report(self, request: Request) -> Response:
        self.pages.signed_in(request)
        until = parse_day(request.query_params.get("until")) or self.pages.now().date()
        since = parse_day(request.query_params.get("since")) or until - timedelta(
            days=REPORT_DAYS - 1
        )
        deal_size = self.pages.inbox.config.deal_size

        def work(session: Session) -> Report:
            return load_report(session, since=since, until=until, deal_size=deal_size)

        try:
            report = await self.pages.in_session(work)
        except SpearError as error:
            return self.pages.render(request, "notice.html", status_code=400, notice=str(error))
        return self.pages.render(
            request, "report.html", report=report, chart=weekly_chart(report.weekly)
        )

    async def _flash(self, work: Callable[[Session], str]) -> str:
        try:
            return await self.pages.in_session(work)
        except SpearError as error:
            return f"Not done: {error}."


def find_prospects(session: Session, search: str) -> list[ProspectHit]:
    """Prospects whose address or name contains `search` (any case)."""
    pattern = f"%{search.lower()}%"
    full_name = sa.func.lower(col(Prospect.first_name) + " " + col(Prospect.last_name))
    rows = session.execute(
        sa.select(
            col(Prospect.email),
            col(Prospect.first_name),
            col(Prospect.last_name),
            col(Prospect.title),
            col(Prospect.email_status),
            col(Account.domain),
        )
        .outerjoin(Account, col(Account.id) == col(Prospect.account_id))
        .where(sa.or_(sa.func.lower(col(Prospect.email)).like(pattern), full_name.like(pattern)))
        .order_by(col(Prospect.email))
        .limit(LISTED)
    )
    return [
        ProspectHit(
            email=row.email,
            name=f"{row.first_name} {row.last_name}".strip(),
            title=row.title,
            email_status=str(row.email_status),
            domain=row.domain,
        )
        for row in rows
    ]
