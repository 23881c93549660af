"""Opening and closing gates: the hold scheduler, the sender's cancel, the approver's decision.

Each goes through the store's claim (held → releasing → released, or held → cancelled/denied), so a
gated message is delivered exactly once — by the scheduler of whichever instance sees it due first,
or by its approver — and never after it was cancelled. Every step is in the audit log.
"""

from __future__ import annotations

import logging

from dlp_gateway.act.gate import token_matches
from dlp_gateway.errors import DlpError, NotFoundError, RelayError, StoreError
from dlp_gateway.held import AuditEntry, HeldMessage, HeldStatus, HeldVerdict, Query
from dlp_gateway.observe import metrics
from dlp_gateway.ports import QuarantineStore
from dlp_gateway.quarantine.review import Review

log = logging.getLogger(__name__)
DUE_BATCH = 500


class GateError(DlpError):
    """The link is wrong, used, or too late; said the same way in each case (no oracle)."""


class Gates:
    def __init__(self, review: Review) -> None:
        self.review = review

    @property
    def store(self) -> QuarantineStore:
        return self.review.store

    async def deliver_due(self) -> int:
        """Deliver every held (hold) message whose time has come; returns how many went out."""
        now = self.review._now()
        page = await self.store.search(Query(status=HeldStatus.HELD, verdict=HeldVerdict.HOLD, limit=DUE_BATCH))
        delivered = 0
        for item in page.items:
            gate = item.summary.gate
            if gate is None or gate.due is None or gate.due > now:
                continue
            try:
                await self.review.release(item.ref, "scheduler", "hold period over", action="hold_delivered")
            except StoreError:
                continue  # another instance (or a reviewer) got there first
            except RelayError as exc:
                log.warning("held message not delivered yet ref=%s reason=%s", item.ref, type(exc).__name__)
                continue  # still held: the next round retries
            metrics.GATED.labels("hold", "delivered").inc()
            delivered += 1
        return delivered

    async def pending(self, ref: str, token: str, kind: str) -> HeldMessage:
        try:
            item = await self.store.get(ref)
        except NotFoundError:
            raise GateError("this link is not valid, or no longer") from None
        if item.verdict != kind or item.status != HeldStatus.HELD or not token_matches(item, token):
            raise GateError("this link is not valid, or no longer")
        return item

    async def cancel(self, ref: str, token: str) -> HeldMessage:
        item = await self.pending(ref, token, HeldVerdict.HOLD)
        now = self.review._now()
        done = await self.store.decide(
            ref,
            HeldStatus.CANCELLED,
            "sender",
            "cancelled by the sender",
            now,
            AuditEntry(now, "sender", "cancel", ref, "cancelled by the sender"),
        )
        metrics.GATED.labels("hold", "cancelled").inc()
        log.info("held message cancelled by its sender ref=%s", item.ref)
        return done

    async def approve(self, ref: str, token: str) -> HeldMessage:
        item = await self.pending(ref, token, HeldVerdict.APPROVE)
        approver = str(item.summary.gate.approver if item.summary.gate else None)
        done = await self.review.release(ref, f"approver:{approver}", "approved", action="approve")
        metrics.GATED.labels("approve", "approved").inc()
        return done

    async def reject(self, ref: str, token: str, reason: str) -> HeldMessage:
        if not reason.strip():
            raise DlpError("a reason is required to reject a message")
        item = await self.pending(ref, token, HeldVerdict.APPROVE)
        actor = f"approver:{item.summary.gate.approver if item.summary.gate else None}"
        now = self.review._now()
        done = await self.store.decide(
            ref, HeldStatus.DENIED, actor, reason, now, AuditEntry(now, actor, "approval_reject", ref, reason)
        )
        metrics.GATED.labels("approve", "rejected").inc()
        return done
