"""Where scans run. The SMTP adapter awaits `Scanner.scan`; detection never runs on the event loop.

`ProcessScanner` scans in worker processes, one per core by default, each holding its own Pipeline
(configuration and registry loaded in the worker). Detection is CPU-bound Python: threads of one
interpreter only take turns, and worse, they fight over the GIL around the regex module's matching —
measured here, 8 scan threads spent 6x the CPU of one thread on the same 80 messages.
`ThreadScanner` runs scans on one thread beside the loop: for tests, `scan` and `scan_workers: 1`.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import math
import os
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from dlp_gateway.config.schema import Config
from dlp_gateway.model import Envelope, Report
from dlp_gateway.observe import metrics
from dlp_gateway.pipeline import Pipeline, collector_paused
from dlp_gateway.worker_pool import WorkerPool

log = logging.getLogger(__name__)
# Loads the morphological dictionary and touches every detector, so the first real message is not slow.
_WARM_UP = (
    "Subject: warm-up\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n"
    "契約者名：山田 太郎 様 証券番号：8100000001 満期日：2025/01/01\r\n".encode()
)


class Scanner(Protocol):
    async def scan(self, raw: bytes, envelope: Envelope, deadline: float = math.inf) -> Report:
        """The report. `deadline` (time.monotonic()) is when the caller stops waiting: the scan
        itself stops there too (ScanTimeoutError) instead of running on unseen."""

    def close(self) -> None:
        """Take no new scans; scans already submitted still finish."""


class ThreadScanner:
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="dlp-scan")
        self.busy = 0

    def watch(self) -> None:
        """Report this scanner's workers in the capacity gauges (the one in force after a reload)."""
        metrics.SCAN_WORKERS.set(1)
        metrics.SCAN_WORKERS_BUSY.set_function(lambda: self.busy)

    async def scan(self, raw: bytes, envelope: Envelope, deadline: float = math.inf) -> Report:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._scan, raw, envelope, deadline, time.monotonic())

    def _scan(self, raw: bytes, envelope: Envelope, deadline: float, queued: float) -> Report:
        metrics.SCAN_WAIT_SECONDS.observe(time.monotonic() - queued)
        self.busy += 1  # (one thread: no race)
        try:
            return self.pipeline.scan(raw, envelope, deadline)
        finally:
            self.busy -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=False)


_WORKER: Pipeline | None = None
# A 130,000-row list allocates millions of objects that live until its report is sent, all of
# them acyclic; at the default (700, 10, 10) the collector ran 3,000 times during its scan and
# walked the growing heap 17 times in full: 1.5 s of 10.4 s. At these it ran 29 times, 0.3 s.
# Cycles (a parser's own) are still collected, after 50,000 allocations instead of 700.
WORKER_GC_THRESHOLDS = (50_000, 20, 100)


def _start_worker(config: Config) -> Callable[[], AbstractContextManager[None]]:
    """The worker's pipeline, built and warmed up; what each of its jobs runs inside."""
    global _WORKER  # noqa: PLW0603 - one pipeline per worker process, built once
    if sys.platform == "linux":
        # Die with the gateway, even when it is SIGKILLed: no orphaned workers holding the registry.
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the gateway's to handle
    from dlp_gateway.registry.open import registry_for, staff_for  # noqa: PLC0415 - only workers need it here

    _WORKER = Pipeline(config, registry_for(config, quiet=True), staff_for(config))
    # Warmed up before the worker says it is ready (a replacement too), so no message waits for it.
    _WORKER.scan(_WARM_UP, Envelope("warm-up@localhost", ("warm-up@localhost",)))
    settle_collector()
    return collector_paused


def settle_collector() -> None:
    """The collector as a scan worker runs it (bench/extract_throughput.py measures that way too).
    What the process holds for its life (configuration, detectors, the morphological dictionary)
    is moved out of the collector's reach: full collections walked it every few dozen messages,
    0.15 ms a scan (measured). A worker lives until the next reload, and then its process ends."""
    gc.freeze()
    gc.set_threshold(*WORKER_GC_THRESHOLDS)


def _scan_in_worker(raw: bytes, envelope: Envelope, deadline: float = math.inf) -> Report:
    # time.monotonic() is CLOCK_MONOTONIC, one clock for every process of the machine (Linux).
    assert _WORKER is not None
    return _WORKER.scan(raw, envelope, deadline)


CPU_MAX = Path("/sys/fs/cgroup/cpu.max")  # cgroup v2: "<quota> <period>" or "max <period>"


def default_workers(cpu_max: Path = CPU_MAX) -> int:
    """One per core we may use: the CPUs we are pinned to, capped by a container's CPU limit (a pod
    on a 32-core node with a 2-CPU limit must not start 32 workers, each holding the registry)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass  # no cgroup v2 limit to honour
    return cores


class ProcessScanner:
    def __init__(self, config: Config, workers: int) -> None:
        self.config, self.workers = config, workers
        self.pool = WorkerPool(workers, _start_worker, (config,))
        # Large messages (month-end lists: seconds each) never hold every worker at once: one stays
        # free for ordinary mail, which a burst of lists would otherwise queue behind.
        self._large = asyncio.Semaphore(workers - 1) if workers > 1 else None

    async def start(self, timeout: float = 120.0) -> list[int]:
        """Start every worker now and wait until each has loaded and warmed up; their process ids."""
        return await asyncio.wait_for(self.pool.started(), timeout)

    def watch(self) -> None:
        """Report this scanner's workers in the capacity gauges (the one in force after a reload)."""
        metrics.SCAN_WORKERS.set(self.workers)
        metrics.SCAN_WORKERS_BUSY.set_function(lambda: self.pool.busy)

    async def scan(self, raw: bytes, envelope: Envelope, deadline: float = math.inf) -> Report:
        queued, waited = time.monotonic(), False

        def started() -> None:
            nonlocal waited
            waited = True
            metrics.SCAN_WAIT_SECONDS.observe(time.monotonic() - queued)

        try:
            if self._large is not None and len(raw) >= self.config.limits.large_message_size:
                async with self._large:
                    return await self._run(raw, envelope, deadline, started)
            return await self._run(raw, envelope, deadline, started)
        finally:
            if not waited:  # it never got a worker (timed out waiting, say): the wait counts all the same
                metrics.SCAN_WAIT_SECONDS.observe(time.monotonic() - queued)

    async def _run(self, raw: bytes, envelope: Envelope, deadline: float, started: Callable[[], None]) -> Report:
        report: Report = await self.pool.run(_scan_in_worker, raw, envelope, deadline, on_start=started)
        return report

    def close(self) -> None:
        self.pool.close()
