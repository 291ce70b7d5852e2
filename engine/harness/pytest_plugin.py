"""Pytest fixtures for a real local mail harness (ephemeral ports, a temporary store).

Load it from a conftest: `pytest_plugins = ["engine.harness.pytest_plugin"]`.

- `mail_harness`: a started `Harness` with one user, `alex@example-sender.com`
  (password in `mail_harness.users[...]`), stopped after the test.
- `mail_harness_factory`: an async callable `make(users=None, clock=None) -> Harness` for tests
  that need other users, a fixed clock or several harnesses; each is started for you and all
  are stopped after the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Mapping
from pathlib import Path
from typing import Protocol

import pytest
import pytest_asyncio

from engine.clock import Clock
from engine.harness.harness import DEFAULT_USER, Harness


class HarnessFactory(Protocol):
    def __call__(
        self, users: Mapping[str, str] | None = None, clock: Clock | None = None
    ) -> Awaitable[Harness]: ...


@pytest_asyncio.fixture
async def mail_harness_factory(tmp_path: Path) -> AsyncIterator[HarnessFactory]:
    started: list[Harness] = []

    async def make(users: Mapping[str, str] | None = None, clock: Clock | None = None) -> Harness:
        store = tmp_path / f"mail-harness-{len(started) + 1}"
        harness = Harness(store, users, clock=clock)
        await harness.start()
        started.append(harness)
        return harness

    yield make
    for harness in started:
        await harness.stop()


@pytest_asyncio.fixture
async def mail_harness(mail_harness_factory: HarnessFactory) -> Harness:
    return await mail_harness_factory({DEFAULT_USER: "harness-test-password"})


@pytest.fixture
def harness_user() -> str:
    """The address of the `mail_harness` fixture's user."""
    return DEFAULT_USER
