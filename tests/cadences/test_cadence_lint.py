"""The linter: each of the play's rules warns, and the shipped cadences pass with no warning."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cadences import lint, load_cadences, parse_cadence
from engine.cadences.lint import Rule

GOOD_BODY = (
    'Hi {{ prospect.first_name | fallback("there") }},\n\n'
    "Who at {{ account.name }} looks after sales operations?\n\n"
    "Thanks,\n{{ sender.signature }}\n"
)
REPLY_BODY = (
    'Hi {{ prospect.first_name | fallback("there") }},\n\n'
    "Just bringing this back up for {{ account.name }}.\n\n"
    "Thanks,\n{{ sender.signature }}\n"
)
CADENCE = """\
name: lint-me
steps:
  - id: one
    subject: "{{ account.name }} sales operations"
    template: first
  - id: two
    wait: 3 business days
    template: reply
  - id: three
    wait: 3 business days
    template: reply
  - id: four
    wait: 3 business days
    template: reply
"""


def warnings_for(
    first: str = GOOD_BODY, subject: str | None = None, text: str = CADENCE
) -> list[tuple[Rule, int | None, str | None]]:
    if subject is not None:
        text = text.replace('"{{ account.name }} sales operations"', subject)
    cadence = parse_cadence(text, "lint-me.yaml", {"first": first, "reply": REPLY_BODY}.get)
    return [(w.rule, w.location.line, w.location.field) for w in lint(cadence)]


def test_shipped_cadences_have_no_warnings(workdir: Path) -> None:
    cadences = load_cadences(workdir / "cadences", workdir / "templates")
    assert {name: [str(w) for w in lint(c)] for name, c in cadences.items()} == {
        name: [] for name in cadences
    }


def test_a_clean_cadence_has_no_warnings() -> None:
    assert warnings_for() == []


def test_body_over_120_words() -> None:
    long_body = GOOD_BODY.replace("Who at", "word " * 120 + "Who at")
    assert warnings_for(long_body) == [(Rule.LENGTH, 5, "steps.0.template")]


def test_more_than_one_question() -> None:
    body = GOOD_BODY.replace("operations?", "operations? Is it you? Or someone else?")
    assert warnings_for(body) == [(Rule.QUESTIONS, 5, "steps.0.template")]


@pytest.mark.parametrize(
    "link", ["https://example-sender.com/demo", "http://x.example", "www.example-sender.com"]
)
def test_any_link(link: str) -> None:
    assert warnings_for(GOOD_BODY.replace("Thanks,", f"See {link}\n\nThanks,")) == [
        (Rule.LINK, 5, "steps.0.template")
    ]


def test_a_link_in_the_subject() -> None:
    assert warnings_for(subject='"See www.example.com, {{ account.name }}"') == [
        (Rule.LINK, 4, "steps.0.subject")
    ]


def test_html() -> None:
    assert warnings_for(GOOD_BODY.replace("Thanks,", "<p>Thanks,</p>")) == [
        (Rule.HTML, 5, "steps.0.template")
    ]
    assert warnings_for(GOOD_BODY.replace("Thanks,", "Thanks,&nbsp;")) == [
        (Rule.HTML, 5, "steps.0.template")
    ]


def test_image() -> None:
    found = warnings_for(GOOD_BODY.replace("Thanks,", '<img src="logo.png">\n\nThanks,'))
    assert (Rule.IMAGE, 5, "steps.0.template") in found
    assert warnings_for(GOOD_BODY.replace("Thanks,", "![logo](logo)\n\nThanks,"))[0][0] in (
        Rule.IMAGE,
        Rule.LINK,
    )


def test_no_personalisation() -> None:
    body = "Hi,\n\nWho looks after sales operations?\n\nThanks,\n{{ sender.signature }}\n"
    assert warnings_for(body, subject='"Sales operations"') == [
        (Rule.PERSONALISATION, 5, "steps.0.template")
    ]
    # a personal subject is enough
    assert warnings_for(body) == []


@pytest.mark.parametrize("subject", ['"QUICK QUESTION FOR {{ account.name }}"', '"URGENT"'])
def test_all_caps_subject(subject: str) -> None:
    assert (Rule.SUBJECT_CAPS, 4, "steps.0.subject") in warnings_for(subject=subject)


@pytest.mark.parametrize(
    "subject",
    [
        '"Free trial for {{ account.name }}"',
        '"{{ account.name }}: act now"',
        '"Save $$$ at {{ account.name }}"',
        '"Guaranteed results, {{ account.name }}"',
        '"{{ account.name }}!!!"',
    ],
)
def test_spammy_subject(subject: str) -> None:
    assert warnings_for(subject=subject) == [(Rule.SUBJECT_SPAM, 4, "steps.0.subject")]


def test_missing_sign_off() -> None:
    body = GOOD_BODY.replace("Thanks,\n{{ sender.signature }}\n", "")
    assert warnings_for(body) == [(Rule.SIGN_OFF, 5, "steps.0.template")]


def test_touches_outside_the_play() -> None:
    three = CADENCE.split("  - id: four")[0]
    assert warnings_for(text=three) == [(Rule.TOUCHES, 2, "steps")]
    assert warnings_for(text=three + "touches: {min: 3, max: 5}\n") == []


def test_each_variant_is_linted_at_its_own_line() -> None:
    text = CADENCE.replace(
        "    template: first\n",
        "    template: first\n    variants:\n      - id: a\n      - id: b\n"
        '        subject: "FREE {{ account.name }}"\n',
    )
    assert warnings_for(text=text) == [(Rule.SUBJECT_SPAM, 9, "steps.0.variants.1.subject")]


def test_warnings_read_well() -> None:
    body = GOOD_BODY.replace("operations?", "operations? Is it you?")
    cadence = parse_cadence(CADENCE, "lint-me.yaml", {"first": body, "reply": REPLY_BODY}.get)
    (warning,) = lint(cadence)
    assert str(warning) == (
        "lint-me.yaml:5: steps.0.template: warning [questions] "
        "2 questions; ask one (who is the right person?)"
    )
