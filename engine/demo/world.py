"""The demo's world: a working folder, the local mail harness, the responder and the prospects.

Everything a newcomer would otherwise set up by hand: `spear init`'s files, a `spear.yaml` whose
mailboxes point at the harness, a generated list of fictional executives imported and enrolled in
the shipped referral-ask cadence. The demo (`engine.demo.live`) runs the daemon in it on a fast
clock; the end-to-end test steps the same runtime through it on a fixed clock.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from engine.cadences import load_cadences
from engine.clock import Clock
from engine.config import Config, load_config
from engine.demo.prospects import as_csv, fictional_prospects
from engine.errors import SpearError
from engine.harness import Harness
from engine.harness.responder import Responder
from engine.harness.scenario import Scenario, default_scenario
from engine.prospects.enrollment import enroll, plan_enrollment
from engine.prospects.importer import import_prospects
from engine.prospects.segments import find_segment, segment_members
from engine.shipped import copy_files, starter_files
from engine.store.db import make_engine, session_scope, upgrade

SENDERS = {"alex": "Alex Rivera", "sam": "Sam Okoro"}
SENDER_DOMAIN = "example-sender.com"
ACCOUNT_EXECUTIVE = f"ae@{SENDER_DOMAIN}"
PASSWORD = "demo-password"  # the harness's own, on loopback; kept in a file as Spear requires
FIRST_CADENCE = "referral-ask"
MARKER = ".spear-demo"  # in a folder the demo wrote, which a new run may empty


@dataclass
class World:
    workdir: Path
    harness: Harness
    responder: Responder
    clock: Clock

    @property
    def config_path(self) -> Path:
        return self.workdir / "spear.yaml"

    def config(self) -> Config:
        return load_config(self.config_path)


async def open_world(
    workdir: Path,
    clock: Clock,
    *,
    prospects: int = 60,
    seed: int = 7,
    scenario: Scenario | None = None,
    poll_interval_seconds: float = 60.0,
) -> World:
    """A fresh world in `workdir` (a previous demo's folder is emptied), harness started."""
    prepare_folder(workdir)
    copy_files([c for c in starter_files(workdir) if c[1].name != "spear.yaml"])
    users = {f"{name}@{SENDER_DOMAIN}": PASSWORD for name in SENDERS}
    users[ACCOUNT_EXECUTIVE] = PASSWORD
    harness = Harness(workdir / "mail", users, clock=clock)
    await harness.start()
    (workdir / "mailbox-password").write_text(PASSWORD)
    (workdir / "spear.yaml").write_text(_config_text(harness, poll_interval_seconds))
    (workdir / "prospects.csv").write_text(as_csv(fictional_prospects(prospects, seed)))
    import_and_enrol(load_config(workdir / "spear.yaml"), workdir / "prospects.csv", clock.now())
    responder = Responder(harness.store, list(users), scenario or default_scenario(), clock)
    return World(workdir, harness, responder, clock)


def prepare_folder(workdir: Path) -> None:
    """Empty `workdir` for a new run, but only if it is missing, empty or a demo's own folder.

    The marker file says the demo wrote the folder; anything else is someone's work, and
    `--dir my-outreach` must never wipe a project.
    """
    if workdir.exists() and not workdir.is_dir():
        raise SpearError(f"{workdir} is a file, not a folder; choose another --dir")
    if workdir.is_dir() and any(workdir.iterdir()):
        if not (workdir / MARKER).is_file():
            raise SpearError(
                f"{workdir} is not empty and was not written by the demo; "
                "choose another --dir or empty it"
            )
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / MARKER).write_text(
        "Written by `spear demo`; a new run of the demo empties this folder.\n"
    )


def _config_text(harness: Harness, poll_interval_seconds: float) -> str:
    mailboxes = "".join(
        f"""\
  - name: {name}
    address: {name}@{SENDER_DOMAIN}
    display_name: {display}
    owner: {name}
    smtp: {{host: {harness.host}, port: {harness.smtp_port}, tls: none,
           user: {name}@{SENDER_DOMAIN}, password: {{file: mailbox-password}}}}
    imap: {{host: {harness.host}, port: {harness.imap_port}, tls: none,
           user: {name}@{SENDER_DOMAIN}, password: {{file: mailbox-password}}}}
    daily_cap: 50
    hourly_cap: 20
"""
        for name, display in SENDERS.items()
    )
    return f"""\
# Written by the demo: two rep mailboxes on the local mail harness.
database: sqlite:///spear.db
timezone: America/New_York
poll_interval_seconds: {poll_interval_seconds}
mailboxes:
{mailboxes}
segments:
  executives:
    description: Senior people at B2B companies
    seniority: [c-level, vp, director]
hand_off:
  account_executive: {ACCOUNT_EXECUTIVE}
"""


def import_and_enrol(config: Config, csv_path: Path, now: datetime) -> None:
    """Import the prospects in `csv_path`; enrol the first cadence's segment in it."""
    upgrade(config.database_url)
    engine = make_engine(config.database_url)
    cadences = load_cadences(config.cadences_path, config.templates_path)
    cadence = cadences[FIRST_CADENCE]
    with session_scope(engine) as session:
        import_prospects(session, csv_path, now=now, red_flags=config.red_flags)
    with session_scope(engine) as session:
        assert cadence.audience.segment is not None
        audience = find_segment(config.segments, cadence.audience.segment)
        members = list(segment_members(session, audience))
        plan = plan_enrollment(session, cadence, members, now, red_flags=config.red_flags)
        enroll(session, cadence, plan.enrol, now=now, red_flags=config.red_flags)
    engine.dispose()
