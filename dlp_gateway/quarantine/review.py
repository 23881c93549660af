"""Review operations shared by the console, its JSON API and the CLI; each one is audited.

A release is the delivery service's (delivery.py): the same per-recipient plan as a live message,
claimed first (held → releasing) so that two reviewers, or two gateway instances sharing one
PostgreSQL queue, can never both deliver it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dlp_gateway.delivery import DeliveryService
from dlp_gateway.errors import DlpError, RelayError
from dlp_gateway.held import AuditEntry, HeldMessage, HeldStatus
from dlp_gateway.ports import QuarantineStore, iso


@dataclass(frozen=True)
class BulkResult:
    ref: str
    ok: bool
    error: str = ""


class Review:
    def __init__(self, delivery: DeliveryService) -> None:
        self.delivery = delivery

    @property
    def store(self) -> QuarantineStore:
        return self.delivery.runtimes.current.store

    def clock(self) -> dt.datetime:
        return self.delivery.clock()

    def _now(self) -> str:
        return iso(self.clock())

    async def release(
        self, ref: str, actor: str, reason: str = "", strip_violating: bool = False, action: str = ""
    ) -> HeldMessage:
        """Deliver to the envelope recipients, or only to those the plan lets receive it
        (`strip_violating`). A full release that overrides the plan needs a reason."""
        return await self.delivery.release(ref, actor, reason, strip_violating, action)

    async def deny(self, ref: str, actor: str, reason: str) -> HeldMessage:
        if not reason.strip():
            raise DlpError("a reason is required to deny a message")
        return await self.store.decide(
            ref, HeldStatus.DENIED, actor, reason, self._now(), AuditEntry(self._now(), actor, "deny", ref, reason)
        )

    async def bulk(self, refs: list[str], action: str, actor: str, reason: str) -> list[BulkResult]:
        out = []
        for ref in refs:
            try:
                if action == "deny":
                    await self.deny(ref, actor, reason)
                else:
                    await self.release(ref, actor, reason, strip_violating=action == "release_stripped")
                out.append(BulkResult(ref, True))
            except (DlpError, RelayError) as exc:
                out.append(BulkResult(ref, False, str(exc)))
        return out

    async def raw(self, ref: str, actor: str, reason: str = "") -> bytes:
        """The held message itself (customer data): every view is written to the audit log."""
        item = await self.store.get(ref)
        await self.store.append_audit(AuditEntry(self._now(), actor, "view_raw", ref, reason))
        return item.raw

    async def retention(self, days: int) -> tuple[int, int]:
        now = self.clock()
        return await self.store.expire_and_purge(iso(now - dt.timedelta(days=days)), iso(now))
