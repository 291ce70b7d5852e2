"""The message: headers, threading, List-Unsubscribe, and no header injection from data."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.sending.compose import (
    ComposeError,
    Sender,
    Thread,
    compose,
    message_bytes,
    new_message_id,
    restamp_date,
)
from engine.unsubscribe.links import UnsubscribeLinks

SENDER = Sender("robin@spear.example", "Robin Rep", reply_to="replies@spear.example")
WHEN = datetime(2025, 6, 3, 11, 0, tzinfo=UTC)


def build(**overrides: object) -> bytes:
    arguments: dict[str, object] = {
        "sender": SENDER,
        "to_address": "jane@prospect.example",
        "to_name": "Jane Doe",
        "subject": "Who handles logistics?",
        "body": "Hi Jane,\n\nWho is the right person?\n\nRobin",
        "message_id": "<abc123@spear.example>",
        "date": WHEN,
    }
    arguments.update(overrides)
    return message_bytes(compose(**arguments))  # type: ignore[arg-type]


def parse(raw: bytes):  # type: ignore[no-untyped-def]
    return message_from_bytes(raw, policy=policy.default)


def test_first_message_headers() -> None:
    raw = build()
    message = parse(raw)
    assert message["From"] == "Robin Rep <robin@spear.example>"
    assert message["To"] == "Jane Doe <jane@prospect.example>"
    assert message["Reply-To"] == "replies@spear.example"
    assert message["Subject"] == "Who handles logistics?"
    assert message["Message-ID"] == "<abc123@spear.example>"
    assert message["Date"] == "Tue, 03 Jun 2025 11:00:00 +0000"
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert "In-Reply-To" not in message and "References" not in message
    assert not message.is_multipart()
    assert b"\r\n" in raw and b"<img" not in raw and b"http" not in raw


def test_message_ids_are_random_on_the_sender_domain() -> None:
    first, second = new_message_id("Spear.Example"), new_message_id("spear.example")
    assert first != second
    assert first.startswith("<") and first.endswith("@spear.example>")


def test_follow_up_is_threaded() -> None:
    thread = Thread("<first@spear.example>", "Who handles logistics?")
    message = parse(build(subject=None, thread=thread, message_id="<second@spear.example>"))
    assert message["Subject"] == "Re: Who handles logistics?"
    assert message["In-Reply-To"] == "<first@spear.example>"
    assert message["References"] == "<first@spear.example>"
    again = parse(build(subject=None, thread=Thread("<first@spear.example>", "Re: Hi")))
    assert again["Subject"] == "Re: Hi"


def test_list_unsubscribe_mailto_and_one_click() -> None:
    # The sending mailbox itself (Spear polls it), not Reply-To (it may not).
    plain = parse(build(unsubscribe=UnsubscribeLinks()))
    assert plain["List-Unsubscribe"] == "<mailto:robin@spear.example?subject=unsubscribe>"
    assert "List-Unsubscribe-Post" not in plain

    links = UnsubscribeLinks(
        mailto="optout@spear.example", one_click_url="https://spear.example/u/7-abc"
    )
    one_click = parse(build(unsubscribe=links))
    assert one_click["List-Unsubscribe"] == (
        "<mailto:optout@spear.example?subject=unsubscribe>, <https://spear.example/u/7-abc>"
    )
    assert one_click["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.parametrize(
    "url", ["http://spear.example/u/7-abc", "https://spear.example/u/7>, <https://evil.example"]
)
def test_one_click_only_for_a_plain_https_url(url: str) -> None:
    message = parse(build(unsubscribe=UnsubscribeLinks(one_click_url=url)))
    assert message["List-Unsubscribe"] == "<mailto:robin@spear.example?subject=unsubscribe>"
    assert "List-Unsubscribe-Post" not in message


def test_utf8_names_subject_and_body() -> None:
    message = parse(
        build(to_name="Zoë Müller", subject="Wer ist zuständig? 谁负责", body="Grüße, 你好")
    )
    assert message["To"] == "Zoë Müller <jane@prospect.example>"
    assert message["Subject"] == "Wer ist zuständig? 谁负责"
    assert message.get_content().rstrip() == "Grüße, 你好"


@pytest.mark.parametrize("field", ["to_name", "subject"])
def test_newlines_in_prospect_data_cannot_add_headers(field: str) -> None:
    evil = "Jane\r\nBcc: everyone@evil.example\r\nX-Injected: yes"
    message = parse(build(**{field: evil}))
    assert "Bcc" not in message and "X-Injected" not in message
    if field == "subject":  # kept as text on the one line
        assert "Bcc: everyone@evil.example" in str(message["Subject"])
    else:  # a name keeps its words, never address syntax: one recipient, Jane
        assert message["To"].addresses[0].addr_spec == "jane@prospect.example"
        assert len(message["To"].addresses) == 1 and "@evil" not in str(message["To"])
        assert "Jane Bcc everyone" in str(message["To"])


def test_a_name_loses_address_syntax_even_when_long_and_folded() -> None:
    # Found by the header fuzz test: the email package folds a long quoted name and can drop
    # its quotes, so a `:` or `@` in it would read as a group or a second address.
    name = "000" + "=?utf-8?q?Victim=0D=0AReply-To:_attacker@evil.example=0D=0AX-J:?=" * 2
    message = parse(build(to_name=name))
    assert [a.addr_spec for a in message["To"].addresses] == ["jane@prospect.example"]
    assert "attacker" not in str(message.get("Reply-To", "")) and "@evil" not in str(message["To"])


@pytest.mark.parametrize(
    "address", ["jane@prospect.example\r\nBcc: x@evil.example", "no-at-sign", "a b@c.example"]
)
def test_bad_addresses_are_refused(address: str) -> None:
    with pytest.raises(ComposeError):
        build(to_address=address)


@settings(max_examples=150, deadline=None)
@given(name=st.text(max_size=60), subject=st.text(min_size=1, max_size=120))
def test_no_prospect_text_ever_makes_a_header(name: str, subject: str) -> None:
    raw = build(to_name=name, subject=subject)
    head = raw.split(b"\r\n\r\n", 1)[0]
    names = [
        line.split(b":", 1)[0]
        for line in head.split(b"\r\n")
        if line and not line.startswith((b" ", b"\t"))
    ]
    assert names == [
        b"Date", b"Message-ID", b"From", b"To", b"Reply-To", b"Subject",
        b"MIME-Version", b"Content-Type", b"Content-Transfer-Encoding",
    ]  # fmt: skip


def test_restamp_date_replaces_only_the_date() -> None:
    raw = build()
    later = restamp_date(raw, datetime(2025, 6, 4, 9, 30, tzinfo=UTC))
    assert parse(later)["Date"] == "Wed, 04 Jun 2025 09:30:00 +0000"
    assert later.replace(b"Wed, 04 Jun 2025 09:30:00", b"Tue, 03 Jun 2025 11:00:00") == raw
