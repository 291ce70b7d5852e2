"""`spear cadence check` and `spear cadence preview`, run through the real command group."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlmodel import Session

from engine.cli import main
from engine.shipped import STARTER_CONFIG
from engine.store.db import make_engine, upgrade
from engine.store.models import Account, Prospect


def spear(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"SPEAR_ALEX_PASSWORD": "secret"})


@pytest.fixture
def in_workdir(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(workdir)
    monkeypatch.delenv("SPEAR_CONFIG", raising=False)
    return workdir


def test_check_passes_on_the_shipped_files(in_workdir: Path) -> None:
    result = spear("cadence", "check", "cadences/")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "4 cadence files checked: 0 errors, 0 warnings"


def test_check_with_the_starter_config_checks_mailboxes_and_segments(in_workdir: Path) -> None:
    shutil.copyfile(STARTER_CONFIG, in_workdir / "spear.yaml")
    assert spear("cadence", "check").exit_code == 0  # folders come from the config
    config = in_workdir / "spear.yaml"
    config.write_text(config.read_text().replace("  executives:", "  leaders:"))
    result = spear("cadence", "check")
    assert result.exit_code == 1
    line = _line(in_workdir / "cadences" / "referral-ask.yaml", "  segment:")
    assert f"referral-ask.yaml:{line}: audience.segment: error: no segment named 'executives'" in (
        result.output
    )


def test_a_broken_copy_fails_with_the_right_lines(in_workdir: Path) -> None:
    ask = in_workdir / "cadences" / "referral-ask.yaml"
    lines = ask.read_text().splitlines()
    wait_line = next(i for i, line in enumerate(lines, 1) if "3 business days" in line)
    lines[wait_line - 1] = lines[wait_line - 1].replace("3 business days", "three days")
    ask.write_text("\n".join(lines) + "\n")
    followup = in_workdir / "cadences" / "referral-followup.yaml"
    followup.write_text(followup.read_text().replace("referral-followup-3", "referral-followup-9"))
    nurture = in_workdir / "cadences" / "nurture.yaml"
    nurture.write_text(nurture.read_text().replace("enrol referral-followup", "enrol referal"))

    result = spear("cadence", "check", "cadences")
    assert result.exit_code == 1
    errors = sorted(line for line in result.output.splitlines() if ": error: " in line)
    followup_line = _line(followup, "referral-followup-9")
    assert errors == [
        f"cadences/nurture.yaml:{_line(nurture, 'referral:')}: on_reply.referral: error: "
        "enrol referal: there is no cadence named 'referal' "
        "(known: call-and-email, nurture, referral-ask, referral-followup)",
        f"cadences/referral-ask.yaml:{wait_line}: steps.1.wait: error: a wait is 'N days', "
        "'N business days', 'N weeks' or 'N hours', not 'three days'",
        f"cadences/referral-followup.yaml:{followup_line}: steps.2.template: error: template "
        "'referral-followup-9' does not exist (looked for templates/referral-followup-9.txt.j2)",
    ]
    assert result.output.strip().endswith("4 cadence files checked: 3 errors, 0 warnings")


def test_check_one_file_resolves_its_neighbours(in_workdir: Path) -> None:
    result = spear("cadence", "check", "cadences/referral-ask.yaml")
    assert result.exit_code == 0, result.output


def test_warnings_are_printed_and_exit_zero(in_workdir: Path) -> None:
    template = in_workdir / "templates" / "nurture-2.txt.j2"
    template.write_text(template.read_text().replace("Best,", "https://example.com\n\nBest,"))
    result = spear("cadence", "check", "cadences")
    assert result.exit_code == 0
    assert re.search(
        r"cadences/nurture.yaml:\d+: steps.1.template: warning \[link\] contains a link",
        result.output,
    )
    assert "0 errors, 1 warning\n" in result.output


def test_preview_sample(in_workdir: Path) -> None:
    result = spear("cadence", "preview", "referral-ask", "--sample", "--start", "2025-03-03")
    assert result.exit_code == 0, result.output
    steps = re.findall(r"--- step (\d)/5: ([\w-]+).* -- (.*) \(", result.output)
    assert steps == [
        ("1", "ask", "Tue 2025-03-04 07:00 EST"),
        ("2", "bump", "Sun 2025-03-09 07:00 EDT"),  # across the change to daylight saving
        ("3", "value", "Thu 2025-03-13 07:00 EDT"),
        ("4", "nudge", "Wed 2025-03-19 07:00 EDT"),
        ("5", "close", "Wed 2025-03-26 07:00 EDT"),
    ]
    assert "Subject: Re: " in result.output
    assert "Hi Dana," in result.output


def test_preview_as_json_gives_each_step_for_programs(in_workdir: Path) -> None:
    args = ["cadence", "preview", "referral-ask", "--sample", "--start", "2025-03-03"]
    result = spear(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    steps = json.loads(result.stdout)
    assert [s["step"] for s in steps] == ["ask", "bump", "value", "nudge", "close"]
    assert steps[0]["send_at"] == "2025-03-04T12:00:00+00:00"  # 07:00 EST
    assert steps[0]["local_time"] == "2025-03-04T07:00:00-05:00"
    assert steps[1]["subject"].startswith("Re: ") and "Hi Dana," in steps[0]["body"]


def test_preview_needs_one_source(in_workdir: Path) -> None:
    assert spear("cadence", "preview", "referral-ask").exit_code == 2
    result = spear("cadence", "preview", "nope", "--sample")
    assert result.exit_code == 1
    assert "no cadence named 'nope'" in result.output


def test_preview_prospect_from_the_database(in_workdir: Path) -> None:
    shutil.copyfile(STARTER_CONFIG, in_workdir / "spear.yaml")
    url = f"sqlite:///{in_workdir / 'spear.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        account = Account(domain="hafen.example", name="Hafen Logistik", industry="logistics")
        session.add(account)
        session.flush()
        referrer = Prospect(email="ute@hafen.example", first_name="Ute", account_id=account.id)
        session.add(referrer)
        session.flush()
        session.add(
            Prospect(
                email="kim@hafen.example",
                first_name="Kim",
                timezone="Europe/Berlin",
                account_id=account.id,
                referred_by_id=referrer.id,
            )
        )
        session.commit()
    engine.dispose()

    result = spear(
        "cadence", "preview", "referral-followup", "--prospect", "kim@hafen.example",
        "--start", "2025-03-04T10:00",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Times in Europe/Berlin" in result.output
    assert "step 1/4: intro -- Tue 2025-03-04 17:00 CET" in result.output
    assert "Subject: Ute suggested I reach out" in result.output
    assert "Hi Kim," in result.output and "Hafen Logistik" in result.output
    assert "from Alex Rivera <alex@example-sender.com>" in result.output


def _line(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_every_mistake_of_a_file_in_one_check(in_workdir: Path) -> None:
    ask = in_workdir / "cadences" / "referral-ask.yaml"
    text = ask.read_text()
    text = text.replace("wait: 3 business days", "wait: 3 busness days", 1)
    text = text.replace("weekdays: [tue, wed, thu, sun]", "weekdays: [tue, wed, thu, funday]")
    text = text.replace("touches:", "colour: blue\ntouches:")
    ask.write_text(text)
    result = spear("cadence", "check")
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    assert [line.split(": error: ")[0].rsplit(": ", 1)[-1] for line in errors] == [
        "schedule.weekdays.3",
        "colour",
        "steps.1.wait",
    ]


def test_a_template_typo_names_the_template_line_and_variable(in_workdir: Path) -> None:
    template = in_workdir / "templates" / "referral-ask-2.txt.j2"
    template.write_text("Hi {{ prospect.frist_name }},\n\n{{ sender.signature }}\n")
    result = spear("cadence", "check")
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    # One line for each cadence that uses the template, each at the template's own line.
    assert (
        "templates/referral-ask-2.txt.j2:1: error: unknown variable prospect.frist_name "
        + ("(used by cadences/referral-ask.yaml: steps.1.template)")
        in errors
    )
    assert all(
        line.startswith("templates/referral-ask-2.txt.j2:1: error: unknown variable")
        for line in errors
    )
    assert "PersonVars" not in result.output
