"""The quarantine store contract, run against the in-memory fake, SQLite and a real PostgreSQL.

PostgreSQL runs on 127.0.0.1:5432 on these machines (DLP_TEST_POSTGRES overrides the DSN); when it
is missing these tests fail, they do not skip.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from dlp_gateway.errors import NotFoundError, StoreError
from dlp_gateway.held import Activity, AuditEntry, HeldMessage, HeldStatus, HeldSummary, HeldVerdict, Query, User
from dlp_gateway.ports import QuarantineStore
from dlp_gateway.quarantine import sql
from dlp_gateway.quarantine.postgres import PostgresStore
from dlp_gateway.quarantine.sqlite import SqliteStore
from dlp_gateway.quarantine.store import MemoryStore, list_messages
from tests.postgres import POSTGRES, throwaway_schema


def item(
    ref: str,
    at: str,
    sender: str = "a@mirai-hoken.example.jp",
    rcpt: str = "b@ms-ins.com",
    rules: tuple[str, ...] = ("cross-insurer-bulk",),
) -> HeldMessage:
    summary = HeldSummary.read(
        {
            "records": [{"policy_number": "81******01", "underwriter": "tokio"}],
            "recipients": [{"address": rcpt, "party": "insurer:msi" if "ms-ins" in rcpt else "internal"}],
        }
    )
    return HeldMessage(ref, at, sender, (rcpt,), b"raw\r\n\x00\xff", HeldVerdict.QUARANTINE, rules, summary)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[QuarantineStore]:
    if request.param == "memory":
        yield MemoryStore()
    elif request.param == "sqlite":
        yield SqliteStore(tmp_path / "q.db")
    else:
        async with throwaway_schema() as schema:
            s = await PostgresStore.connect(POSTGRES, schema)
            try:
                yield s
            finally:
                await s.close()


async def test_put_get_list_decide(store: QuarantineStore) -> None:
    await store.put(item("r2", "2026-01-02T00:00:00+00:00"))
    await store.put(item("r1", "2026-01-01T00:00:00+00:00"))
    got = await store.get("r1")
    assert got.raw == b"raw\r\n\x00\xff" and got.rcpt_tos == ("b@ms-ins.com",) and got.summary.records
    assert [i.ref for i in await list_messages(store)] == ["r1", "r2"]  # oldest first
    audit = AuditEntry("2026-01-03T00:00:00+00:00", "compliance", "deny", "r1", "customer data")
    done = await store.decide(
        "r1", HeldStatus.DENIED, "compliance", "customer data", "2026-01-03T00:00:00+00:00", audit
    )
    assert (done.status, done.reviewer, done.reason) == ("denied", "compliance", "customer data")
    assert [i.ref for i in await list_messages(store)] == ["r2"]
    assert [i.ref for i in await list_messages(store, None)] == ["r1", "r2"]
    with pytest.raises(StoreError, match="already denied"):
        await store.decide("r1", HeldStatus.RELEASED, "x", "", "2026-01-03T00:00:00+00:00")
    with pytest.raises(NotFoundError):
        await store.get("nope")
    assert [(e.actor, e.action, e.ref) for e in await store.audit()] == [("compliance", "deny", "r1")]


async def test_filters_and_paging(store: QuarantineStore) -> None:
    await store.put(item("a", "2026-01-01T00:00:00+00:00", sender="yamada@mirai-hoken.example.jp"))
    await store.put(item("b", "2026-01-02T00:00:00+00:00", rcpt="x@tokiomarine-nichido.co.jp", rules=("other",)))
    await store.put(item("c", "2026-01-03T00:00:00+00:00"))
    await store.put(item("d", "2026-01-04T00:00:00+00:00", rules=("50%_off",)))

    async def refs(**kw: object) -> list[str]:
        return [i.ref for i in (await store.search(Query(**kw))).items]  # type: ignore[arg-type]

    assert await refs() == ["a", "b", "c", "d"]
    assert await refs(rule="other") == ["b"]
    assert await refs(rule="50%_off") == ["d"]
    assert await refs(rule="50") == []  # rule names match whole, and % or _ are not wildcards
    assert await refs(sender="YAMADA") == ["a"]
    assert await refs(recipient_domain="tokiomarine-nichido.co.jp") == ["b"]
    assert await refs(insurer="msi") == ["a", "c", "d"]
    assert await refs(insurer="tokio") == ["a", "b", "c", "d"]  # the records' underwriter counts too
    assert await refs(since="2026-01-02", until="2026-01-04") == ["b", "c"]
    assert await refs(search="c") == ["c"]
    page = await store.search(Query(limit=2, offset=2))
    assert ([i.ref for i in page.items], page.total) == (["c", "d"], 4)


async def test_activity_is_read_from_the_columns(store: QuarantineStore) -> None:
    await store.put(item("a", "2026-01-01T00:00:00+00:00", rules=("r1",)))
    await store.put(item("b", "2026-01-03T00:00:00+00:00", rcpt="x@tokiomarine-nichido.co.jp", rules=("r2", "r3")))
    await store.decide("a", HeldStatus.DENIED, "compliance", "customer data", "2026-01-04T00:00:00+00:00")
    assert await store.activity("2026-01-01T00:00:00+00:00") == [
        Activity("2026-01-01T00:00:00+00:00", "denied", ("r1",), ("msi", "tokio")),
        Activity("2026-01-03T00:00:00+00:00", "held", ("r2", "r3"), ("tokio",)),
    ]
    assert [a.received_at for a in await store.activity("2026-01-02")] == ["2026-01-03T00:00:00+00:00"]


async def test_claims_are_exclusive(store: QuarantineStore) -> None:
    await store.put(item("r", "2026-01-01T00:00:00+00:00"))
    results = await asyncio.gather(
        *[store.decide("r", HeldStatus.RELEASING, f"rev{i}", "", "2026-01-02T00:00:00+00:00") for i in range(5)],
        return_exceptions=True,
    )
    assert sum(1 for r in results if isinstance(r, HeldMessage)) == 1
    assert sum(1 for r in results if isinstance(r, StoreError)) == 4


async def test_retention_expires_and_purges_but_keeps_the_audit(store: QuarantineStore) -> None:
    await store.put(item("old-held", "2026-01-01T00:00:00+00:00"))
    await store.put(item("old-denied", "2026-01-01T00:00:00+00:00"))
    await store.decide("old-denied", HeldStatus.DENIED, "rev", "x", "2026-01-02T00:00:00+00:00")
    await store.put(item("new", "2026-03-01T00:00:00+00:00"))
    assert await store.expire_and_purge("2026-02-01T00:00:00+00:00", "2026-03-02T00:00:00+00:00") == (1, 2)
    assert (await store.get("old-held")).status == "expired"
    assert (await store.get("old-held")).raw == b""
    assert (await store.get("new")).raw
    assert sorted((e.action, e.ref) for e in await store.audit()) == [
        ("expire", "old-held"),
        ("purge", "old-denied"),
        ("purge", "old-held"),
    ]
    assert await store.expire_and_purge("2026-02-01T00:00:00+00:00", "2026-03-03T00:00:00+00:00") == (0, 0)


async def test_users(store: QuarantineStore) -> None:
    await store.put_user(User("suzuki", "hash1", "reviewer"))
    await store.put_user(User("admin", "hash2", "admin"))
    await store.put_user(User("suzuki", "hash3", "reviewer", disabled=True))
    assert await store.get_user("suzuki") == User("suzuki", "hash3", "reviewer", True)
    assert [u.name for u in await store.users()] == ["admin", "suzuki"]
    assert await store.get_user("nobody") is None


async def test_sqlite_audit_is_append_only(tmp_path: Path) -> None:
    s = SqliteStore(tmp_path / "q.db")
    await s.append_audit(AuditEntry("2026-01-01T00:00:00+00:00", "a", "login"))
    db = sqlite3.connect(tmp_path / "q.db")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE audit SET actor = 'b'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM audit")


async def test_postgres_audit_is_append_only_and_migrations_are_versioned(pg_schema: str) -> None:
    s = await PostgresStore.connect(POSTGRES, pg_schema)
    again = await PostgresStore.connect(POSTGRES, pg_schema)  # a second instance: migrates nothing twice
    try:
        await s.append_audit(AuditEntry("2026-01-01T00:00:00+00:00", "a", "login"))
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await s.pool.execute("UPDATE audit SET actor = 'b'")
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await s.pool.execute("DELETE FROM audit")
        assert [r[0] for r in await s.pool.fetch("SELECT version FROM schema_version ORDER BY version")] == [1, 2]
    finally:
        await s.close()
        await again.close()


async def test_sqlite_upgrades_a_version_1_database(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "q.db")
    for statement in sql.MIGRATIONS["sqlite"][0][1]:
        db.execute(statement)
    db.execute(
        "INSERT INTO held (ref, received_at, mail_from, rcpt_tos, raw, verdict, rules, summary) "
        "VALUES ('old', '2026-01-01T00:00:00+00:00', 'a@b.jp', '[\"c@d.jp\"]', x'00', 'quarantine', '[]', '{}')"
    )
    db.commit()
    db.close()
    s = SqliteStore(tmp_path / "q.db")
    assert (await s.get("old")).status == "held"
    assert await s.users() == []
