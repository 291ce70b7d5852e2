"""Only our own mail acts: whether a message is provably about mail Spear sent.

Anyone can write a message with a prospect's From address, or a delivery report naming any
address. So a message is acted on automatically only with evidence that it answers Spear:

- it names a Message-ID Spear sent (In-Reply-To/References, or quoted in a bounce), or
- it is from (a reply) or about (a bounce) an address that the very mailbox it arrived at sent
  to in the last `replies.sent_window_days` days.

A referral asks more, since it makes Spear write to strangers: the reply answers, by its thread
headers, a message Spear sent to that same sender; every referred address is at the account's
domain or one its contacts already use, never free mail; and at most `MAX_REFERRALS` people.
Anything short of that goes to the review queue, with one of the codes below, and changes
nothing else. A person deciding in the review queue is not held to these rules.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, col, select

from engine.prospects.addresses import FREE_MAIL_DOMAINS
from engine.replies.matching import MatchMethod
from engine.store.models import Account, InboundMessage, OutboundMessage, Prospect

MAX_REFERRALS = 3  # people one reply may have enrolled without a person looking


class NotOurs(StrEnum):
    """Why a message, or the referral in it, waits for a person instead of being acted on."""

    BOUNCE_NOT_OURS = "bounce-not-ours"  # names no message or recent recipient of this mailbox
    REPLY_NOT_OURS = "reply-not-ours"  # matched by From alone; this mailbox never wrote to it
    REFERRAL_NOT_THREADED = "referral-not-threaded"  # not a thread reply to mail to this sender
    REFERRAL_TOO_MANY = "referral-too-many"
    REFERRAL_FREE_MAIL = "referral-free-mail"
    REFERRAL_OTHER_DOMAIN = "referral-other-domain"


def match_method(inbound: InboundMessage) -> MatchMethod:
    try:
        return MatchMethod(inbound.classification.get("match") or MatchMethod.NONE)
    except ValueError:
        return MatchMethod.NONE


def sent_recently(session: Session, mailbox: str, address: str, since: datetime) -> bool:
    """Whether `mailbox` sent a message to `address` since `since`."""
    found = session.exec(
        select(OutboundMessage.id).where(
            OutboundMessage.mailbox == mailbox,
            OutboundMessage.to_address == address.lower(),
            col(OutboundMessage.sent_at) >= since,
        )
    ).first()
    return found is not None


def not_ours(
    session: Session,
    inbound: InboundMessage,
    prospect: Prospect,
    *,
    bounce: bool,
    now: datetime,
    window_days: int,
) -> NotOurs | None:
    """None when the message provably answers (or reports on) mail Spear sent to `prospect`."""
    if match_method(inbound) is MatchMethod.THREAD and inbound.outbound_id is not None:
        return None
    since = now - timedelta(days=window_days)
    if sent_recently(session, inbound.mailbox, prospect.email, since):
        return None
    return NotOurs.BOUNCE_NOT_OURS if bounce else NotOurs.REPLY_NOT_OURS


def referral_risk(
    session: Session, inbound: InboundMessage, referrer: Prospect, addresses: list[str]
) -> tuple[NotOurs, str] | None:
    """None when the referred `addresses` may be enrolled without a person; else why not."""
    outbound = (
        session.get(OutboundMessage, inbound.outbound_id)
        if inbound.outbound_id is not None
        else None
    )
    sender = (inbound.from_address or "").lower()
    if (
        match_method(inbound) is not MatchMethod.THREAD
        or outbound is None
        or outbound.to_address.lower() != sender
    ):
        return NotOurs.REFERRAL_NOT_THREADED, "the reply does not answer our email to its sender"
    if len(addresses) > MAX_REFERRALS:
        return NotOurs.REFERRAL_TOO_MANY, f"{len(addresses)} people (at most {MAX_REFERRALS})"
    domains = account_domains(session, referrer)
    for address in addresses:
        domain = address.rsplit("@", 1)[-1].lower()
        if domain in FREE_MAIL_DOMAINS:
            return NotOurs.REFERRAL_FREE_MAIL, address
        if domain not in domains:
            return NotOurs.REFERRAL_OTHER_DOMAIN, address
    return None


def account_domains(session: Session, prospect: Prospect) -> set[str]:
    """The referrer's own domain, its account's, and every domain its colleagues use."""
    domains = {prospect.email.rsplit("@", 1)[-1].lower()}
    if prospect.account_id is None:
        return domains - FREE_MAIL_DOMAINS
    account = session.get(Account, prospect.account_id)
    if account is not None and account.domain:
        domains.add(account.domain.lower())
    emails = session.exec(
        select(Prospect.email).where(Prospect.account_id == prospect.account_id)
    ).all()
    domains.update(email.rsplit("@", 1)[-1].lower() for email in emails)
    return domains - FREE_MAIL_DOMAINS
