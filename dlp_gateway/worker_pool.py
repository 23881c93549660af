"""Scan worker processes, each on its own pipe read by the event loop.

concurrent.futures' ProcessPoolExecutor costs the gateway process 0.32 ms of CPU a call (measured
with 36 KB messages): a feeder thread and a management thread pass every job and result through
queues and wake the loop from another thread, all under the GIL the loop needs. Here a job is one
pickle written to an idle worker's pipe and its reply one read when the loop sees the pipe readable
(0.07 ms a call). It also lets an idle worker die without failing anything: only the message a
worker was scanning fails (and follows on_error); a replacement is started at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import pickle
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from dlp_gateway.errors import ScanWorkerDiedError

log = logging.getLogger(__name__)
RESPAWN_DELAY = 5.0  # after a worker that died before it ever answered: not a tight restart loop
_READY = "ready"
REAP_SECONDS = 10.0  # a retired worker finishing its last reply
# A reply this large (a month-end list's report: 130,000 records, 12 MB) is unpickled on a thread.
# On the loop it held every SMTP session for 150 ms; on a thread, rebuilding each record runs
# Python code, so the interpreter hands the GIL back to the loop every few milliseconds.
LARGE_REPLY = 1 << 20


def serve(conn: Connection, start: Callable[..., Any], start_args: tuple[Any, ...]) -> None:
    """A worker's life: `start(*start_args)`, then one reply per request until the pipe closes.
    If `start` returns a context manager factory, each job and the sending of its reply run inside
    one (the scanner's holds the cyclic collector off until a list's reply is sent and freed)."""
    around = start(*start_args) or contextlib.nullcontext
    try:
        _send(conn, (True, _READY))
        while True:
            fn, args = conn.recv()
            with around():
                try:
                    reply: tuple[bool, Any] = (True, fn(*args))
                except Exception as exc:  # noqa: BLE001 - the caller decides; this worker goes on
                    reply = (False, exc)
                _send(conn, reply)
                del reply  # (freed before the collector is back: it never walks a sent report)
    except (EOFError, OSError):
        return  # the gateway closed our pipe (close, reload) or is gone


def _send(conn: Connection, reply: tuple[bool, Any]) -> None:
    try:
        conn.send(reply)  # pickles first: a reply that does not pickle leaves the pipe clean
    except OSError:
        raise
    except Exception:  # noqa: BLE001 - anything unpicklable
        # Only the type crosses: an exception's text could quote the message.
        conn.send((False, RuntimeError(f"unpicklable {type(reply[1]).__name__}")))


def _loads(data: bytes) -> tuple[bool, Any]:
    try:
        reply: tuple[bool, Any] = pickle.loads(data)  # noqa: S301 - from our own worker process
    except Exception as exc:  # noqa: BLE001 - a reply that does not unpickle fails its job only
        return False, RuntimeError(f"unreadable reply: {type(exc).__name__}")
    return reply


def _settle(job: asyncio.Future[Any], reply: tuple[bool, Any]) -> None:
    if job.done():
        return  # cancelled meanwhile (past the SMTP side's timeout)
    ok, value = reply
    if ok:
        job.set_result(value)
    else:
        job.set_exception(value)


def _reap(process: multiprocessing.process.BaseProcess) -> None:
    """Wait for a retired worker to exit (it does when it reads the end of its pipe), then collect it."""
    process.join(REAP_SECONDS)
    if process.is_alive():
        process.kill()
        process.join()


class _Worker:
    """One process and the gateway's end of its pipe."""

    def __init__(self, conn: Connection, process: multiprocessing.process.BaseProcess) -> None:
        self.conn, self.process = conn, process
        self.ready = False
        self.job: asyncio.Future[Any] | None = None


