"""SQLite quarantine: the embedded default. WAL with synchronous=FULL, so a commit is on disk
before the gateway answers 250. Blocking calls run in a worker thread."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from dlp_gateway.errors import NotFoundError, StoreError
from dlp_gateway.held import Activity, AuditEntry, HeldMessage, HeldStatus, Page, Query, User
from dlp_gateway.quarantine import sql

P = ParamSpec("P")
T = TypeVar("T")


class SqliteStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            migrate(db)

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

    def _rows(self, query: str, args: tuple[Any, ...] | list[Any] = ()) -> list[tuple[Any, ...]]:
        with self._connect() as db:
            return db.execute(query, tuple(args)).fetchall()

    def _tx(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                result = work(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return result

    # --- messages ------------------------------------------------------------------------

    async def put(self, item: HeldMessage) -> None:
        async with self._lock:
            await self._run(self._tx, lambda db: db.execute(sql.INSERT_HELD, sql.held_params(item)))

    async def get(self, ref: str) -> HeldMessage:
        rows = await self._run(self._rows, sql.GET_HELD, (ref,))
        if not rows:
            raise NotFoundError(ref)
        return sql.held_from_row(rows[0])

    async def search(self, query: Query) -> Page:
        page, count, args = sql.search_sql(query)
        rows = await self._run(self._rows, page, args)
        total = (await self._run(self._rows, count, args))[0][0]
        return Page([sql.held_from_row(r) for r in rows], int(total))

    async def decide(
        self,
        ref: str,
        status: HeldStatus,
        reviewer: str,
        reason: str,
        at: str,
        audit: AuditEntry | None = None,
        expected: HeldStatus = HeldStatus.HELD,
    ) -> HeldMessage:
        def work(db: sqlite3.Connection) -> None:
            if db.execute(sql.DECIDE, (status, reviewer, reason, at, ref, expected)).rowcount != 1:
                current = db.execute(sql.STATUS_OF, (ref,)).fetchone()
                if current is None:
                    raise NotFoundError(ref)
                raise StoreError(f"{ref} is already {current[0]}")
            if audit is not None:
                db.execute(sql.INSERT_AUDIT, sql.audit_params(audit))

        async with self._lock:
            await self._run(self._tx, work)
        return await self.get(ref)

    async def expire_and_purge(self, before: str, at: str) -> tuple[int, int]:
        def work(db: sqlite3.Connection) -> tuple[int, int]:
            expired = [r for (r,) in db.execute(sql.EXPIRABLE, (before,)).fetchall()]
            for ref in expired:
                db.execute(sql.EXPIRE, (at, ref))
                db.execute(sql.INSERT_AUDIT, sql.audit_params(AuditEntry(at, "system", "expire", ref, "retention")))
            purged = [r for (r,) in db.execute(sql.PURGEABLE, (before,)).fetchall()]
            for ref in purged:
                db.execute(sql.PURGE, (at, ref))
                db.execute(sql.INSERT_AUDIT, sql.audit_params(AuditEntry(at, "system", "purge", ref, "retention")))
            return len(expired), len(purged)

        async with self._lock:
            return await self._run(self._tx, work)

    async def recent(self, since: str) -> list[HeldMessage]:
        return [sql.held_from_row(r) for r in await self._run(self._rows, sql.RECENT, (since,))]

    async def activity(self, since: str) -> list[Activity]:
        return [sql.activity_from_row(r) for r in await self._run(self._rows, sql.ACTIVITY, (since,))]

    # --- audit and users -----------------------------------------------------------------

    async def append_audit(self, entry: AuditEntry) -> None:
        await self._run(self._tx, lambda db: db.execute(sql.INSERT_AUDIT, sql.audit_params(entry)))

    async def audit(
        self, ref: str | None = None, since: str | None = None, until: str | None = None, limit: int = 10000
    ) -> list[AuditEntry]:
        query, args = sql.audit_sql(ref, since, until, limit)
        return [sql.audit_from_row(r) for r in await self._run(self._rows, query, args)]

    async def put_user(self, user: User) -> None:
        params = (user.name, user.password_hash, user.role, int(user.disabled))
        await self._run(self._tx, lambda db: db.execute(sql.PUT_USER_SQLITE, params))

    async def get_user(self, name: str) -> User | None:
        rows = await self._run(self._rows, sql.GET_USER, (name,))
        return sql.user_from_row(rows[0]) if rows else None

    async def users(self) -> list[User]:
        return [sql.user_from_row(r) for r in await self._run(self._rows, sql.ALL_USERS)]

    async def close(self) -> None:
        return None


def migrate(db: sqlite3.Connection) -> None:
    db.execute(sql.SCHEMA_VERSION)
    row = db.execute("SELECT max(version) FROM schema_version").fetchone()
    current = row[0] or 0
    for version, statements in sql.MIGRATIONS["sqlite"]:
        if version <= current:
            continue
        db.execute("BEGIN IMMEDIATE")
        for statement in statements:
            db.execute(statement)
        db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
        db.execute("COMMIT")
