"""The prospect commands end to end through click, on a temporary config and database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from engine.cli import main
from engine.store.db import upgrade

CONFIG = """\
database: sqlite:///spear.db
timezone: America/New_York
segments:
  execs:
    description: Senior people
    seniority: [c-level, vp]
red_flags:
  competitor_domains: [rival.com]
"""


def setup_folder(tmp_path: Path) -> list[str]:
    (tmp_path / "spear.yaml").write_text(CONFIG)
    (tmp_path / "cadences").mkdir()
    (tmp_path / "templates").mkdir()
    (tmp_path / "cadences" / "ask.yaml").write_text(
        "name: ask\naudience: {segment: execs}\nsteps:\n"
        "  - {id: first, subject: Hello, template: ask-1}\n"
    )
    (tmp_path / "templates" / "ask-1.txt.j2").write_text("Hi, who runs sales?\n")
    (tmp_path / "p.csv").write_text(
        "Email,Title\nann@acme.com,CEO\nbea@acme.com,VP Sales\ncal@beta.io,Engineer\n"
        "dan@rival.com,CEO\nbad@@x\n"
    )
    upgrade(f"sqlite:///{tmp_path / 'spear.db'}")
    return ["--config", str(tmp_path / "spear.yaml")]


def test_prospect_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    config = setup_folder(tmp_path)

    def spear(*args: str, code: int = 0) -> str:
        result = runner.invoke(main, [*config, *args])
        assert result.exit_code == code, result.output
        return result.output

    out = spear("import", str(tmp_path / "p.csv"))
    assert "p.csv: 4 imported, 0 updated, 1 rejected, 0 skipped (5 rows)" in out
    assert "rejected p.csv:6: email:" in out

    assert "execs: seniority=['c-level', 'vp']" in spear("segment", "list")
    shown = spear("segment", "show", "execs")
    assert shown.startswith("execs: 3 prospects")
    assert "ann@acme.com | CEO" in shown
    assert "no segment named 'nope'" in spear("segment", "show", "nope", code=1)
    empty = spear("enroll", "ask", "--dry-run", "--stage", "won")
    assert "Would enrol 0 in ask; 0 excluded." in empty
    assert "the cadence's audience matches no prospect with the --stage/--grade given" in empty

    plan = spear("enroll", "ask", "--dry-run")
    assert plan == (
        "Would enrol 1 in ask; 2 excluded.\n"
        "  excluded 1: account-ruled-out\n"
        "  excluded 1: account-busy\n"
    )
    plan = spear("enroll", "ask", "--dry-run", "--verbose")
    assert "  + ann@acme.com" in plan
    assert "bea@acme.com: account-busy: one contact per account: ann@acme.com" in plan
    assert "dan@rival.com: account-ruled-out: account rival.com is not-fit (competitor" in plan
    assert "never-contacted" in spear("prospect", "show", "cal@beta.io")
    assert "Enrolled 1 in ask" in spear("enroll", "ask", "--prospect", "CAL@beta.io")
    shown = spear("prospect", "show", "cal@beta.io")
    assert "state: in-cadence (ask, 0 steps sent)" in shown
    # Once in a cadence, never again by accident; --again says a person means it, but a
    # prospect still in the cadence stays one enrolment.
    again = spear("enroll", "ask", "--prospect", "cal@beta.io", "--again")
    assert "cal@beta.io: in-this-cadence: already in ask (active)" in again

    assert "added: acme.com" in spear("suppress", "add", "@acme.com", "--reason", "asked")
    (tmp_path / "s.txt").write_text("x@y.com\n")
    assert "1 added" in spear("suppress", "import", str(tmp_path / "s.txt"))
    listed = spear("suppress", "list")
    assert "domain\tacme.com\tasked\tmanual" in listed
    assert "is neither an address nor a domain" in spear("suppress", "add", "zz", code=1)

    held = json.loads(spear("export", "cal@beta.io"))
    assert held["prospect"]["title"] == "Engineer" and len(held["enrollments"]) == 1
    assert "erased" in spear("forget", "cal@beta.io", "--yes")
    assert json.loads(spear("export", "cal@beta.io"))["prospect"] is None
    # Imported again after being forgotten: the hash keeps them out, even with --again.
    assert "1 imported" in spear("import", str(tmp_path / "p.csv"))
    assert "state: forgotten" in spear("prospect", "show", "cal@beta.io")
    again = spear("enroll", "ask", "--prospect", "cal@beta.io", "--again")
    assert "Enrolled 0 in ask" in again and "cal@beta.io: forgotten" in again


def test_lists_print_json_and_csv_for_programs(tmp_path: Path) -> None:
    runner = CliRunner()
    config = setup_folder(tmp_path)

    def spear(*args: str) -> str:
        result = runner.invoke(main, [*config, *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    spear("import", str(tmp_path / "p.csv"))
    spear("suppress", "add", "@acme.com", "--reason", "asked")

    [segment] = json.loads(spear("segment", "list", "--format", "json"))
    assert segment["name"] == "execs" and "seniority" in segment["conditions"]
    members = spear("segment", "show", "execs", "--format", "csv").splitlines()
    assert members[0] == "email,first_name,last_name,title,account_id"
    assert len(members) == 1 + 3 and any(line.startswith("ann@acme.com,") for line in members)
    [entry] = json.loads(spear("suppress", "list", "--format", "json"))
    assert (entry["kind"], entry["value"], entry["reason"]) == ("domain", "acme.com", "asked")
    assert entry["source"] == "manual" and "T" in entry["created_at"]  # ISO 8601


def test_import_reads_standard_input(tmp_path: Path) -> None:
    config = setup_folder(tmp_path)
    rows = "Email,First Name\nann@acme.com,=?utf-8?q?Ann=0D=0ABcc:_x@evil.example?=\n"
    result = CliRunner().invoke(main, [*config, "import", "-"], input=rows)
    assert result.exit_code == 0, result.output
    assert "stdin: 1 imported" in result.output
    assert "warning: stdin:2: first_name: RFC 2047 encoded word decoded" in result.output

    # /dev/stdin is a pipe here, as in a shell: read once, no traceback.
    piped = subprocess.run(
        [sys.executable, "-m", "engine", *config, "import", "/dev/stdin"],
        input=b"Email\nbea@acme.com\n",
        capture_output=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert piped.returncode == 0, piped.stderr.decode()
    assert b"stdin: 1 imported" in piped.stdout