class WorkerPool:
    """`size` processes started with `start(*start_args)`; `run(fn, *args)` calls a module-level
    function in one of them. Jobs wait in order for a free worker."""

    def __init__(
        self, size: int, start: Callable[..., Any], start_args: tuple[Any, ...], large_reply: int = LARGE_REPLY
    ) -> None:
        self.size, self._start, self._start_args = size, start, start_args
        self.large_reply = large_reply
        # spawn, not fork: the gateway has threads and open sockets that a fork would copy.
        self._ctx = multiprocessing.get_context("spawn")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._workers: list[_Worker] = []
        self._idle: deque[_Worker] = deque()
        self._waiting: deque[asyncio.Future[_Worker]] = deque()
        self._closed = False
        self._readiness = asyncio.Event()  # set whenever a worker becomes ready

    @property
    def pids(self) -> list[int]:
        return sorted(w.process.pid for w in self._workers if w.process.pid is not None)

    async def started(self) -> list[int]:
        """Start the workers if they are not, and wait until every one has said it is ready (has
        run `start`); their process ids."""
        self._ensure_started()
        while len(self._workers) < self.size or not all(w.ready for w in self._workers):
            self._readiness.clear()
            await self._readiness.wait()
        return self.pids

    def _ensure_started(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            for _ in range(self.size):
                self._spawn()
        return self._loop

    def _spawn(self) -> None:
        if self._closed or self._loop is None:
            return
        ours, theirs = self._ctx.Pipe()
        process = self._ctx.Process(
            target=serve, args=(theirs, self._start, self._start_args), name="dlp-scan", daemon=True
        )
        process.start()
        theirs.close()
        worker = _Worker(ours, process)
        self._workers.append(worker)
        self._loop.add_reader(ours.fileno(), self._on_readable, worker)

    @property
    def busy(self) -> int:
        """Workers with a job (a cancelled job's worker too, until the job ends)."""
        return sum(1 for w in self._workers if w.job is not None)

    async def run(self, fn: Callable[..., Any], *args: Any, on_start: Callable[[], None] | None = None) -> Any:
        """fn(*args) in a worker; its exception is raised here. ScanWorkerDiedError if the worker
        died on it. Cancelled, the job still runs to its end and only then frees the worker.
        `on_start` is called when a worker takes the job (after any wait for one)."""
        loop = self._ensure_started()
        if self._closed:
            raise RuntimeError("the scan workers are closed")
        if self._idle:
            worker = self._idle.popleft()
        else:
            turn: asyncio.Future[_Worker] = loop.create_future()
            self._waiting.append(turn)
            try:
                worker = await turn
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled():
                    self._release(turn.result())  # handed a worker as we were cancelled: pass it on
                raise
        job: asyncio.Future[Any] = loop.create_future()
        worker.job = job
        if on_start is not None:
            on_start()
        try:
            worker.conn.send((fn, args))
        except (OSError, ValueError):  # its pipe is broken: it died while idle, unnoticed yet
            worker.job = None
            self._bury(worker)
            raise ScanWorkerDiedError("a scan worker died") from None
        return await job

    def _on_readable(self, worker: _Worker) -> None:
        job, worker.job = worker.job, None
        try:
            data = worker.conn.recv_bytes()
        except (EOFError, OSError):
            self._bury(worker)
            if job is not None and not job.done():
                job.set_exception(ScanWorkerDiedError("a scan worker died"))
            return
        if not worker.ready:
            worker.ready = True
            self._readiness.set()
        elif job is not None and len(data) >= self.large_reply and self._loop is not None:
            self._read_aside(self._loop, job, data)
        elif job is not None:
            _settle(job, _loads(data))
        self._release(worker)  # free for the next job while a large reply is still being read

    @staticmethod
    def _read_aside(loop: asyncio.AbstractEventLoop, job: asyncio.Future[Any], data: bytes) -> None:
        """Unpickle a large reply on the default executor's thread, then settle its job."""
        try:
            reading = loop.run_in_executor(None, _loads, data)
        except RuntimeError:  # the executor is shut down (the loop is closing): read it here
            _settle(job, _loads(data))
            return

        def done(f: asyncio.Future[tuple[bool, Any]]) -> None:
            _settle(job, (False, RuntimeError("reply not read: shutting down")) if f.cancelled() else f.result())

        reading.add_done_callback(done)

    def _release(self, worker: _Worker) -> None:
        """A free worker goes to the longest-waiting job, else to the idle ones."""
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(worker)
                return
        if self._closed:
            self._retire(worker)
        else:
            self._idle.append(worker)

    def _retire(self, worker: _Worker) -> asyncio.Future[None] | None:
        """Close its pipe: the worker sees the end of its requests and exits (collected on a thread)."""
        if self._loop is not None:
            self._loop.remove_reader(worker.conn.fileno())
        worker.conn.close()
        if worker in self._workers:
            self._workers.remove(worker)
        if self._loop is not None:
            return self._loop.run_in_executor(None, _reap, worker.process)
        return None

    def _bury(self, worker: _Worker) -> None:
        """A worker died (a parser crashed on hostile input, the OOM killer): start another."""
        answered = worker.ready
        if worker in self._idle:
            self._idle.remove(worker)
        reaped = self._retire(worker)
        if self._closed or self._loop is None:
            return
        process = worker.process

        def told(_: object) -> None:
            # Logged once the process is collected: its pipe closes a moment before the kernel has
            # its exit status, and reading it at once gave "exit None" under load.
            log.error("a scan worker died (pid %s, exit %s); starting another", process.pid, process.exitcode)

        if reaped is not None:
            reaped.add_done_callback(told)
        if answered:
            self._spawn()
        else:
            self._loop.call_later(RESPAWN_DELAY, self._spawn)

    def close(self) -> None:
        """Take no new jobs; jobs already submitted (running or waiting) still finish."""
        self._closed = True
        if not self._waiting:  # the free and the still starting go now, the busy when done
            self._idle.clear()
            for worker in [w for w in self._workers if w.job is None]:
                self._retire(worker)
