"""The event loop's lag, sampled: every SMTP session, the console and /metrics share the gateway's
one event loop, so whatever holds it (a list's report, a slow callback) holds them all. A timer
that wakes late by X means the loop was busy for X."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from dlp_gateway.observe import metrics

INTERVAL = 0.1  # ten wake-ups a second: negligible CPU, and a stall of 0.1 s or more is always seen


async def watch_loop(interval: float = INTERVAL, observe: Callable[[float], None] | None = None) -> None:
    """Forever: sleep `interval`, and observe how much later than that the loop woke us."""
    record = observe or metrics.LOOP_LAG_SECONDS.observe
    loop = asyncio.get_running_loop()
    while True:
        asleep = loop.time()
        await asyncio.sleep(interval)
        record(max(0.0, loop.time() - asleep - interval))
