"""Each reply action, its idempotence, and undo/redo on re-classification (database only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from engine.classify import Referral
from engine.clock import utc
from engine.prospects.account_control import resume_account
from engine.replies import apply_actions, reclassify, undo_actions
from engine.store.db import session_scope
from engine.store.models import (
    Account,
    AccountStatus,
    EmailStatus,
    Enrollment,
    EnrollmentStatus,
    InboundStatus,
    MailboxState,
    Prospect,
    StopCause,
    Suppression,
)

from .acme import mail_sam
from .conftest import World, build_world, reply_settings

REFERRAL = (
    "Hi Alex,\r\n\r\nI'm not the right person for this. Please talk to Jane Smith "
    "(jane.smith@acme.example), she runs our sales operations.\r\n\r\nDana"
)
INTEREST = "Hi Alex,\r\n\r\nThis sounds interesting. Can we set up a call next week?\r\n\r\nDana"
NOT_NOW = (
    "Hi Alex,\r\n\r\nNot right now, we are in the middle of a reorganisation. "
    "Please get back to me in 3 months.\r\n\r\nDana"
)
NOT_INTERESTED = "Hi Alex,\r\n\r\nThanks, but we are not interested.\r\n\r\nDana"
UNSUBSCRIBE = "Please remove me from your mailing list and stop emailing me.\r\n\r\nDana"
WRONG_PERSON = "Hi Alex, I'm the wrong person for this, I don't handle that area.\r\n\r\nDana"
OUT_OF_OFFICE = (
    "I am out of the office until June 15, 2026 with limited access to email. "
    "For urgent matters please contact bob.backup@acme.example."
)


def snapshot(world: World) -> dict[str, object]:
    """Everything actions may change, for before/after comparisons."""
    with Session(world.engine) as session:
        return {
            "prospects": [p.model_dump() for p in session.exec(select(Prospect)).all()],
            "accounts": [a.model_dump() for a in session.exec(select(Account)).all()],
            "enrollments": [e.model_dump() for e in session.exec(select(Enrollment)).all()],
            "suppressions": [s.model_dump() for s in session.exec(select(Suppression)).all()],
            "mailboxes": [m.model_dump() for m in session.exec(select(MailboxState)).all()],
        }


def enrollment(world: World, key: str) -> Enrollment:
    row: Enrollment = world.get(Enrollment, world.ids[key])
    return row


def test_referral_creates_the_referred_prospect_and_enrols_them(world: World) -> None:
    inbound = world.receive(world.reply(REFERRAL))

    assert inbound.label == "referral" and inbound.status is InboundStatus.APPLIED
    assert inbound.outbound_id == world.ids["outbound"]
    with Session(world.engine) as session:
        jane = session.exec(
            select(Prospect).where(Prospect.email == "jane.smith@acme.example")
        ).one()
        [enrolled] = session.exec(select(Enrollment).where(Enrollment.prospect_id == jane.id)).all()
    assert jane.referred_by_id == world.ids["dana"]
    assert jane.account_id == world.ids["account"]
    assert (jane.first_name, jane.last_name) == ("Jane", "Smith")
    assert enrolled.cadence == "referral-followup" and enrolled.referrer_id == world.ids["dana"]
    assert enrolled.status is EnrollmentStatus.ACTIVE
    # The referrer's own cadence stops; the colleague waits; the account is engaged and paused.
    assert enrollment(world, "dana_enrollment").status is EnrollmentStatus.STOPPED
    assert enrollment(world, "sam_enrollment").status is EnrollmentStatus.PAUSED
    account = world.get(Account, world.ids["account"])
    assert account.status is AccountStatus.ENGAGED and account.paused


def test_a_reply_pauses_colleagues_until_the_account_is_resumed(world: World) -> None:
    world.receive(world.reply(REFERRAL))
    sam = enrollment(world, "sam_enrollment")
    assert sam.status is EnrollmentStatus.PAUSED
    assert sam.stop_cause is StopCause.ACCOUNT_PAUSED
    assert sam.stop_reason == "account paused: reply from dana@acme.example"

    with session_scope(world.engine) as session:
        account = session.get(Account, world.ids["account"])
        assert account is not None
        resumed = resume_account(session, account, world.clock.now())
    assert resumed.enrollments == [world.ids["sam_enrollment"]]
    sam = enrollment(world, "sam_enrollment")
    assert (sam.status, sam.stop_cause, sam.stop_reason) == (EnrollmentStatus.ACTIVE, None, None)
    assert enrollment(world, "dana_enrollment").status is EnrollmentStatus.STOPPED
    account = world.get(Account, world.ids["account"])
    assert not account.paused and account.status is AccountStatus.ENGAGED


def test_referral_is_enrolled_at_a_paused_account_with_a_colleague_in_a_cadence(
    world: World,
) -> None:
    # An earlier reply paused the account; Sam is still in `outreach` (one per account).
    with Session(world.engine) as session:
        account = session.get(Account, world.ids["account"])
        assert account is not None
        account.paused = True
        session.add(account)
        session.commit()
    assert world.settings.cadences["referral-followup"].audience.one_per_account

    inbound = world.receive(world.reply(REFERRAL))

    assert inbound.status is InboundStatus.APPLIED, inbound.review_reason
    with Session(world.engine) as session:
        jane = session.exec(
            select(Prospect).where(Prospect.email == "jane.smith@acme.example")
        ).one()
        [enrolled] = session.exec(select(Enrollment).where(Enrollment.prospect_id == jane.id)).all()
    assert enrolled.cadence == "referral-followup" and enrolled.status is EnrollmentStatus.ACTIVE
    assert enrolled.referrer_id == world.ids["dana"]
    assert world.get(Account, world.ids["account"]).paused
    assert enrollment(world, "sam_enrollment").status is EnrollmentStatus.PAUSED


def test_referral_without_an_address_goes_to_review(world: World) -> None:
    body = "Hi Alex, you should talk to Jane Smith in our finance team about this.\r\n\r\nDana"
    inbound = world.receive(world.reply(body))
    assert inbound.status is InboundStatus.REVIEW
    assert inbound.review_reason is not None
    assert "referral without an address" in inbound.review_reason or "unclear" in (
        inbound.review_reason
    )
    # A human reply stops the cadence whatever its label.
    assert enrollment(world, "dana_enrollment").status is EnrollmentStatus.STOPPED


def test_interest_hands_off_and_queues_the_email_and_webhook(db_engine, clock) -> None:  # type: ignore[no-untyped-def]
    from engine.config import Webhook

    world = build_world(
        db_engine, clock, reply_settings(webhooks=(Webhook(url="http://127.0.0.1:9/hook"),))
    )
    inbound = world.receive(world.reply(INTEREST))

    assert inbound.label == "interest" and inbound.status is InboundStatus.APPLIED
    account = world.get(Account, world.ids["account"])
    assert account.status is AccountStatus.HANDED_OFF
    # The lead is the executive's now, and the sale at least at "target identified".
    assert (account.stage, account.owner) == ("target-identified", "ae@example-sender.com")
    assert enrollment(world, "dana_enrollment").status is EnrollmentStatus.STOPPED
    kinds = [e.kind for e in world.events(inbound.id)]
    assert "handoff.email" in kinds and "webhook.pending" in kinds
    [handoff] = [e for e in world.events(inbound.id) if e.kind == "handoff.email"]
    assert handoff.data["to"] == "ae@example-sender.com"
    assert handoff.data["status"] == "pending"

    # Re-classified: the hand-off and its stage and owner are undone with it.
    from engine.replies.actions import undo_actions

    with Session(world.engine) as session:
        undo_actions(session, inbound.id, now=clock.now(), actor="kim")
        session.commit()
    account = world.get(Account, world.ids["account"])
    assert (account.status, account.stage, account.owner) == ("prospecting", "opportunity", None)


def test_not_now_stops_and_re_enrols_in_nurture_at_the_resume_date(world: World) -> None:
    inbound = world.receive(world.reply(NOT_NOW))
    assert inbound.label == "not-now" and inbound.status is InboundStatus.APPLIED
    assert enrollment(world, "dana_enrollment").status is EnrollmentStatus.STOPPED
    with Session(world.engine) as session:
        [nurture] = session.exec(select(Enrollment).where(Enrollment.cadence == "nurture")).all()
    assert nurture.prospect_id == world.ids["dana"]
    assert nurture.next_due_at is not None
    assert utc(nurture.next_due_at).date().isoformat() == inbound.classification["resume_after"]


def test_not_interested_and_wrong_person_stop(world: World) -> None:
    mail_sam(world.engine, world.ids)  # so his reply without thread headers is provably ours
    inbound = world.receive(world.reply(NOT_INTERESTED))
    assert inbound.label == "not-interested" and inbound.status is InboundStatus.APPLIED
    assert enrollment(world, "dana_enrollment").stop_reason == "replied: not-interested"

    other = world.receive(world.reply(WRONG_PERSON, sender="sam@acme.example", in_reply_to=None))
    assert other.label == "wrong-person" and other.prospect_id == world.ids["sam"]
    sam = enrollment(world, "sam_enrollment")
    assert sam.status is EnrollmentStatus.STOPPED  # matched by sender address


def test_unsubscribe_suppresses_the_address(world: World) -> None:
    inbound = world.receive(world.reply(UNSUBSCRIBE))
    assert inbound.label == "unsubscribe"
    with Session(world.engine) as session:
        suppressed = session.exec(select(Suppression)).one()
    assert suppressed.value == "dana@acme.example" and suppressed.reason == "unsubscribe"


def test_unclear_reply_is_queued_and_still_stops_the_cadence(world: World) -> None:
    inbound = world.receive(world.reply("Hmm."))
    assert inbound.label == "unclear" and inbound.status is InboundStatus.REVIEW
    assert inbound.review_reason is not None and inbound.review_reason.startswith("unclear")
    assert enrollment(world, "dana_enrollment").status is EnrollmentStatus.STOPPED


def test_auto_reply_postpones_and_offers_the_alternate_contact(world: World) -> None:
    raw = world.reply(
        OUT_OF_OFFICE,
        subject="Automatic reply: Quick question",
        headers="Auto-Submitted: auto-replied\r\n",
    )
    inbound = world.receive(raw)
    assert inbound.label == "auto-reply" and inbound.status is InboundStatus.REVIEW
    assert "bob.backup@acme.example" in (inbound.review_reason or "")
    dana = enrollment(world, "dana_enrollment")
    assert dana.status is EnrollmentStatus.ACTIVE  # not a human reply: the cadence goes on
    returns = datetime.fromisoformat(inbound.classification["return_date"]).replace(tzinfo=UTC)
    assert dana.next_due_at is not None
    assert utc(dana.next_due_at) == returns + timedelta(days=1)
    assert enrollment(world, "sam_enrollment").status is EnrollmentStatus.ACTIVE


def test_auto_reply_without_a_date_waits_the_configured_delay(world: World) -> None:
    raw = world.reply(
        "I am currently out of the office with limited access to email.",
        subject="Out of office",
        headers="Auto-Submitted: auto-replied\r\n",
    )
    inbound = world.receive(raw)
    assert inbound.label == "auto-reply"
    dana = enrollment(world, "dana_enrollment")
    assert dana.next_due_at is not None
    assert utc(dana.next_due_at) == world.clock.now() + timedelta(days=7)


def test_hard_bounce_prunes_the_address(world: World) -> None:
    inbound = world.receive(world.bounce())
    assert inbound.label == "bounce" and inbound.prospect_id == world.ids["dana"]
    assert world.get(Prospect, world.ids["dana"]).email_status is EmailStatus.INVALID
    dana_enrollment = enrollment(world, "dana_enrollment")
    assert dana_enrollment.stop_cause is StopCause.BOUNCED
    assert dana_enrollment.stop_reason == "hard bounce: user unknown"
    assert enrollment(world, "sam_enrollment").status is EnrollmentStatus.ACTIVE
    with Session(world.engine) as session:
        assert session.exec(select(Suppression)).one().value == "dana@acme.example"


def test_soft_bounces_count_and_turn_hard_at_the_limit(world: World) -> None:
    full = {"status": "4.2.2", "diagnostic": "Mailbox full"}
    first = world.receive(world.bounce(**full))
    assert first.classification["bounce"]["kind"] == "soft"
    dana = world.get(Prospect, world.ids["dana"])
    assert dana.soft_bounces == 1 and dana.email_status is EmailStatus.UNKNOWN

    world.clock.fast_forward(days=40)  # outside the window: does not count with the next one
    world.receive(world.bounce(**full))
    assert world.get(Prospect, world.ids["dana"]).email_status is EmailStatus.UNKNOWN
    world.clock.fast_forward(days=1)
    world.receive(world.bounce(**full))
    dana = world.get(Prospect, world.ids["dana"])
    assert dana.soft_bounces == 3 and dana.email_status is EmailStatus.INVALID


def test_policy_blocks_raise_an_alarm_and_pause_the_mailbox(world: World) -> None:
    block = {"status": "5.7.1", "diagnostic": "Message rejected as spam, listed in Spamhaus"}
    inbound = world.receive(world.bounce(**block))
    assert inbound.classification["bounce"]["reason"] in ("spam block", "policy")
    state = world.get(MailboxState, "alex")
    # One block in two sends is over the rate, but one is not a pattern (min count 3).
    assert state.alarm and not state.paused
    world.receive(world.bounce(**block))
    world.receive(world.bounce(**block))
    state = world.get(MailboxState, "alex")
    assert state.alarm and state.paused
    # The address is not at fault.
    assert world.get(Prospect, world.ids["dana"]).email_status is EmailStatus.UNKNOWN


def test_content_filter_refusals_are_soft_bounces_of_the_address(world: World) -> None:
    # "User unknown" under a 5.7.1 code: a gateway refusing this recipient, not our mailbox.
    refused = {"status": "5.7.1", "diagnostic": "User unknown"}
    first = world.receive(world.bounce(**refused))
    assert first.classification["bounce"] == {**first.classification["bounce"], "kind": "soft"}
    assert first.classification["bounce"]["reason"] == "content filter"
    assert world.get(MailboxState, "alex") is None  # no alarm, no pause
    dana = world.get(Prospect, world.ids["dana"])
    assert dana.soft_bounces == 1 and dana.email_status is EmailStatus.UNKNOWN
    assert "bounce.block" not in [e.kind for e in world.events()]

    world.receive(world.bounce(**refused))  # the second within the window: the limit (2)
    dana = world.get(Prospect, world.ids["dana"])
    assert dana.soft_bounces == 2 and dana.email_status is EmailStatus.INVALID
    dana_enrollment = enrollment(world, "dana_enrollment")
    assert dana_enrollment.stop_cause is StopCause.BOUNCED
    assert dana_enrollment.stop_reason == "2 soft bounces in 30 days"


def test_unmatched_message_is_kept_and_queued(world: World) -> None:
    raw = world.reply("Who are you?", sender="stranger@else.example", in_reply_to=None)
    inbound = world.receive(raw)
    assert inbound.prospect_id is None and inbound.status is InboundStatus.REVIEW
    assert "unmatched" in (inbound.review_reason or "")


def test_unparseable_message_is_kept_and_queued(world: World) -> None:
    inbound = world.receive(b"\x00\x01garbage\xff\xfe")
    assert inbound.raw == b"\x00\x01garbage\xff\xfe"
    assert inbound.status is InboundStatus.REVIEW and inbound.error


# --- idempotence, undo and redo -----------------------------------------------------------------


def test_apply_twice_changes_nothing_more(world: World) -> None:
    inbound = world.receive(world.reply(REFERRAL))
    assert inbound.id is not None
    before, events = snapshot(world), world.events()
    with Session(world.engine) as session:
        again = apply_actions(session, inbound.id, world.settings, now=world.clock.now())
        session.commit()
    assert again.already_applied and again.events == ()
    assert snapshot(world) == before and len(world.events()) == len(events)


def test_undo_restores_the_state_exactly_and_apply_redoes_it(world: World) -> None:
    for body in (REFERRAL, INTEREST, NOT_NOW, UNSUBSCRIBE):
        fresh = build_world_copy(world)
        before = snapshot(fresh)
        inbound = fresh.receive(fresh.reply(body))
        assert inbound.id is not None
        after = snapshot(fresh)
        assert after != before, body
        with Session(fresh.engine) as session:
            undone = undo_actions(session, inbound.id, now=fresh.clock.now(), actor="reviewer")
            session.commit()
        assert undone and snapshot(fresh) == before, body
        with Session(fresh.engine) as session:
            redone = apply_actions(session, inbound.id, fresh.settings, now=fresh.clock.now())
            session.commit()
        assert not redone.already_applied
        assert _without_ids(snapshot(fresh)) == _without_ids(after), body


def test_undo_of_a_hard_bounce_restores_the_address(world: World) -> None:
    before = snapshot(world)
    inbound = world.receive(world.bounce())
    assert inbound.id is not None
    with Session(world.engine) as session:
        undo_actions(session, inbound.id, now=world.clock.now())
        session.commit()
    assert snapshot(world) == before


def test_reclassify_undoes_the_old_label_and_applies_the_new(world: World) -> None:
    inbound = world.receive(world.reply(NOT_INTERESTED))
    assert inbound.id is not None
    with Session(world.engine) as session:
        result = reclassify(
            session,
            inbound.id,
            "referral",
            world.settings,
            now=world.clock.now(),
            actor="rep@example-sender.com",
            referrals=[Referral(email="kim@acme.example", name="Kim Lee")],
        )
        session.commit()
    assert result.status is InboundStatus.REVIEWED
    row = world.get(type(inbound), inbound.id)
    assert row.label == "referral" and row.confidence == 1.0
    with Session(world.engine) as session:
        kim = session.exec(select(Prospect).where(Prospect.email == "kim@acme.example")).one()
        assert session.exec(select(Enrollment).where(Enrollment.prospect_id == kim.id)).one()
    assert enrollment(world, "dana_enrollment").stop_reason == "replied: referral"
    kinds = [e.kind for e in world.events(inbound.id, live=False)]
    assert "reply.reclassified" in kinds and "undo.reply" in kinds
    # Back to the first label: Kim's prospect and enrollment disappear again.
    with Session(world.engine) as session:
        reclassify(
            session,
            inbound.id,
            "not-interested",
            world.settings,
            now=world.clock.now(),
            actor="rep",
        )
        session.commit()
    with Session(world.engine) as session:
        assert (
            session.exec(select(Prospect).where(Prospect.email == "kim@acme.example")).first()
            is None
        )
    assert enrollment(world, "dana_enrollment").stop_reason == "replied: not-interested"


def build_world_copy(world: World) -> World:
    """A fresh world in a new database next to the fixture's (each case starts clean)."""
    import uuid

    from engine.store.db import make_engine, upgrade

    path = str(world.engine.url.database) + f".{uuid.uuid4().hex[:6]}"
    url = f"sqlite:///{path}"
    upgrade(url)
    return build_world(make_engine(url), world.clock, reply_settings())


def _without_ids(state: dict[str, object]) -> dict[str, object]:
    """Rows re-created on redo get new ids: compare them without ids."""
    cleaned: dict[str, object] = {}
    for table, rows in state.items():
        assert isinstance(rows, list)
        cleaned[table] = sorted(
            (repr({k: v for k, v in row.items() if k != "id"}) for row in rows),
        )
    return cleaned
