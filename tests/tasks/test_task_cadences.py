"""Task steps in cadence files: what loads, and the one-line errors for what does not."""

from __future__ import annotations

import pytest

from engine.basics.outcomes import Outcome, OutcomeAction, parse_outcome
from engine.cadences.loader import parse_cadence
from engine.errors import CadenceError

TEMPLATES = {"note": "Hi {{ prospect.first_name }}\n\n{{ sender.signature }}", "call": "Call."}


def load(steps: str, extra: str = "") -> None:
    text = f"name: t\nsteps:\n{steps}\n{extra}"
    parse_cadence(text, "t.yaml", TEMPLATES.get)


def test_a_cadence_may_open_with_a_call() -> None:
    load("  - {id: call, type: call, instructions: call}\n  - {id: a, subject: Hi, template: note}")


@pytest.mark.parametrize(
    ("steps", "extra", "message"),
    [
        (
            "  - {id: a, subject: Hi, template: note, instructions: call}",
            "",
            "t.yaml:3: steps.0: instructions are for call, linkedin and task steps",
        ),
        (
            "  - {id: a, subject: Hi, template: note}\n"
            "  - {id: c, type: call, subject: Hey, instructions: call}",
            "",
            "a call step is done by a person: it takes no subject or variants",
        ),
        (
            "  - {id: c, type: call, instructions: call}\n  - {id: a, template: note}",
            "",
            "the first email (a) starts the thread: give it a subject",
        ),
        (
            "  - {id: c, type: fax, instructions: call}",
            "",
            "steps.0.type",
        ),
        (
            "  - {id: c, type: call, instructions: nowhere}",
            "",
            "template 'nowhere' does not exist",
        ),
        (
            "  - {id: c, type: call, instructions: call}",
            "on_outcome: {voicemail: stop}",
            "unknown outcome 'voicemail'",
        ),
        (
            "  - {id: c, type: call, instructions: call}",
            "on_outcome: {N/A: retry}",
            "on_outcome",
        ),
    ],
)
def test_what_a_cadence_check_refuses(steps: str, extra: str, message: str) -> None:
    with pytest.raises(CadenceError) as caught:
        load(steps, extra)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_outcomes_by_code_short_name_or_the_teams_name() -> None:
    renamed = {Outcome.NO_ANSWER: "No pickup"}
    assert parse_outcome("no pickup", renamed) is Outcome.NO_ANSWER
    assert parse_outcome("n/a", renamed) is Outcome.NO_ANSWER  # the short name still works
    assert parse_outcome("C  target", {}) is Outcome.TARGET
    assert parse_outcome("call-back", {}) is Outcome.CALL_BACK
    with pytest.raises(ValueError, match="one of N/A \\(no-answer\\)"):
        parse_outcome("maybe", {})
    assert {a.value for a in OutcomeAction} == {
        "continue",
        "stop",
        "suppress",
        "not-now",
        "hand-off",
        "invalid-phone",
    }
