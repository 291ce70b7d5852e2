"""Which messages are unsubscribe requests by channel, and the one-click token. Pure."""

from __future__ import annotations

import pytest

from engine.classify.parse import parse_message
from engine.store.models import SuppressionSource
from engine.unsubscribe.requests import is_unsubscribe_subject, unsubscribe_request
from engine.unsubscribe.tokens import make_token, one_click_url, token_matches, token_prospect

SECRET = "a-long-enough-test-secret"


def message(
    subject: str,
    body: str = "Please take me off.",
    *,
    to: str = "alex@example-sender.com",
    headers: str = "",
) -> bytes:
    return (
        f"From: dana@acme.example\r\nTo: {to}\r\nSubject: {subject}\r\n{headers}"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


@pytest.mark.parametrize(
    "subject",
    [
        "unsubscribe",
        "Unsubscribe",
        "  UNSUBSCRIBE ",
        "Re: unsubscribe",
        "AW: RE:unsubscribe",
        "回复：unsubscribe",
    ],
)
def test_the_mailto_subject_is_recognised_through_prefixes_case_and_spaces(subject: str) -> None:
    assert is_unsubscribe_subject(subject)


@pytest.mark.parametrize(
    "subject", ["", "unsubscribe me", "Re: Quick question", "How do I unsubscribe?", "un subscribe"]
)
def test_other_subjects_are_not_requests(subject: str) -> None:
    assert not is_unsubscribe_subject(subject)


def test_the_subject_makes_a_request_whatever_the_body_says() -> None:
    msg = parse_message(message("unsubscribe", "Sounds great, tell me more about pricing!"))
    assert unsubscribe_request(msg, None) is SuppressionSource.MAILTO


def test_a_machine_made_request_is_a_provider_request() -> None:
    empty = parse_message(message("unsubscribe", ""))
    auto = parse_message(message("unsubscribe", headers="Auto-Submitted: auto-generated\r\n"))
    assert unsubscribe_request(empty, None) is SuppressionSource.PROVIDER_REQUEST
    assert unsubscribe_request(auto, None) is SuppressionSource.PROVIDER_REQUEST


def test_anything_new_sent_to_a_separate_unsubscribe_address_is_a_request() -> None:
    target = "optout@example-sender.com"
    fresh = parse_message(message("hello", "no idea what to write", to=target))
    assert unsubscribe_request(fresh, target) is SuppressionSource.MAILTO
    # Not addressed to it, or a reply in one of our threads: read as an ordinary reply.
    elsewhere = parse_message(message("hello", "no idea what to write"))
    threaded = parse_message(
        message("Re: hello", "Yes, call me", to=target, headers="In-Reply-To: <o1@example.com>\r\n")
    )
    assert unsubscribe_request(elsewhere, target) is None
    assert unsubscribe_request(threaded, target) is None
    # Without a separate address only the subject tells.
    assert unsubscribe_request(fresh, None) is None


def test_a_token_names_its_recipient_and_verifies() -> None:
    token = make_token(SECRET, 42, "dana@acme.example")
    assert token_prospect(token) == 42
    assert token_matches(SECRET, token, 42, "Dana@acme.example ")
    assert "dana" not in token and "acme" not in token  # the URL does not say who it is for
    assert one_click_url("https://u.example.com/", token) == f"https://u.example.com/u/{token}"


def test_tampered_or_foreign_tokens_do_not_verify() -> None:
    token = make_token(SECRET, 42, "dana@acme.example")
    prospect_id, mac = token.split("-", 1)
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    assert not token_matches(SECRET, f"{prospect_id}-{flipped}", 42, "dana@acme.example")
    assert not token_matches("another-secret-entirely", token, 42, "dana@acme.example")
    # The same MAC on another id, or the id now naming another address.
    assert not token_matches(SECRET, f"43-{mac}", 43, "dana@acme.example")
    assert not token_matches(SECRET, token, 42, "sam@acme.example")


@pytest.mark.parametrize(
    "token", ["", "42", "42-", "0-AAAAAAAAAAAAAAAAAAAAAA", "x-y", "42-" + "A" * 500]
)
def test_malformed_tokens_name_no_one(token: str) -> None:
    assert token_prospect(token) is None
