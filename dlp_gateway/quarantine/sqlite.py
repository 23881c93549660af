"""SQLite quarantine: the embedded default. WAL with synchronous=FULL, so a commit is on disk
before the gateway answers 250. Blocking calls run in a worker thread."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar

from dlp_gateway.errors import NotFoundError, StoreError
from dlp_gateway.quarantine.store import HeldMessage

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS held (
        ref TEXT PRIMARY KEY, received_at TEXT NOT NULL, mail_from TEXT NOT NULL,
        rcpt_tos TEXT NOT NULL, raw BLOB, verdict TEXT NOT NULL, rules TEXT NOT NULL,
        summary TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'held', reviewer TEXT, reason TEXT,
        decided_at TEXT)""",
    "CREATE INDEX IF NOT EXISTS held_status ON held(status, received_at)",
]
P = ParamSpec("P")
T = TypeVar("T")
COLUMNS = "ref, received_at, mail_from, rcpt_tos, raw, verdict, rules, summary, status, reviewer, reason, decided_at"


def _row(r: tuple[object, ...]) -> HeldMessage:
    return HeldMessage(
        ref=str(r[0]),
        received_at=str(r[1]),
        mail_from=str(r[2]),
        rcpt_tos=tuple(json.loads(str(r[3]))),
        raw=bytes(r[4]) if isinstance(r[4], (bytes, memoryview)) else b"",
        verdict=str(r[5]),
        rules=tuple(json.loads(str(r[6]))),
        summary=json.loads(str(r[7])),
        status=str(r[8]),
        reviewer=r[9] if isinstance(r[9], str) else None,
        reason=r[10] if isinstance(r[10], str) else None,
        decided_at=r[11] if isinstance(r[11], str) else None,
    )


class SqliteStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            for stmt in SCHEMA:
                db.execute(stmt)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            yield db
        finally:
            db.close()

    async def _run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except sqlite3.Error as exc:
            raise StoreError(f"quarantine database: {exc}") from exc

    def _put(self, item: HeldMessage) -> None:
        with self._connect() as db:
            db.execute(
                f"INSERT INTO held ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    item.ref,
                    item.received_at,
                    item.mail_from,
                    json.dumps(list(item.rcpt_tos)),
                    item.raw,
                    item.verdict,
                    json.dumps(list(item.rules)),
                    json.dumps(item.summary, ensure_ascii=False),
                    item.status,
                    item.reviewer,
                    item.reason,
                    item.decided_at,
                ),
            )

    def _get(self, ref: str) -> HeldMessage:
        with self._connect() as db:
            row = db.execute(f"SELECT {COLUMNS} FROM held WHERE ref = ?", (ref,)).fetchone()
        if row is None:
            raise NotFoundError(ref)
        return _row(row)

    def _list(self, status: str | None, limit: int) -> list[HeldMessage]:
        with self._connect() as db:
            if status is None:
                rows = db.execute(f"SELECT {COLUMNS} FROM held ORDER BY received_at LIMIT ?", (limit,))
            else:
                rows = db.execute(
                    f"SELECT {COLUMNS} FROM held WHERE status = ? ORDER BY received_at LIMIT ?", (status, limit)
                )
            return [_row(r) for r in rows.fetchall()]

    def _decide(self, ref: str, status: str, reviewer: str, reason: str, at: str) -> HeldMessage:
        with self._connect() as db:
            cur = db.execute(
                "UPDATE held SET status = ?, reviewer = ?, reason = ?, decided_at = ? "
                "WHERE ref = ? AND status = 'held'",
                (status, reviewer, reason, at, ref),
            )
            if cur.rowcount != 1:
                current = db.execute("SELECT status FROM held WHERE ref = ?", (ref,)).fetchone()
                if current is None:
                    raise NotFoundError(ref)
                raise StoreError(f"{ref} is already {current[0]}")
        return self._get(ref)

    async def put(self, item: HeldMessage) -> None:
        async with self._lock:
            await self._run(self._put, item)

    async def get(self, ref: str) -> HeldMessage:
        return await self._run(self._get, ref)

    async def list(self, status: str | None = "held", limit: int = 100) -> list[HeldMessage]:
        return await self._run(self._list, status, limit)

    async def decide(self, ref: str, status: str, reviewer: str, reason: str, at: str) -> HeldMessage:
        async with self._lock:
            return await self._run(self._decide, ref, status, reviewer, reason, at)
