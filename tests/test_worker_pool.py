"""The scan worker pool: one pipe per worker process, read by the event loop."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import threading
import time
from collections.abc import AsyncIterator

import pytest

from dlp_gateway.errors import ScanWorkerDiedError
from dlp_gateway.worker_pool import WorkerPool


def nothing_to_load() -> None:
    pass


def fail_to_start() -> None:
    raise SystemExit(3)


def pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


class Unpicklable(Exception):  # noqa: N818 - named for what the test is about
    def __init__(self, secret: str) -> None:
        super().__init__(secret)
        self.handle = lambda: secret  # a lambda does not pickle


READ_ON: list[str] = []  # the thread each Witness was rebuilt on, in the gateway's process


def _rebuilt(size: int) -> Witness:
    READ_ON.append(threading.current_thread().name)
    return Witness(size)


class Witness:
    """A reply that tells which thread unpickled it."""

    def __init__(self, size: int) -> None:
        self.padding = b"x" * size

    def __reduce__(self) -> tuple[object, tuple[int]]:
        return _rebuilt, (len(self.padding),)


def witness(size: int, padding: int) -> tuple[Witness, bytes]:
    return Witness(size), b"p" * padding


def not_unpicklable() -> Unloadable:
    return Unloadable()


def _refuse() -> None:
    raise ValueError("no")


class Unloadable:
    """Pickles in the worker; fails to unpickle in the gateway."""

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return _refuse, ()


def raise_value_error(text: str) -> None:
    raise ValueError(text)


def raise_unpicklable(secret: str) -> None:
    raise Unpicklable(secret)


@pytest.fixture
async def pool() -> AsyncIterator[WorkerPool]:
    p = WorkerPool(2, nothing_to_load, ())
    yield p
    p.close()


async def test_jobs_run_in_the_workers_and_their_exceptions_come_back(pool: WorkerPool) -> None:
    started = await pool.started()
    assert len(started) == 2 and started == pool.pids
    pids = set(await asyncio.gather(*(pool.run(pid_after, 0.2) for _ in range(2))))
    assert pids == set(pool.pids) and os.getpid() not in pids and len(pids) == 2  # one job each: both free
    with pytest.raises(ValueError, match="bad"):
        await pool.run(raise_value_error, "bad")
    with pytest.raises(RuntimeError, match=r"^unpicklable Unpicklable$") as caught:  # the type, never the text
        await pool.run(raise_unpicklable, "山田 太郎 8100000001")
    assert "山田" not in repr(caught.value)
    assert await pool.run(pid_after, 0) in pids  # and the worker went on


async def test_a_large_reply_is_read_off_the_event_loop(pool: WorkerPool) -> None:
    await pool.started()
    READ_ON.clear()
    small, _ = await pool.run(witness, 10, 10)
    large, _ = await pool.run(witness, 10, pool.large_reply)
    assert isinstance(small, Witness) and isinstance(large, Witness)
    loop_thread = threading.current_thread().name
    assert READ_ON[0] == loop_thread and READ_ON[1] != loop_thread
    with pytest.raises(RuntimeError, match=r"^unreadable reply: ValueError$"):  # small or large, its job fails
        await pool.run(not_unpicklable)
    pool.large_reply = 0
    with pytest.raises(RuntimeError, match=r"^unreadable reply: ValueError$"):
        await pool.run(not_unpicklable)
    assert await pool.run(pid_after, 0) in pool.pids  # and the workers go on


async def test_jobs_beyond_the_workers_wait_their_turn(pool: WorkerPool) -> None:
    await pool.started()
    started = time.monotonic()
    taken: list[float] = []  # when a worker took each job (what dlp_scan_wait_seconds observes)
    busy: list[int] = []

    def on_start() -> None:
        taken.append(time.monotonic() - started)
        busy.append(pool.busy)

    results = await asyncio.gather(*(pool.run(pid_after, 0.3, on_start=on_start) for _ in range(6)))
    assert len(results) == 6 and set(results) == set(pool.pids)
    assert time.monotonic() - started >= 0.85  # three rounds of two, never more than two at once
    assert len(taken) == 6 and max(taken[:2]) < 0.2 and min(taken[2:]) >= 0.25 and min(taken[4:]) >= 0.55
    # (a worker handed to a waiting job counts once that job's coroutine has resumed)
    assert busy[:2] == [1, 2] and all(1 <= b <= 2 for b in busy) and pool.busy == 0


async def test_a_cancelled_job_keeps_its_worker_until_it_ends(pool: WorkerPool) -> None:
    await pool.started()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(pool.run(pid_after, 1.0), 0.1)
    started = time.monotonic()
    await asyncio.gather(*(pool.run(pid_after, 0.5) for _ in range(2)))
    # Both at once (0.5 s) only if the cancelled job's worker were taken from under it: one waits.
    assert time.monotonic() - started >= 0.9


async def test_close_finishes_running_and_waiting_jobs_then_ends_the_workers(pool: WorkerPool) -> None:
    await pool.started()
    pids = pool.pids
    jobs = [asyncio.create_task(pool.run(pid_after, 0.2)) for _ in range(3)]
    await asyncio.sleep(0.05)
    pool.close()
    with pytest.raises(RuntimeError, match="closed"):
        await pool.run(pid_after, 0)
    assert len(await asyncio.gather(*jobs)) == 3
    await asyncio.sleep(0.5)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # exited and reaped


async def test_a_worker_killed_mid_job_fails_that_job_only(pool: WorkerPool, caplog: pytest.LogCaptureFixture) -> None:
    await pool.started()
    doomed = asyncio.create_task(pool.run(pid_after, 5))
    other = asyncio.create_task(pool.run(pid_after, 0.5))
    await asyncio.sleep(0.2)
    busy = next(w.process.pid for w in pool._workers if w.job is not None)  # the doomed job's worker
    assert busy is not None
    os.kill(busy, signal.SIGKILL)
    results = await asyncio.gather(doomed, other, return_exceptions=True)
    assert sum(isinstance(r, ScanWorkerDiedError) for r in results) == 1
    assert sum(isinstance(r, int) for r in results) == 1  # the other worker's job is untouched
    assert len(set(await asyncio.gather(*(pool.run(pid_after, 0.2) for _ in range(2))))) == 2  # replaced
    assert busy not in pool.pids and len(pool.pids) == 2
    assert f"a scan worker died (pid {busy}, exit -9)" in caplog.text  # SIGKILL, for the SRE


async def test_a_worker_that_cannot_start_is_not_restarted_in_a_tight_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dlp_gateway.worker_pool.RESPAWN_DELAY", 0.5)
    pool = WorkerPool(1, fail_to_start, ())
    spawned: list[float] = []
    real = pool._spawn

    def counted() -> None:
        spawned.append(time.monotonic())
        real()

    monkeypatch.setattr(pool, "_spawn", counted)
    try:
        with pytest.raises(TimeoutError):  # no worker ever answers: the job waits (the caller's timeout)
            await asyncio.wait_for(pool.run(pid_after, 0), 2.0)
        assert 2 <= len(spawned) <= 4  # every 0.5 s plus a start-up, not as fast as processes die
    finally:
        pool.close()


def jobs_with_the_collector_off() -> object:
    # Imported here: a worker of the other tests unpickles this module, and must start fast.
    from dlp_gateway.pipeline import collector_paused  # noqa: PLC0415

    return collector_paused


async def test_each_job_runs_inside_what_the_start_returns() -> None:
    """The scanner's workers run each job, and send its reply, with the cyclic collector off
    (pipeline.collector_paused): a list's report is freed before the collector walks anything. A
    worker whose start returns nothing runs its jobs as they are; either way it goes on after an
    exception."""
    paused = WorkerPool(1, jobs_with_the_collector_off, ())
    plain = WorkerPool(1, nothing_to_load, ())
    try:
        assert await paused.run(gc.isenabled) is False
        with pytest.raises(ValueError, match="bad"):
            await paused.run(raise_value_error, "bad")
        assert await paused.run(gc.isenabled) is False
        assert await plain.run(gc.isenabled) is True
    finally:
        paused.close()
        plain.close()
