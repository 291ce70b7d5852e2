"""Only our own mail acts: forged bounces, forged blocks and spoofed referrals change nothing but
the review queue; a referral enrols people automatically only on the evidence it needs."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from engine.replies.intake import FetchedMessage, process, store_raw
from engine.store.db import session_scope
from engine.store.models import (
    Account,
    Enrollment,
    InboundMessage,
    InboundStatus,
    MailboxState,
    Prospect,
    Suppression,
)

from .acme import first_email
from .conftest import World

SPAM_BLOCK = {"status": "5.7.1", "diagnostic": "Message rejected as spam, listed in Spamhaus"}


def snapshot(world: World) -> dict[str, Any]:
    """Everything a reply's actions could change, but the inbound rows and their events."""
    with Session(world.engine) as session:
        return {
            "prospects": sorted(
                (p.email, p.email_status, p.soft_bounces, p.referred_by_id)
                for p in session.exec(select(Prospect))
            ),
            "enrollments": sorted(
                (e.id or 0, e.prospect_id, e.status, e.stop_reason, e.cadence)
                for e in session.exec(select(Enrollment))
            ),
            "suppressed": sorted(s.value for s in session.exec(select(Suppression))),
            "mailboxes": sorted(
                (m.name, m.paused, m.alarm) for m in session.exec(select(MailboxState))
            ),
            "accounts": sorted(
                (a.domain, a.paused, a.status) for a in session.exec(select(Account))
            ),
        }


def receive_at(world: World, mailbox: str, raw: bytes) -> InboundMessage:
    world.uid += 1
    with session_scope(world.engine) as session:
        inbound = store_raw(
            session, FetchedMessage(mailbox, "INBOX", 1, world.uid, raw), now=world.clock.now()
        )
        assert inbound is not None and inbound.id is not None
        return process(session, inbound.id, world.settings, now=world.clock.now())


def add_pat_written_to_by_beta(world: World) -> None:
    """Pat, at Acme, was only ever written to by the other mailbox, `beta`."""
    with session_scope(world.engine) as session:
        pat = Prospect(email="pat@acme.example", first_name="Pat", account_id=world.ids["account"])
        session.add(pat)
        session.flush()
        enrollment = Enrollment(
            prospect_id=pat.id or 0, cadence="outreach", cadence_version="v", mailbox="beta"
        )
        session.add(enrollment)
        session.flush()
        session.add(first_email(enrollment, pat, "beta", "<b1@example-sender.com>"))


def forged_bounce(world: World, address: str, **kwargs: str) -> bytes:
    """A delivery report naming `address` and quoting no message of ours."""
    return world.bounce(**kwargs).replace(b"dana@acme.example", address.encode())


def test_a_forged_bounce_changes_nothing_but_the_review_queue(world: World) -> None:
    add_pat_written_to_by_beta(world)
    before = snapshot(world)
    inbound = receive_at(world, "alex", forged_bounce(world, "pat@acme.example"))
    assert inbound.label == "bounce" and inbound.prospect_id is not None
    assert inbound.status is InboundStatus.REVIEW
    assert inbound.review_reason is not None
    assert inbound.review_reason.startswith("bounce-not-ours")
    assert snapshot(world) == before


def test_a_bounce_naming_our_recipient_still_prunes(world: World) -> None:
    add_pat_written_to_by_beta(world)
    inbound = receive_at(world, "beta", forged_bounce(world, "pat@acme.example"))
    assert inbound.status is InboundStatus.APPLIED
    assert "pat@acme.example" in snapshot(world)["suppressed"]


def test_a_forged_block_changes_nothing_but_the_review_queue(world: World) -> None:
    add_pat_written_to_by_beta(world)
    before = snapshot(world)
    inbound = receive_at(world, "alex", forged_bounce(world, "pat@acme.example", **SPAM_BLOCK))
    assert inbound.status is InboundStatus.REVIEW
    assert snapshot(world) == before


def test_one_real_block_raises_the_alarm_without_pausing(world: World) -> None:
    # Dana was written to by alex: the block is ours, 1 in 2 sends, but below the minimum count.
    inbound = world.receive(world.bounce(**SPAM_BLOCK))
    assert inbound.label == "bounce"
    state = world.get(MailboxState, "alex")
    assert state.alarm and not state.paused


SPOOFED_REFERRAL = (
    "Hi,\r\n\r\nI'm not the right person. Please talk to victim1@gmail.com, "
    "victim2@yahoo.com and ceo@bigbank.example.\r\n\r\nDana"
)


def test_a_spoofed_referral_changes_nothing_but_the_review_queue(world: World) -> None:
    """Dana's From, no thread headers, at a mailbox that never wrote to her."""
    before = snapshot(world)
    raw = world.reply(SPOOFED_REFERRAL, in_reply_to=None)
    inbound = receive_at(world, "beta", raw)
    assert inbound.prospect_id == world.ids["dana"]
    assert inbound.status is InboundStatus.REVIEW
    assert inbound.review_reason is not None
    assert inbound.review_reason.startswith("reply-not-ours")
    assert snapshot(world) == before


def referral_from_dana(world: World, people: str) -> InboundMessage:
    body = f"Hi Alex,\r\n\r\nI'm not the right person. Please talk to {people}.\r\n\r\nDana"
    return world.receive(world.reply(body))


def prospects(world: World) -> list[str]:
    return [p[0] for p in snapshot(world)["prospects"]]


def test_a_threaded_referral_to_free_mail_or_another_domain_waits_for_a_person(
    world: World,
) -> None:
    known = prospects(world)
    for people, code in (
        ("Jo Doe (jo.doe@gmail.com)", "referral-free-mail"),
        ("Lee Ray (lee@bigbank.example)", "referral-other-domain"),
    ):
        inbound = referral_from_dana(world, people)
        assert inbound.label == "referral", inbound.classification
        assert inbound.status is InboundStatus.REVIEW
        assert inbound.review_reason is not None and code in inbound.review_reason
    assert prospects(world) == known  # nobody created, nobody enrolled


def test_more_than_three_people_in_one_referral_wait_for_a_person(world: World) -> None:
    known = prospects(world)
    people = ", ".join(f"P{n} (p{n}@acme.example)" for n in range(4))
    inbound = referral_from_dana(world, people)
    assert inbound.label == "referral"
    assert inbound.review_reason is not None and "referral-too-many" in inbound.review_reason
    assert prospects(world) == known


def test_a_threaded_referral_at_the_account_domain_is_enrolled(world: World) -> None:
    inbound = referral_from_dana(world, "Jane Smith (jane.smith@acme.example)")
    assert inbound.status is InboundStatus.APPLIED, inbound.review_reason
    assert "jane.smith@acme.example" in prospects(world)
