"""Scans in worker processes: the same reports as in-process, and a dead worker fails one message closed."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dlp_gateway.config.schema import Quarantine, Upstream
from dlp_gateway.errors import ScanTimeoutError, ScanWorkerDiedError
from dlp_gateway.model import Envelope, Report
from dlp_gateway.observe import metrics
from dlp_gateway.pipeline import Pipeline
from dlp_gateway.quarantine.sqlite import SqliteStore
from dlp_gateway.quarantine.store import list_messages
from dlp_gateway.scanner import WORKER_GC_THRESHOLDS, ProcessScanner, default_workers
from dlp_gateway.smtp.relay import SmtpRelay
from dlp_gateway.smtp.server import Gateway
from tests import fixtures as fx
from tests.helpers import BRANCH_A, HEAD_OFFICE, SOMPO, TOKIO, TOKIO_LIST, Sink, example_config, make_message, submit

# A month-end list pasted into the body: seconds of detection.
BIG = make_message(
    "\n".join(f"証券番号：81{i:08d}　契約者名：山田 太郎 様" for i in range(30_000)), to=(BRANCH_A, SOMPO)
)
SEED = make_message(TOKIO_LIST, to=(BRANCH_A,), cc=(SOMPO, TOKIO))
ENVELOPE = Envelope(HEAD_OFFICE, (BRANCH_A, SOMPO, TOKIO))


async def kill_workers_while_scanning(scanner: ProcessScanner) -> asyncio.Task[Report]:
    """A list being scanned, and every worker SIGKILLed under it (as the OOM killer would)."""
    pids = await scanner.start()
    scan = asyncio.create_task(scanner.scan(BIG, ENVELOPE))
    await asyncio.sleep(0.3)
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    return scan


@pytest.fixture
async def scanner() -> AsyncIterator[ProcessScanner]:
    s = ProcessScanner(example_config(notices=None), workers=2)
    yield s
    s.close()


async def test_workers_give_the_same_report_as_the_pipeline(scanner: ProcessScanner) -> None:
    pids = await scanner.start()
    assert len(pids) == 2 and os.getpid() not in pids
    expected = Pipeline(example_config(notices=None)).scan(SEED, ENVELOPE)
    assert await scanner.scan(SEED, ENVELOPE) == expected
    assert expected.decision.recipients_with(expected.decision.verdict)  # a real verdict, not an empty one


async def test_a_dead_worker_fails_its_message_and_the_next_gets_new_workers(scanner: ProcessScanner) -> None:
    old = await scanner.start()
    scan = await kill_workers_while_scanning(scanner)
    with pytest.raises(ScanWorkerDiedError):
        await scan
    report = await scanner.scan(SEED, ENVELOPE)
    assert report.records
    assert not set(scanner.pool.pids) & set(old)


async def test_an_idle_worker_that_dies_fails_nothing(scanner: ProcessScanner) -> None:
    for pid in await scanner.start():
        os.kill(pid, signal.SIGKILL)
    await asyncio.sleep(0.3)
    assert (await scanner.scan(SEED, ENVELOPE)).records


async def test_through_the_gateway_a_dead_worker_means_on_error_not_a_pass(
    tmp_path: Path, sink: Sink, scanner: ProcessScanner
) -> None:
    cfg = example_config(notices=None, quarantine=Quarantine(path=tmp_path / "q.db"))
    store = SqliteStore(cfg.quarantine.path)
    gw = Gateway(cfg, scanner, SmtpRelay(Upstream("127.0.0.1", sink.port, timeout=5)), store)
    await gw.start(port=0)
    try:
        pids = await scanner.start()
        sent = asyncio.create_task(submit(gw.port, HEAD_OFFICE, [BRANCH_A, SOMPO, TOKIO], BIG))
        await asyncio.sleep(0.5)
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        code, reply = await sent
        assert code == 250 and "Held" in reply  # on_error: quarantine
        assert sink.received == []
        [held] = await list_messages(store)
        assert held.summary.scan_error == "scan failed: ScanWorkerDiedError"
        code, _ = await submit(gw.port, HEAD_OFFICE, [BRANCH_A, SOMPO, TOKIO], SEED)
        assert code == 250 and len(sink.received) == 1  # fresh workers scan (and strip) the next one
        assert SOMPO not in sink.received[0][1]
    finally:
        await gw.stop(timeout=1)


@pytest.mark.parametrize(("cpu_max", "limit"), [("max 100000\n", None), ("200000 100000\n", 2), ("50000 100000", 1)])
def test_default_workers_honour_a_container_cpu_limit(tmp_path: Path, cpu_max: str, limit: int | None) -> None:
    (tmp_path / "cpu.max").write_text(cpu_max)
    cores = len(os.sched_getaffinity(0))
    assert default_workers(tmp_path / "cpu.max") == (cores if limit is None else min(cores, limit))
    assert default_workers(tmp_path / "missing") == cores


async def test_a_scan_past_its_deadline_stops_in_the_worker(scanner: ProcessScanner) -> None:
    # The SMTP side stops waiting at limits.scan_timeout; a process pool cannot cancel a running
    # job, so the worker must stop by itself or stay busy, unseen, while mail queues for it.
    await scanner.start()
    started = time.monotonic()
    whole = await scanner.scan(BIG, ENVELOPE)
    whole_seconds = time.monotonic() - started
    assert len(whole.records) == 30_000
    started = time.monotonic()
    with pytest.raises(ScanTimeoutError):
        await scanner.scan(BIG, ENVELOPE, time.monotonic() + 0.2)
    assert time.monotonic() - started < whole_seconds / 2
    with pytest.raises(ScanTimeoutError):  # one that waited past its deadline does not start at all
        await scanner.scan(SEED, ENVELOPE, time.monotonic() - 1)
    assert (await scanner.scan(SEED, ENVELOPE)).records  # and the workers go on with the next


def test_reading_past_the_deadline_is_a_timeout_not_an_unscannable_part() -> None:
    xlsx = fx.multipart(
        "添付します。", [("application/octet-stream", 'attachment; filename="l.xlsx"', fx.xlsx_bytes())]
    )
    pipeline = Pipeline(example_config(notices=None))
    assert pipeline.scan(xlsx, ENVELOPE).records
    with pytest.raises(ScanTimeoutError):
        pipeline.read_message(xlsx, time.monotonic() - 1)  # not "attachment: unscannable"
    with pytest.raises(ScanTimeoutError):
        pipeline.scan(xlsx, ENVELOPE, time.monotonic() - 1)


async def test_through_the_gateway_a_scan_timeout_means_on_error(tmp_path: Path, sink: Sink) -> None:
    limits = dataclasses.replace(example_config().limits, scan_timeout=0.3)
    cfg = example_config(notices=None, quarantine=Quarantine(path=tmp_path / "q.db"), limits=limits)
    store = SqliteStore(cfg.quarantine.path)
    gw = Gateway(cfg, Pipeline(cfg), SmtpRelay(Upstream("127.0.0.1", sink.port, timeout=5)), store)
    await gw.start(port=0)
    try:
        code, reply = await submit(gw.port, HEAD_OFFICE, [BRANCH_A, SOMPO], BIG)
        assert code == 250 and "Held" in reply  # on_error: quarantine
        [held] = await list_messages(store)
        assert held.summary.scan_error == "scan failed: timeout"
        code, _ = await submit(gw.port, HEAD_OFFICE, [BRANCH_A, SOMPO, TOKIO], SEED)
        assert code == 250 and sink.received  # the scan thread was free for the next message
    finally:
        await gw.stop(timeout=1)


async def test_large_messages_leave_one_worker_for_ordinary_mail() -> None:
    limits = dataclasses.replace(example_config().limits, large_message_size=len(SEED) + 1)
    scanner = ProcessScanner(example_config(notices=None, limits=limits), workers=2)
    try:
        await scanner.start()
        started = time.monotonic()
        await scanner.scan(BIG, ENVELOPE)
        whole_seconds = time.monotonic() - started
        lists = [asyncio.create_task(scanner.scan(BIG, ENVELOPE)) for _ in range(2)]
        await asyncio.sleep(0.2)
        started = time.monotonic()
        assert (await scanner.scan(SEED, ENVELOPE)).records
        # Without the lane both workers would be busy with a list and SEED would wait for one.
        assert time.monotonic() - started < whole_seconds / 2
        assert sum(task.done() for task in lists) == 0
        assert all(len(r.records) == 30_000 for r in await asyncio.gather(*lists))  # both still scanned
    finally:
        scanner.close()


def waits() -> tuple[float, float]:
    """(count, sum) of dlp_scan_wait_seconds so far."""
    count = metrics.REGISTRY.get_sample_value("dlp_scan_wait_seconds_count") or 0.0
    return count, metrics.REGISTRY.get_sample_value("dlp_scan_wait_seconds_sum") or 0.0


async def test_the_wait_for_a_worker_is_measured_even_when_the_message_gives_up() -> None:
    limits = dataclasses.replace(example_config().limits, large_message_size=len(SEED) + 1)
    scanner = ProcessScanner(example_config(notices=None, limits=limits), workers=2)
    try:
        await scanner.start()
        scanner.watch()
        count, total = waits()
        first = asyncio.create_task(scanner.scan(BIG, ENVELOPE))
        await asyncio.sleep(0.2)
        assert metrics.REGISTRY.get_sample_value("dlp_scan_workers_busy") == 1
        assert metrics.REGISTRY.get_sample_value("dlp_scan_workers") == 2
        with pytest.raises(TimeoutError):  # a second list waits for the lane lists may take, and gives up
            await asyncio.wait_for(scanner.scan(BIG, ENVELOPE), 0.5)
        await first
        after_count, after_total = waits()
        assert after_count - count == 2  # the one that got a worker at once, and the one that gave up
        assert after_total - total >= 0.45
    finally:
        scanner.close()


async def test_workers_keep_what_they_hold_for_life_out_of_the_collector(scanner: ProcessScanner) -> None:
    # Full collections walked the dictionaries and detectors every few dozen messages (0.15 ms a
    # scan); frozen after start-up and warm-up, they are no longer walked.
    pids = await scanner.start()
    # Two jobs at once on two free workers: each worker answers for itself. (A worker that had
    # missed its warm-up answered (700, 10, 10) here: warm-up is now part of its start.)
    answers = await asyncio.gather(*(scanner.pool.run(collector_state, 0.3) for _ in pids))
    assert sorted(pid for pid, _, _ in answers) == pids
    for _, frozen, thresholds in answers:
        assert frozen > 10_000
        assert thresholds == WORKER_GC_THRESHOLDS != gc.get_threshold()


def collector_state(pause: float) -> tuple[int, int, tuple[int, int, int]]:
    """In a worker: its pid, how many objects it has frozen and its collector thresholds."""
    time.sleep(pause)  # held long enough that the other job goes to the other worker
    return os.getpid(), gc.get_freeze_count(), gc.get_threshold()
