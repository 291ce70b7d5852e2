"""Persisted jobs: the retry policy's arithmetic, and claims and leases on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session

from engine.store.db import session_scope
from engine.store.events import EventKind
from engine.store.jobs import EventJobs, JobState, RetryPolicy
from engine.store.models import Event

START = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
# A queue that keeps its states in `data["status"]`, under a kind of its own (as hand-offs do).
KIND = EventKind.HANDOFF_EMAIL
WAITING, WORKING, DONE = (JobState(KIND, status) for status in ("pending", "working", "done"))
LEASE = timedelta(minutes=10)

# --- the retry policy ---------------------------------------------------------------------------


def test_the_default_policy_is_the_outboxs_rule() -> None:
    policy = RetryPolicy()
    waits = [policy.delay(attempts) for attempts in range(1, 8)]
    assert waits == [timedelta(minutes=m) for m in (5, 10, 20, 40, 80, 120, 120)]
    assert policy.delay(10_000) == timedelta(hours=2)  # no overflow however many attempts
    # After the first failed attempt, an hour after the planned time: five minutes later.
    assert policy.next_attempt(1, START, START + timedelta(hours=1)) == START + timedelta(
        hours=1, minutes=5
    )
    # The next attempt would land past 48 hours after the planned time: give up.
    late = START + timedelta(hours=47)
    assert policy.next_attempt(9, START, late) is None and policy.gave_up(9, START, late)
    assert policy.next_attempt(9, START, START + timedelta(hours=46)) == START + timedelta(
        hours=48
    )  # exactly at the deadline still counts


@pytest.mark.parametrize(
    "arguments",
    [
        {"first_delay": timedelta(0)},
        {"first_delay": timedelta(hours=3)},  # longer than max_delay
        {"factor": 0.5},
        {"deadline": timedelta(seconds=-1)},
    ],
)
def test_a_policy_that_makes_no_sense_is_refused(arguments: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="a retry policy needs"):
        RetryPolicy(**arguments)  # type: ignore[arg-type]


seconds = st.integers(min_value=1, max_value=10 * 24 * 3600).map(lambda s: timedelta(seconds=s))


@st.composite
def policies(draw: st.DrawFn) -> RetryPolicy:
    first = draw(seconds)
    return RetryPolicy(
        first_delay=first,
        max_delay=first + draw(seconds),
        deadline=draw(seconds),
        factor=draw(st.floats(min_value=1, max_value=10)),
    )


@given(policies(), st.integers(min_value=1, max_value=200))
def test_delays_grow_and_stay_within_first_and_max(policy: RetryPolicy, attempts: int) -> None:
    wait, following = policy.delay(attempts), policy.delay(attempts + 1)
    assert policy.first_delay <= wait <= following <= policy.max_delay


@given(policies(), st.integers(min_value=1, max_value=200), seconds, seconds)
def test_never_a_retry_past_the_deadline(
    policy: RetryPolicy, attempts: int, since_start: timedelta, later: timedelta
) -> None:
    now = START + since_start
    retry_at = policy.next_attempt(attempts, START, now)
    if retry_at is None:
        # Given up stays given up: later, or after more attempts, there is no retry either.
        assert policy.gave_up(attempts, START, now + later)
        assert policy.gave_up(attempts + 1, START, now)
    else:
        assert now < retry_at <= START + policy.deadline
        assert retry_at - now == policy.delay(attempts)


# --- claims and leases, on both databases -------------------------------------------------------


def queue(engine: Engine) -> EventJobs:
    return EventJobs(engine, waiting=WAITING, working=WORKING, lease=LEASE, live_only=True)


def add_jobs(engine: Engine, count: int = 1) -> list[int]:
    with session_scope(engine) as session:
        events = [Event(at=START, **WAITING.stored({"n": n})) for n in range(count)]
        session.add_all(events)
        session.flush()
        return [event.id for event in events if event.id is not None]


def stored(engine: Engine, event_id: int) -> Event:
    with Session(engine) as session:
        event = session.get(Event, event_id)
        assert event is not None
        return event


def test_two_workers_that_saw_the_same_job_never_both_claim_it(any_db_engine: Engine) -> None:
    [job] = add_jobs(any_db_engine)
    first, second = queue(any_db_engine), queue(any_db_engine)
    [seen_by_first] = first.due(START)
    [seen_by_second] = second.due(START)

    claimed = first.claim(seen_by_first, START)
    assert claimed is not None and WORKING.contains(claimed)
    assert second.claim(seen_by_second, START) is None
    assert first.due(START) == []  # claimed, the lease still running

    # Finished back to waiting with a retry time: a worker holding the old view still loses.
    retry_at = START + timedelta(minutes=5)
    assert first.finish(claimed, WAITING, {**claimed.data, "next_attempt_at": retry_at.isoformat()})
    assert second.claim(seen_by_second, START) is None
    data = stored(any_db_engine, job).data
    assert "claim" not in data and "claimed_at" not in data and data["n"] == 0
    assert first.due(START + timedelta(minutes=4)) == []
    [again] = second.due(retry_at)
    assert second.claim(again, retry_at) is not None


def test_many_workers_at_once_claim_each_job_exactly_once(any_db_engine: Engine) -> None:
    jobs = add_jobs(any_db_engine, 30)
    workers = 4
    start = threading.Barrier(workers)
    claimed: list[list[int]] = [[] for _ in range(workers)]

    def work(index: int) -> None:
        jobs_queue = queue(any_db_engine)
        seen = jobs_queue.due(START)
        start.wait()  # everyone holds the same view of the due jobs
        for event in seen:
            job = jobs_queue.claim(event, START)
            if job is not None and job.id is not None:
                claimed[index].append(job.id)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    everything = [job for mine in claimed for job in mine]
    assert sorted(everything) == jobs  # every job claimed, none twice


def test_an_expired_lease_is_taken_over_and_the_old_holder_writes_nothing(
    any_db_engine: Engine,
) -> None:
    [job] = add_jobs(any_db_engine)
    crashed, survivor = queue(any_db_engine), queue(any_db_engine)
    [seen] = crashed.due(START)
    lost = crashed.claim(seen, START)
    assert lost is not None

    assert survivor.due(START + LEASE - timedelta(seconds=1)) == []
    later = START + LEASE
    [stale] = survivor.due(later)
    taken = survivor.claim(stale, later)
    assert taken is not None and taken.data["claim"] != lost.data["claim"]
    assert survivor.claim(stale, later) is None  # taken over once only

    # The first holder wakes up: its outcome is not written over the new holder's claim.
    assert not crashed.finish(lost, DONE, {**lost.data, "outcome": "late"})
    assert survivor.finish(taken, DONE, {**taken.data, "outcome": "ok"})
    event = stored(any_db_engine, job)
    assert DONE.contains(event) and event.data["outcome"] == "ok"
    assert survivor.due(later + LEASE) == []


def test_a_claim_left_by_older_code_is_taken_over_after_the_lease(any_db_engine: Engine) -> None:
    # Rows written before claims carried a token: `claimed_at` only.
    with session_scope(any_db_engine) as session:
        event = Event(at=START, **WORKING.stored({"claimed_at": START.isoformat()}))
        session.add(event)
    jobs = queue(any_db_engine)
    assert jobs.due(START + timedelta(minutes=9)) == []
    [stale] = jobs.due(START + LEASE)
    assert jobs.claim(stale, START + LEASE) is not None


def test_an_undone_job_is_left_alone(any_db_engine: Engine) -> None:
    [job] = add_jobs(any_db_engine)
    jobs = queue(any_db_engine)
    [seen] = jobs.due(START)
    with session_scope(any_db_engine) as session:
        event = session.get(Event, job)
        assert event is not None
        event.undone_at = START
        session.add(event)
    assert jobs.claim(seen, START) is None
    assert jobs.due(START) == []
