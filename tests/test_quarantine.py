"""quarantine: the SQLite store and its in-memory fake behave the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlp_gateway.errors import NotFoundError, StoreError
from dlp_gateway.quarantine.sqlite import SqliteStore
from dlp_gateway.quarantine.store import HeldMessage, MemoryStore, QuarantineStore


def item(ref: str, at: str) -> HeldMessage:
    return HeldMessage(
        ref,
        at,
        "a@mirai-hoken.example.jp",
        ("b@ms-ins.com",),
        b"raw\r\n\x00\xff",
        "quarantine",
        ("cross-insurer-bulk",),
        {"records": [{"policy_number": "81******01"}]},
    )


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> QuarantineStore:
    return SqliteStore(tmp_path / "q.db") if request.param == "sqlite" else MemoryStore()


async def test_put_get_list_decide(store: QuarantineStore) -> None:
    await store.put(item("r2", "2026-01-02T00:00:00+00:00"))
    await store.put(item("r1", "2026-01-01T00:00:00+00:00"))
    got = await store.get("r1")
    assert got.raw == b"raw\r\n\x00\xff"
    assert got.rcpt_tos == ("b@ms-ins.com",)
    assert got.summary["records"]
    assert [i.ref for i in await store.list()] == ["r1", "r2"]  # oldest first
    done = await store.decide("r1", "denied", "compliance", "customer data", "2026-01-03T00:00:00+00:00")
    assert (done.status, done.reviewer, done.reason) == ("denied", "compliance", "customer data")
    assert [i.ref for i in await store.list()] == ["r2"]
    assert [i.ref for i in await store.list(None)] == ["r1", "r2"]
    with pytest.raises(StoreError, match="already denied"):
        await store.decide("r1", "released", "x", "", "2026-01-03T00:00:00+00:00")
    with pytest.raises(NotFoundError):
        await store.get("nope")


async def test_sqlite_survives_reopen(tmp_path: Path) -> None:
    await SqliteStore(tmp_path / "q.db").put(item("r1", "2026-01-01T00:00:00+00:00"))
    assert (await SqliteStore(tmp_path / "q.db").get("r1")).status == "held"


async def test_sqlite_unwritable_raises_store_error(tmp_path: Path) -> None:
    s = SqliteStore(tmp_path / "q.db")
    (tmp_path / "q.db").chmod(0o444)
    s.path = tmp_path / "missing-dir" / "q.db"  # a path that cannot be opened
    with pytest.raises(StoreError):
        await s.put(item("r1", "2026-01-01T00:00:00+00:00"))
