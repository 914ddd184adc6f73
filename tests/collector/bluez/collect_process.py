"""Shared pieces of the ``rehab collect`` end-to-end tests: polling, device counts, the CLI."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.collector.bluez.fake_bluez import FakeBlueZ
from tests.collector.e2e.service_process import REHAB, rehab_env

__all__ = ["collect", "sent", "until"]


async def until(
    predicate: Callable[[], bool | Awaitable[bool]], *, limit_s: float, what: str
) -> None:
    """Poll ``predicate`` every 0.1 s; fail naming ``what`` after ``limit_s`` (a safety limit)."""
    try:
        async with asyncio.timeout(limit_s):
            while True:
                outcome = predicate()
                if outcome if isinstance(outcome, bool) else await outcome:
                    return
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


def sent(bluez: FakeBlueZ, address: str, uuid: str) -> int:
    """How many notifications the fake device has sent on ``uuid`` so far."""
    return bluez.peripherals[address].ticks.get(uuid, 0)


async def collect(state_dir: Path, *args: str) -> asyncio.subprocess.Process:
    """Start ``rehab collect <args>`` on ``state_dir``, stdout and stderr merged into stdout."""
    env = rehab_env(
        REHAB_COLLECTOR_DIR=str(state_dir),
        # Send partial batches after one second so the test sees them quickly.
        REHAB_BATCH_MAX_AGE_S="1",
        COLUMNS="200",
    )
    return await asyncio.create_subprocess_exec(
        str(REHAB),
        "collect",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
