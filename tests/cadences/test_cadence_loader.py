"""Loading cadence files: the shipped ones load, and every mistake names file, line, field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from engine.basics.outcomes import Outcome, OutcomeAction
from engine.basics.windows import PLAY_WEEKDAYS, PLAY_WINDOWS, Wait, WaitUnit
from engine.cadences import (
    Cadence,
    ReplyAction,
    ReplyActionKind,
    load_cadence,
    load_cadences,
    parse_reply_action,
    parse_wait,
)
from engine.classify.result import ReplyLabel
from engine.errors import CadenceError, Location

GOOD = """\
name: demo
description: A small cadence for tests.
steps:
  - id: first
    subject: "Hello {{ account.name }}"
    template: demo-1
  - id: second
    wait: 3 business days
    template: demo-2
on_reply:
  interest: hand off
"""

TEMPLATE = (
    'Hi {{ prospect.first_name | fallback("there") }},\n\nOne question?\n\n{{ sender.signature }}\n'
)


def write(tmp_path: Path, text: str, templates: dict[str, str] | None = None) -> Path:
    (tmp_path / "templates").mkdir(exist_ok=True)
    for name, source in (templates or {"demo-1": TEMPLATE, "demo-2": TEMPLATE}).items():
        (tmp_path / "templates" / f"{name}.txt.j2").write_text(source)
    path = tmp_path / "cadences" / "demo.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def error_for(tmp_path: Path, text: str, templates: dict[str, str] | None = None) -> CadenceError:
    path = write(tmp_path, text, templates)
    with pytest.raises(CadenceError) as caught:
        load_cadence(path, tmp_path / "templates")
    assert caught.value.location.file == path
    return caught.value


# --- the shipped files ---------------------------------------------------------------------------


def test_shipped_cadences_load_and_refer_to_each_other(workdir: Path) -> None:
    cadences = load_cadences(
        workdir / "cadences", workdir / "templates", mailboxes=["alex"], segments=["executives"]
    )
    assert set(cadences) == {"referral-ask", "referral-followup", "nurture", "call-and-email"}
    mixed = cadences["call-and-email"]
    assert [s.type for s in mixed.steps] == ["email", "email", "call", "linkedin", "email"]
    assert mixed.outcome_action(Outcome.WRONG_NUMBER) is OutcomeAction.INVALID_PHONE
    assert mixed.outcome_action(Outcome.REJECTED) is OutcomeAction.STOP  # the default
    ask = cadences["referral-ask"]
    assert ask.reply_action("referral") == ReplyAction(
        action=ReplyActionKind.ENROL, cadence="referral-followup"
    )
    assert ask.reply_action(ReplyLabel.NOT_NOW) == ReplyAction(
        action=ReplyActionKind.ENROL, cadence="nurture", at_resume_date=True
    )
    assert ask.reply_action("interest").action is ReplyActionKind.HAND_OFF
    assert 5 <= len(ask.steps) <= 6


def test_the_play_is_the_default_schedule(tmp_path: Path) -> None:
    cadence = load_cadence(write(tmp_path, GOOD), tmp_path / "templates")
    assert cadence.schedule.timezone_source == "prospect"
    assert cadence.schedule.rules.windows == PLAY_WINDOWS
    assert cadence.schedule.rules.weekdays == PLAY_WEEKDAYS
    assert cadence.schedule.rules.holidays is None
    assert (cadence.touches.min, cadence.touches.max) == (4, 8)
    assert cadence.mailboxes == ()
    assert cadence.audience.one_per_account


def test_steps_are_found_by_id(tmp_path: Path) -> None:
    cadence = load_cadence(write(tmp_path, GOOD), tmp_path / "templates")
    assert cadence.first_step().id == "first"
    assert cadence.step("second").wait == Wait(3, WaitUnit.BUSINESS_DAYS)
    assert cadence.step("second").subject is None  # a reply in the thread
    assert cadence.step_after("first") == cadence.step("second")
    assert cadence.step_after("second") is None
    with pytest.raises(KeyError):
        cadence.step("missing")


def test_version_is_a_stable_hash_of_yaml_and_templates(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    first = load_cadence(path, tmp_path / "templates")
    assert load_cadence(path, tmp_path / "templates").version == first.version
    (tmp_path / "templates" / "demo-2.txt.j2").write_text(TEMPLATE + "\nP.S. Thanks.\n")
    assert load_cadence(path, tmp_path / "templates").version != first.version


@pytest.mark.parametrize(
    ("text", "wait"),
    [
        ("3 business days", Wait(3, WaitUnit.BUSINESS_DAYS)),
        ("1 business day", Wait(1, WaitUnit.BUSINESS_DAYS)),
        ("2 days", Wait(2, WaitUnit.DAYS)),
        ("1 day", Wait(1, WaitUnit.DAYS)),
        ("2 weeks", Wait(14, WaitUnit.DAYS)),
        ("4 hours", Wait(4, WaitUnit.HOURS)),
        (5, Wait(5, WaitUnit.DAYS)),
    ],
)
def test_waits(text: object, wait: Wait) -> None:
    assert parse_wait(text) == wait


@pytest.mark.parametrize(
    ("text", "action", "cadence", "at_resume_date"),
    [
        ("enrol referral-followup", "enrol", "referral-followup", False),
        ("enroll nurture at resume date", "enrol", "nurture", True),
        ("hand off", "hand-off", None, False),
        ("hand-off", "hand-off", None, False),
        ("stop", "stop", None, False),
        ("suppress", "suppress", None, False),
        ("pause until resume date", "pause", None, True),
        ("review", "review", None, False),
    ],
)
def test_reply_action_strings(
    text: str, action: str, cadence: str | None, at_resume_date: bool
) -> None:
    parsed = ReplyAction.model_validate(text)
    assert (parsed.action, parsed.cadence, parsed.at_resume_date) == (
        action,
        cadence,
        at_resume_date,
    )
    assert parse_reply_action(text)["action"] == action


def test_reply_action_mapping_form(tmp_path: Path) -> None:
    text = GOOD.replace(
        "  interest: hand off\n",
        "  interest: hand off\n  not-now: {action: enrol, cadence: demo, at_resume_date: true}\n",
    )
    cadence = load_cadence(write(tmp_path, text), tmp_path / "templates")
    assert str(cadence.reply_action("not-now")) == "enrol demo at resume date"
    # labels the file leaves out get the defaults
    assert cadence.reply_action("unsubscribe").action is ReplyActionKind.SUPPRESS


def test_variants_inherit_from_their_step(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    template: demo-1\n",
        "    template: demo-1\n    variants:\n      - id: a\n      - id: b\n"
        "        template: demo-2\n        subject: Other\n        weight: 3\n",
    )
    step = load_cadence(write(tmp_path, text), tmp_path / "templates").first_step()
    a, b = step.variants
    assert (a.template, a.subject, a.weight) == ("demo-1", "Hello {{ account.name }}", 1.0)
    assert (b.template, b.subject, b.weight) == ("demo-2", "Other", 3.0)


# --- every validation error names file, line and field ------------------------------------------


def replace(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


@pytest.mark.parametrize(
    ("text", "line", "field", "reason"),
    [
        (replace("description:", "colour: red\ndescription:"), 2, "colour", "unknown key"),
        (
            replace("    template: demo-2\n", "    template: demo-2\n    subjekt: Hi\n"),
            10,
            "steps.1.subjekt",
            "unknown key",
        ),
        (replace("3 business days", "3 fortnights"), 8, "steps.1.wait", "a wait is"),
        (replace("3 business days", "-2 days"), 8, "steps.1.wait", "a wait is"),
        (
            replace("  - id: second\n", "  - id: first\n"),
            3,
            "steps",
            "step ids must be unique: first",
        ),
        (
            replace('    subject: "Hello {{ account.name }}"\n', ""),
            3,
            "steps",
            "give it a subject",
        ),
        (replace("hand off", "call them"), 11, "on_reply.interest", "unknown reply action"),
        (replace("interest:", "delighted:"), 11, "on_reply.delighted", "Input should be"),
        (replace("hand off", "enrol"), 11, "on_reply.interest", "enrol needs a cadence"),
        (replace("name: demo", "name: Demo Cadence"), 1, "name", "should match pattern"),
        (
            GOOD + 'schedule:\n  windows: ["09:00-07:00"]\n',
            13,
            "schedule.windows.0",
            "never opens",
        ),
        (
            GOOD + 'schedule:\n  windows: ["08:00-08:00"]\n',
            13,
            "schedule.windows.0",
            "never opens",
        ),
        (GOOD + "schedule:\n  windows: []\n", 13, "schedule.windows", "never send"),
        (GOOD + "schedule:\n  weekdays: []\n", 13, "schedule.weekdays", "never send"),
        (GOOD + "schedule:\n  weekdays: [tue, funday]\n", 13, "schedule.weekdays.1", "weekday"),
        (GOOD + "schedule:\n  windows: [7am-9am]\n", 13, "schedule.windows.0", "not a time"),
        (GOOD + "schedule:\n  timezone: Mars/Olympus\n", 13, "schedule.timezone", "time zone"),
        (GOOD + "schedule:\n  holidays: XX\n", 13, "schedule.holidays", "holiday"),
        (
            GOOD + "audience:\n  segment: execs\n  filter: {country: [US]}\n",
            12,
            "audience",
            "not both",
        ),
        (GOOD + "audience:\n  filter: {colour: [red]}\n", 13, "audience.filter.colour", "unknown"),
    ],
)
def test_schema_errors_name_file_line_and_field(
    tmp_path: Path, text: str, line: int, field: str, reason: str
) -> None:
    error = error_for(tmp_path, text)
    assert (error.location.line, error.location.field) == (line, field)
    assert reason in error.reason
    assert str(error).startswith(f"{tmp_path / 'cadences' / 'demo.yaml'}:{line}: {field}: ")


def test_missing_template(tmp_path: Path) -> None:
    error = error_for(tmp_path, replace("template: demo-2", "template: demo-3"))
    assert (error.location.line, error.location.field) == (9, "steps.1.template")
    assert "'demo-3' does not exist" in error.reason
    assert "demo-3.txt.j2" in error.reason


def template_error_for(tmp_path: Path, templates: dict[str, str]) -> CadenceError:
    path = write(tmp_path, GOOD, templates)
    with pytest.raises(CadenceError) as caught:
        load_cadence(path, tmp_path / "templates")
    return caught.value


def test_template_that_does_not_render_against_the_sample(tmp_path: Path) -> None:
    # The template's own file and line, the variable as written; not a Python class name.
    broken = "Hi there,\n\nOne question, {{ prospect.nickname }}?\n\n{{ sender.signature }}\n"
    error = template_error_for(tmp_path, {"demo-1": TEMPLATE, "demo-2": broken})
    assert error.location == Location(tmp_path / "templates" / "demo-2.txt.j2", 3)
    assert error.reason == (
        "unknown variable prospect.nickname "
        f"(used by {tmp_path / 'cadences' / 'demo.yaml'}: steps.1.template)"
    )


def test_template_with_a_syntax_error(tmp_path: Path) -> None:
    broken = "Hi {{ prospect.first_name }},\n\n{% if account.name %}no end\n"
    error = template_error_for(tmp_path, {"demo-1": broken, "demo-2": TEMPLATE})
    assert error.location.file == tmp_path / "templates" / "demo-1.txt.j2"
    assert error.location.line == 3
    assert "steps.0.template" in error.reason


def test_subject_with_a_syntax_error(tmp_path: Path) -> None:
    error = error_for(tmp_path, replace("{{ account.name }}", "{{ account.name "))
    assert (error.location.line, error.location.field) == (5, "steps.0.subject")


def test_subject_that_does_not_render(tmp_path: Path) -> None:
    error = error_for(tmp_path, replace("{{ account.name }}", "{{ account.motto }}"))
    assert (error.location.line, error.location.field) == (5, "steps.0.subject")
    assert "motto" in error.reason


def test_variant_template_missing(tmp_path: Path) -> None:
    text = replace(
        "    template: demo-1\n",
        "    template: demo-1\n    variants:\n      - id: a\n      - id: b\n"
        "        template: nowhere\n",
    )
    error = error_for(tmp_path, text)
    assert (error.location.line, error.location.field) == (10, "steps.0.variants.1.template")


def test_variant_subject_on_a_reply_step(tmp_path: Path) -> None:
    text = replace(
        "    template: demo-2\n",
        "    template: demo-2\n    variants:\n      - id: a\n        subject: New thread\n",
    )
    error = error_for(tmp_path, text)
    assert (error.location.line, error.location.field) == (7, "steps.1")
    assert "reply in the thread" in error.reason


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    error = error_for(tmp_path, GOOD.replace("  interest: hand off", "  interest: [hand off"))
    assert error.location.line is not None and error.location.line >= 11
    assert "invalid YAML" in error.reason


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CadenceError, match="file not found"):
        load_cadence(tmp_path / "nope.yaml", tmp_path)


# --- checks across files -------------------------------------------------------------------------


def test_reply_action_to_a_cadence_that_does_not_exist(workdir: Path) -> None:
    path = workdir / "cadences" / "referral-ask.yaml"
    path.write_text(path.read_text().replace("enrol nurture at", "enrol nurturing at"))
    with pytest.raises(CadenceError) as caught:
        load_cadences(workdir / "cadences", workdir / "templates")
    error = caught.value
    assert error.location.file == path
    assert error.location.field == "on_reply.not-now"
    assert error.location.line == _line_of(path, "  not-now:")
    assert "no cadence named 'nurturing'" in error.reason


def test_unknown_mailbox_and_segment(workdir: Path) -> None:
    path = workdir / "cadences" / "referral-ask.yaml"
    path.write_text(path.read_text().replace("mailboxes: []", "mailboxes: [alex, sam]"))
    with pytest.raises(CadenceError) as caught:
        load_cadences(workdir / "cadences", workdir / "templates", mailboxes=["alex"])
    assert (caught.value.location.field, caught.value.location.line) == (
        "mailboxes.1",
        _line_of(path, "mailboxes:"),
    )
    with pytest.raises(CadenceError) as caught:
        load_cadences(
            workdir / "cadences", workdir / "templates", mailboxes=["alex", "sam"], segments=[]
        )
    assert caught.value.location.field == "audience.segment"
    assert caught.value.location.line == _line_of(path, "  segment:")


def test_two_files_with_one_name(workdir: Path) -> None:
    copy = workdir / "cadences" / "zz-copy.yaml"
    copy.write_text((workdir / "cadences" / "nurture.yaml").read_text())
    with pytest.raises(CadenceError) as caught:
        load_cadences(workdir / "cadences", workdir / "templates")
    assert caught.value.location.file == copy
    assert caught.value.location.field == "name"
    assert "already used" in caught.value.reason


def _line_of(path: Path, prefix: str) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith(prefix))


def test_cadence_is_frozen(tmp_path: Path) -> None:
    cadence = load_cadence(write(tmp_path, GOOD), tmp_path / "templates")
    assert isinstance(cadence, Cadence)
    with pytest.raises(ValueError):
        cadence.name = "other"  # type: ignore[misc]
