"""The quarantine store boundary: a Protocol, the held-message record, and an in-memory fake."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Protocol

from dlp_gateway.errors import NotFoundError, StoreError

STATUSES = ("held", "released", "denied")


@dataclass(frozen=True)
class HeldMessage:
    ref: str
    received_at: str  # ISO 8601, UTC
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    verdict: str
    rules: tuple[str, ...]
    summary: dict[str, Any]  # the masked report: no full policy numbers or names
    status: str = "held"
    reviewer: str | None = None
    reason: str | None = None
    decided_at: str | None = None


class QuarantineStore(Protocol):
    async def put(self, item: HeldMessage) -> None:
        """Return only once the message is durably stored; raise StoreError otherwise."""

    async def get(self, ref: str) -> HeldMessage: ...

    async def list(self, status: str | None = "held", limit: int = 100) -> list[HeldMessage]: ...

    async def decide(self, ref: str, status: str, reviewer: str, reason: str, at: str) -> HeldMessage:
        """Move a held message to `status`; raise StoreError if it is no longer held."""


class MemoryStore:
    def __init__(self) -> None:
        self.items: dict[str, HeldMessage] = {}
        self.fail: StoreError | None = None

    async def put(self, item: HeldMessage) -> None:
        if self.fail:
            raise self.fail
        self.items[item.ref] = item

    async def get(self, ref: str) -> HeldMessage:
        if ref not in self.items:
            raise NotFoundError(ref)
        return self.items[ref]

    async def list(self, status: str | None = "held", limit: int = 100) -> list[HeldMessage]:
        items = sorted(self.items.values(), key=lambda i: i.received_at)
        return [i for i in items if status is None or i.status == status][:limit]

    async def decide(self, ref: str, status: str, reviewer: str, reason: str, at: str) -> HeldMessage:
        item = await self.get(ref)
        if item.status != "held":
            raise StoreError(f"{ref} is already {item.status}")
        new = dataclasses.replace(item, status=status, reviewer=reviewer, reason=reason, decided_at=at)
        self.items[ref] = new
        return new
