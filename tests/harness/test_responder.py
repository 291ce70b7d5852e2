"""The scripted responder: each kind of answer, threading, DSNs, determinism, delivery."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest

from engine.classify import classify_message
from engine.clock import FixedClock
from engine.harness import Harness, MailStore
from engine.harness.replies import Outreach, build_answer, outreach_from
from engine.harness.responder import Responder, choose_outcome, plan_answer
from engine.harness.scenario import Outcome, ScenarioError, default_scenario, scenario_from

SENDER = "alex@example-sender.com"
START = datetime(2025, 3, 4, 7, 30, tzinfo=UTC)


def outreach_bytes(to: str = "Dana Lee <dana.lee@acme.example>", n: int = 1) -> bytes:
    message = EmailMessage()
    message["From"] = f"Alex Rivera <{SENDER}>"
    message["To"] = to
    message["Subject"] = "Who handles logistics at Acme?"
    message["Date"] = "Tue, 04 Mar 2025 07:30:00 +0000"
    message["Message-ID"] = f"<outreach-{n}@example-sender.com>"
    message.set_content("Hi Dana,\n\nWho is the right person for logistics?\n\nAlex\n")
    return message.as_bytes(policy=policy.SMTP)


def outreach(recipient: str = "dana.lee@acme.example") -> Outreach:
    return outreach_from(outreach_bytes(), recipient)


def parse(raw: bytes) -> EmailMessage:
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def body_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


HUMAN = [
    Outcome.REFERRAL,
    Outcome.INTEREST,
    Outcome.NOT_NOW,
    Outcome.NOT_INTERESTED,
    Outcome.UNSUBSCRIBE,
]


@pytest.mark.parametrize("outcome", HUMAN)
def test_human_replies_are_threaded_and_quote_the_original(outcome: Outcome) -> None:
    reply = parse(build_answer(outcome, outreach(), random.Random(1), START))

    assert reply["Subject"] == "Re: Who handles logistics at Acme?"
    assert reply["In-Reply-To"] == "<outreach-1@example-sender.com>"
    assert "<outreach-1@example-sender.com>" in reply["References"]
    assert reply["From"].addresses[0].addr_spec == "dana.lee@acme.example"
    assert reply["To"].addresses[0].addr_spec == SENDER
    assert reply["Date"].datetime == START
    assert "Who is the right person for logistics?" in body_of(reply)  # quoted
    assert "Auto-Submitted" not in reply


def test_referral_names_a_new_person_at_the_same_company() -> None:
    reply = parse(build_answer(Outcome.REFERRAL, outreach(), random.Random(3), START))

    [colleague] = reply["Cc"].addresses
    assert colleague.domain == "acme.example"
    assert colleague.addr_spec != "dana.lee@acme.example"
    assert colleague.display_name in body_of(reply)


def test_not_now_names_a_time() -> None:
    texts = {
        body_of(parse(build_answer(Outcome.NOT_NOW, outreach(), random.Random(seed), START)))
        for seed in range(12)
    }
    times = ("next quarter", "in 3 months", "in six weeks", "early next year", "in ")
    assert all(any(t in text for t in times) for text in texts)
    assert len(texts) > 3  # wording varies


def test_auto_reply_carries_rfc_3834_headers_and_a_return_date() -> None:
    reply = parse(build_answer(Outcome.AUTO_REPLY, outreach(), random.Random(5), START))

    assert reply["Auto-Submitted"] == "auto-replied"
    assert reply["In-Reply-To"] == "<outreach-1@example-sender.com>"
    assert "2025" in body_of(reply)


def test_bounce_is_a_delivery_status_report() -> None:
    raw = build_answer(Outcome.BOUNCE, outreach("gone@acme.example"), random.Random(7), START)
    report = parse(raw)

    assert report.get_content_type() == "multipart/report"
    assert report.get_param("report-type") == "delivery-status"
    assert "MAILER-DAEMON@" in report["From"]
    [status] = [p for p in report.walk() if p.get_content_type() == "message/delivery-status"]
    per_message, per_recipient = status.get_payload()  # type: ignore[misc]
    assert per_message["Reporting-MTA"].startswith("dns;")
    assert per_recipient["Final-Recipient"] == "rfc822; gone@acme.example"
    assert per_recipient["Action"] == "failed"
    assert per_recipient["Status"] == "5.1.1"
    assert "550 5.1.1" in per_recipient["Diagnostic-Code"]
    [headers] = [p for p in report.walk() if p.get_content_type() == "text/rfc822-headers"]
    assert "<outreach-1@example-sender.com>" in str(headers.get_payload())


def test_invalid_addresses_bounce_by_list_and_pattern() -> None:
    scenario = scenario_from(
        {
            "reply_rate": 0,
            "invalid": {"addresses": ["gone@acme.example"], "local_parts": ["^former\\."]},
        }
    )
    rng = random.Random(0)
    assert choose_outcome(scenario, outreach("gone@acme.example"), rng) is Outcome.BOUNCE
    assert choose_outcome(scenario, outreach("former.cto@acme.example"), rng) is Outcome.BOUNCE
    assert choose_outcome(scenario, outreach("dana.lee@acme.example"), rng) is None


def test_answers_are_deterministic_for_a_seed() -> None:
    scenario = scenario_from({"seed": 9, "reply_rate": 1})
    first = plan_answer(scenario, outreach(), START, SENDER)
    second = plan_answer(scenario, outreach(), START, SENDER)
    other_seed = plan_answer(
        scenario_from({"seed": 10, "reply_rate": 1}), outreach(), START, SENDER
    )

    assert first is not None and second is not None and other_seed is not None
    assert first.raw == second.raw
    assert first.raw != other_seed.raw


def test_default_reply_rate_is_about_nine_percent() -> None:
    scenario = default_scenario().model_copy(update={"invalid": scenario_from({}).invalid})
    answered = sum(
        plan_answer(
            scenario, outreach_from(outreach_bytes(n=n), f"p{n}@acme.example"), START, SENDER
        )
        is not None
        for n in range(2000)
    )
    assert 0.07 < answered / 2000 < 0.11


def test_scenario_errors_name_the_field() -> None:
    with pytest.raises(ScenarioError, match=r"reply_delay: .*max must not be shorter"):
        scenario_from({"reply_delay": {"min": "1d", "max": "1h"}})
    with pytest.raises(ScenarioError, match=r"outcomes"):
        scenario_from({"outcomes": {"bounce": 1}})


def test_responder_delivers_when_due_and_answers_a_thread_once(tmp_path: Path) -> None:
    clock = FixedClock(START)
    store = MailStore(tmp_path / "mail", clock)
    scenario = scenario_from(
        {"forced": {"dana.lee@acme.example": "interest"}, "reply_delay": {"min": "1h", "max": "1h"}}
    )
    responder = Responder(store, [SENDER], scenario, clock)
    store.capture(SENDER, ["dana.lee@acme.example"], outreach_bytes())

    assert responder.step() == []
    clock.fast_forward(minutes=59)
    assert responder.step() == []
    clock.fast_forward(minutes=1)
    [answer] = responder.step()

    assert answer.outcome is Outcome.INTEREST
    assert store.inbox_count(SENDER) == 1
    follow_up = outreach_bytes(n=2).replace(
        b"Message-ID: <outreach-2@example-sender.com>",
        b"Message-ID: <outreach-2@example-sender.com>\r\n"
        b"References: <outreach-1@example-sender.com>",
    )
    store.capture(SENDER, ["dana.lee@acme.example"], follow_up)
    clock.fast_forward(days=1)
    assert responder.step() == []


async def test_responder_answers_mail_sent_through_the_harness(tmp_path: Path) -> None:
    clock = FixedClock(START)
    scenario = scenario_from(
        {"forced": {"dana.lee@acme.example": "referral", "gone@acme.example": "bounce"}}
    )
    async with Harness(tmp_path / "mail", {SENDER: "pw"}, clock=clock) as harness:
        responder = Responder(harness.store, harness.users, scenario, clock)
        for n, to in enumerate(["dana.lee@acme.example", "gone@acme.example"]):
            await aiosmtplib.send(
                outreach_bytes(to, n),
                sender=SENDER,
                recipients=[to],
                hostname=harness.host,
                port=harness.smtp_port,
            )
        await harness.wait_for_captured(2)
        responder.step()
        clock.fast_forward(days=3)
        answers = responder.step()

    assert sorted(a.outcome for a in answers) == [Outcome.BOUNCE, Outcome.REFERRAL]
    assert harness.store.inbox_count(SENDER) == 2


async def test_run_uses_the_clock_for_its_delays(tmp_path: Path) -> None:
    clock = FixedClock(START)
    store = MailStore(tmp_path / "mail", clock)
    scenario = scenario_from({"forced": {"dana.lee@acme.example": "auto-reply"}})
    responder = Responder(store, [SENDER], scenario, clock, tick_seconds=3600)
    store.capture(SENDER, ["dana.lee@acme.example"], outreach_bytes())
    responder.step()
    [planned] = responder.pending

    # Sleeping on a FixedClock advances it, so the loop reaches the due time without waiting.
    async def until_delivered() -> None:
        task = asyncio.ensure_future(responder.run())
        while not responder.delivered:
            await asyncio.sleep(0)
        task.cancel()

    await asyncio.wait_for(until_delivered(), 5)
    # Delivered on the first tick at or after the due time, then one more tick was slept.
    assert planned.due_at <= clock.now() < planned.due_at + timedelta(hours=2)


@pytest.mark.parametrize("outcome", list(Outcome))
def test_the_classifier_reads_every_answer_the_harness_writes(outcome: Outcome) -> None:
    """Each wording the responder can choose is read as the outcome it stands for: a demo reply
    that lands in review as unclear is a defect on one side or the other."""
    for seed in range(40):  # enough draws to use every template and every "when"
        raw = build_answer(outcome, outreach(), random.Random(seed), START)
        result = classify_message(raw)
        assert result.label.value == outcome.value, (seed, result.label, result.confidence)
