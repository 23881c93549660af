"""Review operations shared by the console, its JSON API and the CLI; each one is audited.

Release claims the message first (held → releasing) so that two reviewers, or two gateway
instances sharing one PostgreSQL queue, can never both deliver it; a failed delivery puts it back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from dlp_gateway.act.rewrite import remove_recipients
from dlp_gateway.errors import DlpError, RelayError, StoreError
from dlp_gateway.quarantine.store import AuditEntry, HeldMessage, QuarantineStore
from dlp_gateway.smtp.relay import Relay


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="seconds")


@dataclass(frozen=True)
class BulkResult:
    ref: str
    ok: bool
    error: str = ""


class Review:
    def __init__(self, store: QuarantineStore, relay: Relay | None, clock: Callable[[], dt.datetime] = utc_now) -> None:
        self.store = store
        self.relay = relay
        self.clock = clock

    def _now(self) -> str:
        return iso(self.clock())

    async def release(
        self, ref: str, actor: str, reason: str = "", strip_violating: bool = False, action: str = ""
    ) -> HeldMessage:
        """Deliver to the original envelope recipients (or all but the violating ones). `action`
        names the audit entry when the release is a gate opening (hold_delivered, approve)."""
        item = await self.store.get(ref)
        rcpts, data = list(item.rcpt_tos), item.raw
        if not data:
            raise StoreError(f"{ref}: the content was purged by retention")
        if strip_violating:
            violating = {r["address"] for r in item.summary.get("recipients", []) if r.get("violations")}
            rcpts = [r for r in rcpts if r not in violating]
            data = remove_recipients(data, violating)
            if not rcpts:
                raise StoreError(f"{ref}: every recipient has a violation; nothing left to release to")
        if self.relay is None:
            raise DlpError("no relay to release through")
        action = action or ("release_stripped" if strip_violating else "release")
        await self.store.decide(ref, "releasing", actor, reason, self._now())  # the claim
        try:
            await self.relay.send(item.mail_from, rcpts, data)
        except RelayError:
            await self.store.decide(ref, "held", actor, "", self._now(), expected="releasing")
            raise
        return await self.store.decide(
            ref,
            "released",
            actor,
            reason or action.replace("_", " "),
            self._now(),
            AuditEntry(self._now(), actor, action, ref, reason, {"recipients": len(rcpts)}),
            expected="releasing",
        )

    async def deny(self, ref: str, actor: str, reason: str) -> HeldMessage:
        if not reason.strip():
            raise DlpError("a reason is required to deny a message")
        return await self.store.decide(
            ref, "denied", actor, reason, self._now(), AuditEntry(self._now(), actor, "deny", ref, reason)
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
