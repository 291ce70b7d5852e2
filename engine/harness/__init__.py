"""A local mail harness: SMTP and IMAP servers on loopback over one mail store, a scripted
responder that answers captured outreach, and pytest fixtures built on both."""

from engine.harness.harness import DEFAULT_USER, Harness, HarnessError, HarnessTimeout
from engine.harness.mailstore import CapturedMessage, MailStore

__all__ = [
    "DEFAULT_USER",
    "CapturedMessage",
    "Harness",
    "HarnessError",
    "HarnessTimeout",
    "MailStore",
]
