"""Hostile inbound mail: bounded work for every message, and a poller that never stops for one.

The messages are generated here (`hostile.py`), never stored: a thousand nested multiparts,
tens of thousands of encoded words, fifty thousand parts, a six-megabyte header line, thousands
of named addresses.
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from engine.classify import classify_message
from engine.classify.budget import BudgetedClassifier
from engine.classify.parse import (
    Unreadable,
    UnreadableMessage,
    body_text,
    check_limits,
    header_addresses,
    header_text,
    parse_message,
)
from engine.clock import SystemClock
from engine.replies.imap import ImapSyncer, load_state
from engine.replies.intake import Intake
from engine.store.models import InboundMessage, InboundStatus, Suppression

from .conftest import Dovecot, World, imap_settings
from .hostile import HOSTILE

EXPECTED = {
    "nested-multipart": Unreadable.MIME_TOO_DEEP,
    "encoded-words-20000": Unreadable.TOO_MANY_ENCODED_WORDS,
    "encoded-words-100000": Unreadable.TOO_MANY_ENCODED_WORDS,
    "many-parts": Unreadable.TOO_MANY_PARTS,
    "long-header-line": Unreadable.HEADER_TOO_LARGE,
    "many-addresses": Unreadable.TOO_MANY_ADDRESSES,
}
ONE_GB = 1024**3


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_each_hostile_message_gets_one_json_line_within_10s_and_1gb(
    name: str, tmp_path: Path
) -> None:
    path = tmp_path / f"{name}.eml"
    path.write_bytes(HOSTILE[name]())

    def one_gigabyte() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ONE_GB, ONE_GB))

    done = subprocess.run(
        [sys.executable, "-m", "engine", "classify", "--json", str(path)],
        capture_output=True,
        timeout=10,
        preexec_fn=one_gigabyte,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    [line] = done.stdout.decode().splitlines()
    result = json.loads(line)
    if name in EXPECTED:
        assert result["label"] == "unclear"
        assert f"({EXPECTED[name]})" in result["error"]
    else:
        assert result["file"] == str(path)


def test_real_mail_shapes_stay_inside_the_limits() -> None:
    forwarded = (
        b"From: a@b.example\r\nTo: c@d.example\r\nSubject: =?utf-8?q?F=C3=BCr?= you\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="outer"\r\n\r\n'
        b'--outer\r\nContent-Type: multipart/alternative; boundary="inner"\r\n\r\n'
        b"--inner\r\nContent-Type: text/plain\r\n\r\nSee below\r\n"
        b"--inner\r\nContent-Type: text/html\r\n\r\n<p>See below</p>\r\n--inner--\r\n"
        b"--outer\r\nContent-Type: message/rfc822\r\n\r\n"
        b"From: x@y.example\r\nSubject: original\r\n\r\nHello\r\n--outer--\r\n"
    )
    check_limits(forwarded)
    assert body_text(parse_message(forwarded)).startswith("See below")


def test_a_parser_failure_is_unreadable_not_a_crash() -> None:
    with pytest.raises(UnreadableMessage) as refused:
        parse_message(HOSTILE["nested-multipart"]())
    assert refused.value.reason is Unreadable.MIME_TOO_DEEP


def test_a_runaway_classification_is_stopped_at_its_budget() -> None:
    classifier = BudgetedClassifier(seconds=0.001)
    try:
        with pytest.raises(UnreadableMessage) as refused:
            classifier(b"From: a@b.example\r\n\r\nNot interested, thanks.\r\n", threshold=0.5)
        assert refused.value.reason is Unreadable.CLASSIFY_TIMEOUT
    finally:
        classifier.close()
    generous = BudgetedClassifier(seconds=60)
    try:
        answer = generous(b"From: a@b.example\r\n\r\nPlease unsubscribe me.\r\n", threshold=0.5)
        assert answer.label == "unsubscribe"
    finally:
        generous.close()


@pytest.mark.dovecot
async def test_the_poller_survives_every_hostile_message_and_applies_the_unsubscribe_after(
    dovecot: Dovecot, world: World
) -> None:
    """Dovecot, a real IMAP server on loopback, serves them all (the harness's pymap itself
    overflows its recursion on the nested multipart)."""
    for number, build in enumerate(HOSTILE.values(), start=1):
        dovecot.deliver(build(), f"{number}.msg")
    unsubscribe = world.reply("Please take me off your list. Unsubscribe.")
    dovecot.deliver(unsubscribe, f"{len(HOSTILE) + 1}.msg")

    classifier = BudgetedClassifier()
    intake = Intake(world.engine, world.settings, world.clock, classifier)
    settings = imap_settings(dovecot.port, dovecot.user, dovecot.password)
    syncer = ImapSyncer(
        "alex", settings, world.engine, intake, clock=SystemClock(), poll_interval=1
    )
    stop = asyncio.Event()
    poller = asyncio.create_task(syncer.run(stop))
    try:
        for _ in range(1200):
            await asyncio.sleep(0.1)
            assert not poller.done(), poller
            if _suppressed(world):
                break
    finally:
        stop.set()
        await asyncio.wait_for(poller, 30)
        await asyncio.to_thread(classifier.close)

    assert _suppressed(world) == ["dana@acme.example"]
    assert syncer.reconnects == 0
    with Session(world.engine) as session:
        rows = list(session.exec(select(InboundMessage)))
    assert len(rows) == len(HOSTILE) + 1
    unreadable = sorted(
        r.review_reason
        for r in rows
        if r.review_reason and r.review_reason.startswith("unreadable")
    )
    assert unreadable == sorted(f"unreadable: {code}" for code in EXPECTED.values())
    assert all(r.status in (InboundStatus.REVIEW, InboundStatus.APPLIED) for r in rows)
    assert load_state(world.engine, "alex", "INBOX").last_uid == max(r.uid for r in rows)


def _suppressed(world: World) -> list[str]:
    with Session(world.engine) as session:
        return [s.value for s in session.exec(select(Suppression))]


# --- fuzzing the parser -------------------------------------------------------------------------

_HEADER_NAMES = st.sampled_from(
    [b"From", b"To", b"Cc", b"Subject", b"Content-Type", b"Message-ID", b"X-A", b"References"]
)
_VALUES = st.one_of(
    st.binary(max_size=80),
    st.sampled_from(
        [
            b"=?utf-8?q?=0D=0AX:?=",
            b'multipart/mixed; boundary="b"',
            b"multipart/alternative; boundary=c",
            b"message/rfc822",
            b"a@b.example, <c@d.example>",
            b"=?gb2312?b?xOO6ww==?=",
        ]
    ),
)
_LINES = st.one_of(
    st.tuples(_HEADER_NAMES, _VALUES).map(lambda pair: pair[0] + b": " + pair[1]),
    st.sampled_from([b"", b"--b", b"--b--", b"--c", b"--c--", b" folded", b"\tfolded"]),
    st.binary(max_size=60),
)


@given(lines=st.lists(_LINES, max_size=60), ending=st.sampled_from([b"\r\n", b"\n", b"\r"]))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_fuzz_the_parser(lines: list[bytes], ending: bytes) -> None:
    raw = ending.join(lines)
    try:
        message = parse_message(raw)
    except UnreadableMessage as unreadable:
        assert isinstance(unreadable.reason, Unreadable)
        return
    header_text(message, "Subject")
    header_addresses(message, "From", "To", "Cc")
    assert isinstance(body_text(message), str)
    assert classify_message(raw).label is not None


def test_an_unreadable_message_waits_in_the_queue_with_its_raw_view(world: World) -> None:
    from engine.review.queue import get_item, raw_text, reply_text

    raw = HOSTILE["nested-multipart"]()
    inbound = world.receive(raw)
    assert inbound.status is InboundStatus.REVIEW
    assert inbound.review_reason == f"unreadable: {Unreadable.MIME_TOO_DEEP}"
    with Session(world.engine) as session:
        assert inbound.id is not None
        item = get_item(session, inbound.id)
        assert item.reason == f"unreadable: {Unreadable.MIME_TOO_DEEP}"
        assert reply_text(session, item) == ""
        assert raw_text(session, inbound.id) == raw.decode()
