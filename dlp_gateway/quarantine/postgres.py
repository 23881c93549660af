"""PostgreSQL quarantine (asyncpg): several gateway instances share one queue and audit log.

A decision is a conditional UPDATE (… AND status = 'held'), so a message released from one
instance's console cannot be released again from another's. Migrations take an advisory lock, so
instances starting together migrate once.
"""

from __future__ import annotations

import re
from typing import Any

import asyncpg

from dlp_gateway.errors import NotFoundError, StoreError
from dlp_gateway.held import Activity, AuditEntry, HeldMessage, HeldStatus, Page, Query, User
from dlp_gateway.quarantine import sql

MIGRATION_LOCK = 0x0D1F_6A7E  # pg_advisory_xact_lock key
PUT_USER = (
    "INSERT INTO users (name, password_hash, role, disabled) VALUES (?,?,?,?) ON CONFLICT (name) "
    "DO UPDATE SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role, disabled = EXCLUDED.disabled"
)


def numbered(query: str) -> str:
    """`?` placeholders → `$1, $2 …`."""
    counter = iter(range(1, 10_000))
    return re.sub(r"\?", lambda _: f"${next(counter)}", query)


class PostgresStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def connect(cls, dsn: str, schema: str | None = None) -> PostgresStore:
        settings = {"search_path": schema} if schema else None
        try:
            pool = await asyncpg.create_pool(dsn, min_size=1, max_size=10, server_settings=settings)
            store = cls(pool)
            await store.migrate()
        except (OSError, asyncpg.PostgresError) as exc:
            raise StoreError(f"PostgreSQL quarantine: {exc}") from exc
        return store

    async def migrate(self) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await conn.execute(sql.SCHEMA_VERSION)
            current = await conn.fetchval("SELECT max(version) FROM schema_version") or 0
            for version, statements in sql.MIGRATIONS["postgres"]:
                if version <= current:
                    continue
                for statement in statements:
                    await conn.execute(statement)
                await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", version)

    async def _rows(self, query: str, args: tuple[Any, ...] | list[Any] = ()) -> list[Any]:
        try:
            return list(await self.pool.fetch(numbered(query), *args))
        except (OSError, asyncpg.PostgresError) as exc:
            raise StoreError(f"PostgreSQL quarantine: {exc}") from exc

    async def _execute(self, query: str, args: tuple[Any, ...]) -> None:
        try:
            await self.pool.execute(numbered(query), *args)
        except (OSError, asyncpg.PostgresError) as exc:
            raise StoreError(f"PostgreSQL quarantine: {exc}") from exc

    async def put(self, item: HeldMessage) -> None:
        await self._execute(sql.INSERT_HELD, sql.held_params(item))

    async def get(self, ref: str) -> HeldMessage:
        rows = await self._rows(sql.GET_HELD, (ref,))
        if not rows:
            raise NotFoundError(ref)
        return sql.held_from_row(tuple(rows[0]))

    async def search(self, query: Query) -> Page:
        page, count, args = sql.search_sql(query)
        rows = await self._rows(page, args)
        total = (await self._rows(count, args))[0][0]
        return Page([sql.held_from_row(tuple(r)) for r in rows], int(total))

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
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                result = await conn.execute(numbered(sql.DECIDE), status, reviewer, reason, at, ref, expected)
                if result != "UPDATE 1":
                    current = await conn.fetchval(numbered(sql.STATUS_OF), ref)
                    if current is None:
                        raise NotFoundError(ref)
                    raise StoreError(f"{ref} is already {current}")
                if audit is not None:
                    await conn.execute(numbered(sql.INSERT_AUDIT), *sql.audit_params(audit))
        except (OSError, asyncpg.PostgresError) as exc:
            raise StoreError(f"PostgreSQL quarantine: {exc}") from exc
        return await self.get(ref)

    async def expire_and_purge(self, before: str, at: str) -> tuple[int, int]:
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                expired = [r[0] for r in await conn.fetch(numbered(sql.EXPIRABLE), before)]
                for ref in expired:
                    await conn.execute(numbered(sql.EXPIRE), at, ref)
                    await conn.execute(
                        numbered(sql.INSERT_AUDIT),
                        *sql.audit_params(AuditEntry(at, "system", "expire", ref, "retention")),
                    )
                purged = [r[0] for r in await conn.fetch(numbered(sql.PURGEABLE), before)]
                for ref in purged:
                    await conn.execute(numbered(sql.PURGE), at, ref)
                    await conn.execute(
                        numbered(sql.INSERT_AUDIT),
                        *sql.audit_params(AuditEntry(at, "system", "purge", ref, "retention")),
                    )
        except (OSError, asyncpg.PostgresError) as exc:
            raise StoreError(f"PostgreSQL quarantine: {exc}") from exc
        return len(expired), len(purged)

    async def recent(self, since: str) -> list[HeldMessage]:
        return [sql.held_from_row(tuple(r)) for r in await self._rows(sql.RECENT, (since,))]

    async def activity(self, since: str) -> list[Activity]:
        return [sql.activity_from_row(tuple(r)) for r in await self._rows(sql.ACTIVITY, (since,))]

    async def append_audit(self, entry: AuditEntry) -> None:
        await self._execute(sql.INSERT_AUDIT, sql.audit_params(entry))

    async def audit(
        self, ref: str | None = None, since: str | None = None, until: str | None = None, limit: int = 10000
    ) -> list[AuditEntry]:
        query, args = sql.audit_sql(ref, since, until, limit)
        return [sql.audit_from_row(tuple(r)) for r in await self._rows(query, args)]

    async def put_user(self, user: User) -> None:
        await self._execute(PUT_USER, (user.name, user.password_hash, user.role, user.disabled))

    async def get_user(self, name: str) -> User | None:
        rows = await self._rows(sql.GET_USER, (name,))
        return sql.user_from_row(tuple(rows[0])) if rows else None

    async def users(self) -> list[User]:
        return [sql.user_from_row(tuple(r)) for r in await self._rows(sql.ALL_USERS)]

    async def close(self) -> None:
        await self.pool.close()
