"""Requests to the List-Unsubscribe mailto: an unsubscribe whatever the body, for our own
recipients only (intake and actions on a real database)."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from engine.clock import FixedClock
from engine.replies import reclassify
from engine.store.models import (
    Enrollment,
    EnrollmentStatus,
    InboundStatus,
    Suppression,
    SuppressionSource,
)

from .conftest import World, build_world, reply_settings

# Shaped like what a mailbox provider's unsubscribe button sends (in our own words).
PROVIDER_BODY = "This request was generated automatically by your mail provider on your behalf."


def suppressions(world: World) -> list[tuple[str, SuppressionSource]]:
    with Session(world.engine) as session:
        return [(s.value, s.source) for s in session.exec(select(Suppression))]


def test_a_request_to_the_mailto_suppresses_whatever_its_body_says(world: World) -> None:
    # The body would read as an auto-reply or as interest; the subject decides.
    for body in (PROVIDER_BODY, "Yes! Tell me more, let's talk."):
        world.receive(world.reply(body, subject="unsubscribe", in_reply_to=None))
    inbound = world.receive(world.reply(PROVIDER_BODY, subject="Re: Unsubscribe"))
    assert inbound.label == "unsubscribe" and inbound.confidence == 1.0
    assert inbound.status is InboundStatus.APPLIED
    assert inbound.classification["unsubscribe_request"] == "mailto"
    assert suppressions(world) == [("dana@acme.example", SuppressionSource.MAILTO)]


def test_an_empty_auto_submitted_request_is_a_provider_request(world: World) -> None:
    raw = world.reply(
        "", subject="unsubscribe", in_reply_to=None, headers="Auto-Submitted: auto-generated\r\n"
    )
    inbound = world.receive(raw)
    assert inbound.label == "unsubscribe" and inbound.status is InboundStatus.APPLIED
    assert suppressions(world) == [("dana@acme.example", SuppressionSource.PROVIDER_REQUEST)]


def test_the_request_stops_the_cadence_and_pauses_no_colleague(world: World) -> None:
    world.receive(world.reply(PROVIDER_BODY, subject="unsubscribe", in_reply_to=None))
    dana = world.get(Enrollment, world.ids["dana_enrollment"])
    sam = world.get(Enrollment, world.ids["sam_enrollment"])
    assert dana.status is EnrollmentStatus.STOPPED and dana.stop_reason == "unsubscribed"
    assert sam.status is EnrollmentStatus.ACTIVE


def test_a_request_from_someone_spear_never_mailed_waits_for_a_person(world: World) -> None:
    # Sam is a prospect but was never mailed; the stranger is not a prospect at all.
    sam = world.receive(
        world.reply(
            PROVIDER_BODY, sender="sam@acme.example", subject="unsubscribe", in_reply_to=None
        )
    )
    assert sam.status is InboundStatus.REVIEW
    assert sam.review_reason is not None and "not an address Spear has mailed" in sam.review_reason
    stranger = world.receive(
        world.reply(
            PROVIDER_BODY, sender="who@else.example", subject="unsubscribe", in_reply_to=None
        )
    )
    assert stranger.status is InboundStatus.REVIEW
    # In Dana's thread but from another address (a forward): not proof it is Dana asking.
    forwarded = world.receive(
        world.reply(PROVIDER_BODY, sender="assistant@acme.example", subject="Re: unsubscribe")
    )
    assert forwarded.status is InboundStatus.REVIEW
    assert suppressions(world) == []


def test_anything_new_at_a_separate_unsubscribe_address_is_a_request(
    db_engine: Engine, clock: FixedClock
) -> None:
    settings = reply_settings(unsubscribe_address="optout@example-sender.com")
    world = build_world(db_engine, clock, settings)
    raw = world.reply("hi", subject="(no subject)", in_reply_to=None).replace(
        b"To: alex@example-sender.com", b"To: optout@example-sender.com"
    )
    inbound = world.receive(raw)
    assert inbound.label == "unsubscribe" and inbound.status is InboundStatus.APPLIED
    assert suppressions(world) == [("dana@acme.example", SuppressionSource.MAILTO)]


def test_a_person_can_still_relabel_a_request(world: World) -> None:
    inbound = world.receive(
        world.reply("Actually, interested!", subject="unsubscribe", in_reply_to=None)
    )
    assert inbound.id is not None
    with Session(world.engine) as session:
        reclassify(
            session, inbound.id, "interest", world.settings, now=world.clock.now(), actor="rev"
        )
        session.commit()
    assert suppressions(world) == []


def complaint(quoted_message_id: str) -> bytes:
    """An ARF feedback report from Dana's provider, quoting the headers of our message."""
    return f"""From: Feedback Loop <fbl@mailprovider.example>\r
To: alex@example-sender.com\r
Subject: Complaint about a message you sent\r
Message-ID: <fbl-1@mailprovider.example>\r
MIME-Version: 1.0\r
Content-Type: multipart/report; report-type=feedback-report; boundary="F1"\r
\r
--F1\r
Content-Type: text/plain\r
\r
A recipient marked a message from you as spam.\r
--F1\r
Content-Type: message/feedback-report\r
\r
Feedback-Type: abuse\r
User-Agent: Provider-FBL/2.0\r
Version: 1\r
\r
--F1\r
Content-Type: text/rfc822-headers\r
\r
From: alex@example-sender.com\r
To: dana@acme.example\r
Subject: Quick question\r
Message-ID: {quoted_message_id}\r
--F1--\r
""".encode()


def test_a_complaint_about_our_message_suppresses_with_its_own_source(world: World) -> None:
    inbound = world.receive(complaint("<o1@example-sender.com>"))
    assert inbound.prospect_id == world.ids["dana"]
    assert inbound.classification["complaint"] is True
    assert suppressions(world) == [("dana@acme.example", SuppressionSource.COMPLAINT)]


def test_a_complaint_about_mail_that_is_not_ours_waits_for_a_person(world: World) -> None:
    inbound = world.receive(complaint("<someone-else@elsewhere.example>"))
    assert inbound.status is InboundStatus.REVIEW
    assert suppressions(world) == []


def test_an_unsubscribe_reply_is_recorded_as_a_reply(world: World) -> None:
    world.receive(world.reply("Please remove me from your list and stop emailing me."))
    assert suppressions(world) == [("dana@acme.example", SuppressionSource.REPLY)]


def test_a_person_may_honour_a_forwarded_request(world: World) -> None:
    forwarded = world.receive(
        world.reply(PROVIDER_BODY, sender="assistant@acme.example", subject="Re: unsubscribe")
    )
    assert forwarded.id is not None and forwarded.status is InboundStatus.REVIEW
    with Session(world.engine) as session:
        reclassify(
            session, forwarded.id, "unsubscribe", world.settings, now=world.clock.now(), actor="rev"
        )
        session.commit()
    assert suppressions(world) == [("dana@acme.example", SuppressionSource.REPLY)]
