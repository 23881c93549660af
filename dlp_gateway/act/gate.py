"""Gated delivery: hold (一時保留) and approval (上長承認). The message is stored exactly as it
would be delivered now — recipients already stripped, trace headers added — and delivered later by
the scheduler (hold) or the approver (approval) through the same claim that review releases use,
so it goes out once however many instances share the queue.

The sender's cancel link and the approver's link carry a one-time secret; the store keeps only its
SHA-256, and the secret works only while the message is still waiting.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

from dlp_gateway.errors import StoreError
from dlp_gateway.model import Action, Envelope
from dlp_gateway.quarantine.store import HeldMessage, QuarantineStore

KIND = {Action.HOLD: "hold", Action.APPROVE: "approve"}


def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(item: HeldMessage, token: str) -> bool:
    expected = str(item.summary.get("gate", {}).get("token_sha256", ""))
    return bool(expected) and hmac.compare_digest(expected, token_hash(token))


def gate_summary(gate: Action, token: str, now: dt.datetime, hold_minutes: int, approver: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": KIND[gate], "token_sha256": token_hash(token)}
    if gate == Action.HOLD:
        out["due"] = (now + dt.timedelta(minutes=hold_minutes)).isoformat(timespec="seconds")
    else:
        out["approver"] = approver
    return out


async def store_gated(
    ref: str,
    gate: Action,
    envelope: Envelope,
    rcpts: list[str],
    data: bytes,
    rules: tuple[str, ...],
    summary: dict[str, Any],
    store: QuarantineStore,
    now: dt.datetime,
) -> tuple[int, str]:
    """Durably store the delivery to make later; the SMTP reply for it."""
    item = HeldMessage(
        ref=ref,
        received_at=now.isoformat(timespec="seconds"),
        mail_from=envelope.mail_from,
        rcpt_tos=tuple(rcpts),
        raw=data,
        verdict=KIND[gate],
        rules=rules,
        summary=summary,
    )
    try:
        await store.put(item)
    except StoreError:
        return 451, f"4.3.0 Quarantine unavailable, try again later (ref {ref})"
    if gate == Action.HOLD:
        return 250, f"2.0.0 Held until {summary['gate']['due']} UTC, the sender may cancel (ref {ref})"
    return 250, f"2.0.0 Awaiting approval by the sender's approver (ref {ref})"
