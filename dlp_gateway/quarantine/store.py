"""The quarantine store's in-memory fake (the Protocol is in ports.py, the records in held.py).

Two real implementations share one SQL core (sql.py): SQLite, the embedded default, and PostgreSQL,
for several gateway instances sharing one queue. Both keep an append-only audit log and the
console's users.
"""

from __future__ import annotations

import dataclasses

from dlp_gateway.errors import NotFoundError, StoreError
from dlp_gateway.held import Activity, AuditEntry, HeldMessage, HeldStatus, Page, Query, User
from dlp_gateway.ports import QuarantineStore


class MemoryStore:
    """In-memory fake with the same behaviour, for tests."""

    def __init__(self) -> None:
        self.items: dict[str, HeldMessage] = {}
        self.log: list[AuditEntry] = []
        self.accounts: dict[str, User] = {}
        self.fail: StoreError | None = None

    async def put(self, item: HeldMessage) -> None:
        if self.fail:
            raise self.fail
        self.items[item.ref] = item

    async def get(self, ref: str) -> HeldMessage:
        if ref not in self.items:
            raise NotFoundError(ref)
        return self.items[ref]

    async def search(self, query: Query) -> Page:
        items = [i for i in sorted(self.items.values(), key=lambda i: i.received_at) if matches(i, query)]
        return Page(items[query.offset : query.offset + query.limit], len(items))

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
        item = await self.get(ref)
        if item.status != expected:
            raise StoreError(f"{ref} is already {item.status}")
        new = dataclasses.replace(item, status=status, reviewer=reviewer, reason=reason, decided_at=at)
        self.items[ref] = new
        if audit:
            self.log.append(audit)
        return new

    async def append_audit(self, entry: AuditEntry) -> None:
        self.log.append(entry)

    async def audit(
        self, ref: str | None = None, since: str | None = None, until: str | None = None, limit: int = 10000
    ) -> list[AuditEntry]:
        return [
            e
            for e in self.log
            if (ref is None or e.ref == ref) and (since is None or e.at >= since) and (until is None or e.at < until)
        ][:limit]

    async def expire_and_purge(self, before: str, at: str) -> tuple[int, int]:
        expired = purged = 0
        for ref, old in list(self.items.items()):
            if old.received_at >= before:
                continue
            new = old
            if new.status == HeldStatus.HELD:
                new = dataclasses.replace(
                    new, status=HeldStatus.EXPIRED, reviewer="system", reason="retention", decided_at=at
                )
                self.log.append(AuditEntry(at, "system", "expire", ref, "retention"))
                expired += 1
            if new.raw:
                new = dataclasses.replace(new, raw=b"", purged_at=at)
                self.log.append(AuditEntry(at, "system", "purge", ref, "retention"))
                purged += 1
            self.items[ref] = new
        return expired, purged

    async def recent(self, since: str) -> list[HeldMessage]:
        return [
            dataclasses.replace(i, raw=b"")
            for i in sorted(self.items.values(), key=lambda i: i.received_at)
            if i.received_at >= since
        ]

    async def activity(self, since: str) -> list[Activity]:
        return [Activity(i.received_at, i.status, i.rules, i.insurers) for i in await self.recent(since)]

    async def put_user(self, user: User) -> None:
        self.accounts[user.name] = user

    async def get_user(self, name: str) -> User | None:
        return self.accounts.get(name)

    async def users(self) -> list[User]:
        return sorted(self.accounts.values(), key=lambda u: u.name)

    async def close(self) -> None:
        return None


async def list_messages(
    store: QuarantineStore, status: HeldStatus | None = HeldStatus.HELD, limit: int = 100
) -> list[HeldMessage]:
    """Oldest first, without their content: the queue as the CLI lists it."""
    return (await store.search(Query(status=status, limit=limit))).items


def matches(item: HeldMessage, q: Query) -> bool:
    """The filter semantics every store implements (SQL in sql.py, Python here)."""
    return all(
        (
            q.status is None or item.status == q.status,
            q.rule is None or q.rule in item.rules,
            q.sender is None or q.sender.lower() in item.mail_from.lower(),
            q.recipient_domain is None or q.recipient_domain.lower() in item.recipient_domains,
            q.insurer is None or q.insurer in item.insurers,
            q.since is None or item.received_at >= q.since,
            q.until is None or item.received_at < q.until,
            q.search is None or q.search == item.ref or q.search.lower() in item.mail_from.lower(),
            q.verdict is None or item.verdict == q.verdict,
        )
    )
