"""The pages around the queue: accounts and prospects, mailboxes, the outbox, the report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import Route

if TYPE_CHECKING:
    from engine.web.app import Pages


def around_routes(pages: Pages) -> list[Route]:
    return []
