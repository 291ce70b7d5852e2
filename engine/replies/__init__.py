"""Replies: poll mailboxes over IMAP, store every message raw, classify, match and act.

- `imap`: the IMAP folder syncer (the thin transport; hands each message to a handler).
- `intake`: store raw first, dedupe, then classify, match and act.
- `matching`: which outreach a message answers.
- `actions`: what Spear does about a reply; `apply_actions`, `undo_actions`, `reclassify`.
- `handoff`: `HandoffSender` emails interested prospects to the account executive.
- `polling`: one syncer per configured mailbox, for `spear poll` and the daemon.
"""

from engine.replies.actions import (
    SYSTEM_ACTOR,
    ActionError,
    ActionResult,
    ReplySettings,
    apply_actions,
    reclassify,
    undo_actions,
)
from engine.replies.intake import FetchedMessage, Intake

__all__ = [
    "SYSTEM_ACTOR",
    "ActionError",
    "ActionResult",
    "FetchedMessage",
    "Intake",
    "ReplySettings",
    "apply_actions",
    "reclassify",
    "undo_actions",
]
