"""The `List-Unsubscribe` targets of one message, from the configuration. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from engine.config import Unsubscribe
from engine.store.models import Prospect
from engine.unsubscribe.tokens import make_token, one_click_url


@dataclass(frozen=True)
class UnsubscribeLinks:
    """Where a recipient unsubscribes: a mailto address and, optionally, a one-click URL.

    `mailto` None means the sending mailbox itself, which Spear polls. `one_click_url` is the
    recipient's own https URL (see `engine.unsubscribe.tokens`).
    """

    mailto: str | None = None
    one_click_url: str | None = None


def unsubscribe_links(settings: Unsubscribe, prospect: Prospect) -> UnsubscribeLinks:
    """The configured mailto (None: the sending mailbox) and the prospect's one-click URL."""
    one_click = settings.one_click
    if one_click is None or prospect.id is None:
        return UnsubscribeLinks(settings.mailto)
    token = make_token(one_click.secret.value, prospect.id, prospect.email)
    return UnsubscribeLinks(settings.mailto, one_click_url(one_click.public_url, token))
