"""A dispatcher in a process of its own, for the kill test: `python dispatch_child.py URL PORT`.

It sends everything due into the sink at PORT and exits; the test kills it mid-run with SIGKILL.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.clock import SystemClock
from engine.sending.dispatcher import Dispatcher
from engine.store.db import make_engine
from sending.support import sink_config


async def main(url: str, port: int) -> None:
    dispatcher = Dispatcher(make_engine(url), sink_config(port), SystemClock())
    try:
        stats = await dispatcher.run_once(limit=5)
    finally:
        await dispatcher.close()
    print(stats, flush=True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
