"""The demo's loop for three simulated weeks, stepped on a fixed clock, and what it must show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from engine.cadences import load_cadences
from engine.clock import FixedClock
from engine.demo.checks import run_checks
from engine.demo.executives import work_the_leads
from engine.demo.world import FIRST_CADENCE, open_world
from engine.harness.scenario import scenario_from
from engine.prospects.contact_state import (
    ContactState,
    Exclusion,
    contact_state,
    load_contact_facts,
)
from engine.prospects.enrollment import plan_enrollment
from engine.prospects.segments import find_segment, segment_members
from engine.service.pipeline import build_pipeline, lead_waits, speed_to_lead
from engine.service.pipeline import deals as pipeline_deals
from engine.service.runtime import RuntimeOptions, build_runtime
from engine.store.db import make_engine

START = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)  # a Sunday: DST starts in the US a week later
STEP = timedelta(minutes=30)
# More answers than the play's 9%, so three weeks of sixty prospects show every kind of reply.
SCENARIO = {
    "seed": 11,
    "reply_rate": 0.3,
    "outcomes": {
        "referral": 35,
        "interest": 10,
        "not-now": 15,
        "not-interested": 15,
        "unsubscribe": 5,
        "auto-reply": 20,
    },
    "reply_delay": {"min": "20m", "max": "1d"},
    "invalid": {"rate": 0.08},
}


async def test_three_simulated_weeks_keep_the_plays_promises(tmp_path: Path) -> None:
    clock = FixedClock(START)
    world = await open_world(tmp_path / "demo", clock, scenario=scenario_from(SCENARIO))
    runtime = await build_runtime(world.config_path, RuntimeOptions(clock=clock, worker_id="e2e"))
    try:
        while clock.now() < START + timedelta(weeks=3):
            world.responder.step()
            for job in runtime.once:
                await job.run()
            clock.fast_forward(STEP)
    finally:
        await runtime.close()
        await world.harness.stop()

    engine = make_engine(world.config().database_url)
    checks = run_checks(engine, world.config())
    assert [c.name for c in checks if not c.ok] == [], [c.failures for c in checks]
    with engine.connect() as db:
        count = lambda sql: db.execute(sa.text(sql)).scalar_one()  # noqa: E731
        assert count("SELECT count(*) FROM outbound_message WHERE status = 'sent'") > 100
        assert count("SELECT count(*) FROM prospect WHERE email_status = 'invalid'") > 0
        assert count("SELECT count(*) FROM inbound_message WHERE label = 'referral'") > 0
        # Referred people were written to, and the follow-up named who sent us.
        assert (
            count(
                "SELECT count(*) FROM outbound_message o "
                "JOIN enrollment e ON e.id = o.enrollment_id "
                "WHERE e.referrer_id IS NOT NULL AND o.status = 'sent'"
            )
            > 0
        )

    # The simulated executive works the leads handed off: the pipeline and speed to lead show.
    assert work_the_leads(engine, clock.now(), seed=3) > 0
    config = world.config()
    with Session(engine) as session:
        deals = build_pipeline(pipeline_deals(session, config), config.pipeline.win_rates)
        waits = lead_waits(session, START, clock.now())
    assert deals.total.count > 0 and deals.total.weighted > 0
    assert sum(row.count for row in deals.by_grade if row.key != "-") > 0
    speed = speed_to_lead(waits, config.pipeline.speed_to_lead_hours, clock.now())
    assert speed.leads > 0 and speed.acted_on == speed.leads and speed.median_hours is not None
    # Running the first enrolment again takes nobody who replied, was in the cadence, or is at
    # a handed-off or paused account: only people never contacted, whose account is free now.
    config = world.config()
    cadence = load_cadences(config.cadences_path, config.templates_path)[FIRST_CADENCE]
    with Session(engine) as session:
        assert cadence.audience.segment is not None
        audience = find_segment(config.segments, cadence.audience.segment)
        members = list(segment_members(session, audience))
        plan = plan_enrollment(session, cadence, members, clock.now(), red_flags=config.red_flags)
        facts = load_contact_facts(session, plan.enrol)
    offered = {p.email: contact_state(facts[p.id or 0]).state for p in plan.enrol}
    assert set(offered.values()) <= {ContactState.NEVER_CONTACTED}, offered
    counts = plan.counts()
    assert counts.get(Exclusion.REPLIED, 0) + counts.get(Exclusion.ACCOUNT_HANDED_OFF, 0) > 0, (
        counts
    )
    assert (
        counts.get(Exclusion.IN_THIS_CADENCE, 0) + counts.get(Exclusion.WAS_IN_THIS_CADENCE, 0) > 0
    ), counts
    engine.dispose()
    # The checks looked at everything that was sent, not at an empty set.
    assert all(c.checked > 0 for c in checks), [(c.name, c.checked) for c in checks]
