"""The scripted responder: simulated prospects answering the outreach the harness captures.

`plan_answer` is the pure decision for one outreach email and one recipient: bounce, reply (and
how), or silence, and when. Its dice are a `random.Random` seeded from the scenario's seed, the
outreach's Message-ID and the recipient, so a run is reproducible whatever order mail arrives in.

`Responder` is the loop around it: it reads newly captured mail from the store, plans answers to
outreach sent by harness users, and delivers each answer into the sender's INBOX once it is due
on the injected clock. `step()` does one pass and returns what it delivered (tests drive it
directly with a `FixedClock`); `run()` repeats it until cancelled. A thread already answered is
not answered again unless the scenario sets `reply_to_follow_ups`. The responder keeps its state
in memory: a restarted responder answers only mail captured after it started.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from engine.clock import Clock
from engine.harness.mailstore import CapturedMessage, MailStore
from engine.harness.replies import Outreach, build_answer, outreach_from
from engine.harness.scenario import DelayRange, Outcome, Scenario

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedAnswer:
    outcome: Outcome
    due_at: datetime
    deliver_to: str  # the harness user whose INBOX receives it
    raw: bytes


@dataclass(order=True)
class _Pending:
    due_at: datetime
    order: int
    answer: PlannedAnswer = field(compare=False)


def answer_rng(scenario: Scenario, outreach: Outreach) -> random.Random:
    return random.Random(f"{scenario.seed}|{outreach.message_id}|{outreach.recipient}")


def choose_outcome(scenario: Scenario, outreach: Outreach, rng: random.Random) -> Outcome | None:
    """What this recipient does with this email: an outcome, or None for silence."""
    if outreach.recipient in scenario.forced:
        return scenario.forced[outreach.recipient]
    # Draw every die every time, so changing one rate does not reshuffle the others' results.
    invalid_draw, reply_draw = rng.random(), rng.random()
    if scenario.invalid.listed(outreach.recipient) or invalid_draw < scenario.invalid.rate:
        return Outcome.BOUNCE
    if reply_draw >= scenario.reply_rate:
        return None
    outcomes = [o for o, weight in scenario.outcomes.items() if weight > 0]
    weights = [scenario.outcomes[o] for o in outcomes]
    return rng.choices(outcomes, weights)[0]


def plan_answer(
    scenario: Scenario, outreach: Outreach, arrived_at: datetime, deliver_to: str
) -> PlannedAnswer | None:
    """The answer (if any) `outreach.recipient` gives, built and dated when it is due."""
    rng = answer_rng(scenario, outreach)
    outcome = choose_outcome(scenario, outreach, rng)
    if outcome is None:
        return None
    delays = scenario.bounce_delay if outcome is Outcome.BOUNCE else scenario.reply_delay
    due_at = arrived_at + _draw_delay(delays, rng)
    raw = build_answer(outcome, outreach, rng, due_at)
    return PlannedAnswer(outcome, due_at, deliver_to, raw)


def _draw_delay(delays: DelayRange, rng: random.Random) -> timedelta:
    low, high = delays.min.total_seconds(), delays.max.total_seconds()
    return timedelta(seconds=round(rng.uniform(low, high)))


class Responder:
    """Answers outreach captured in `store` that was sent by one of `users`."""

    def __init__(
        self,
        store: MailStore,
        users: Collection[str],
        scenario: Scenario,
        clock: Clock,
        *,
        tick_seconds: float = 60.0,
        answer_existing: bool = False,
    ) -> None:
        self.store = store
        self.users = users
        self.scenario = scenario
        self.clock = clock
        self.tick_seconds = tick_seconds  # clock seconds between passes in `run()`
        self.delivered: list[PlannedAnswer] = []
        self._pending: list[_Pending] = []
        self._order = itertools.count()  # ties on due_at keep capture order
        self._answered_threads: set[tuple[str, str]] = set()
        existing = store.captured()
        self._last_seen = 0 if answer_existing or not existing else existing[-1].id

    def step(self) -> list[PlannedAnswer]:
        """Plan answers to newly captured outreach; deliver those now due. Returns the delivered."""
        for captured in self.store.captured_since(self._last_seen):
            self._last_seen = captured.id
            self._plan(captured)
        now = self.clock.now()
        delivered: list[PlannedAnswer] = []
        while self._pending and self._pending[0].due_at <= now:
            answer = heapq.heappop(self._pending).answer
            self.store.deliver(answer.deliver_to, answer.raw)
            log.info("responder delivered a %s answer to %s", answer.outcome, answer.deliver_to)
            delivered.append(answer)
        self.delivered += delivered
        return delivered

    @property
    def pending(self) -> list[PlannedAnswer]:
        return [item.answer for item in sorted(self._pending)]

    async def run(self) -> None:
        """Step, then sleep a tick of the clock, until cancelled."""
        while True:
            self.step()
            await self.clock.sleep(self.tick_seconds)
            await asyncio.sleep(0)

    def _plan(self, captured: CapturedMessage) -> None:
        users = {user.lower() for user in self.users}
        recipients = [r.lower() for r in captured.rcpt_tos if r.lower() not in users]
        if not recipients:
            return  # mail between harness users (a hand-off) is not outreach
        raw = captured.read_bytes()
        for recipient in recipients:
            outreach = outreach_from(raw, recipient)
            deliver_to = _first_user([outreach.sender, captured.mail_from], users)
            if deliver_to is None:
                continue  # nobody in the harness would receive the answer
            thread = (outreach.thread_root, recipient)
            if thread in self._answered_threads and not self.scenario.reply_to_follow_ups:
                continue
            answer = plan_answer(self.scenario, outreach, captured.received_at, deliver_to)
            if answer is None:
                continue
            if answer.outcome is Outcome.BOUNCE:
                # A bounce goes back to the envelope sender, as an MTA sends it.
                bounce_to = _first_user([captured.mail_from, outreach.sender], users)
                answer = PlannedAnswer(
                    answer.outcome, answer.due_at, bounce_to or deliver_to, answer.raw
                )
            self._answered_threads.add(thread)
            heapq.heappush(self._pending, _Pending(answer.due_at, next(self._order), answer))


def _first_user(candidates: list[str], users: Collection[str]) -> str | None:
    for candidate in candidates:
        if candidate and candidate.lower() in users:
            return candidate.lower()
    return None
