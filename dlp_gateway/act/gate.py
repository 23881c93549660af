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

from dlp_gateway.held import GateInfo, HeldMessage
from dlp_gateway.model import Action

KIND = {Action.HOLD: "hold", Action.APPROVE: "approve"}


def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(item: HeldMessage, token: str) -> bool:
    expected = item.summary.gate.token_sha256 if item.summary.gate else ""
    return bool(expected) and hmac.compare_digest(expected, token_hash(token))


def gate_info(gate: Action, token: str, now: dt.datetime, hold_minutes: int, approver: str | None) -> GateInfo:
    if gate == Action.HOLD:
        due = (now + dt.timedelta(minutes=hold_minutes)).isoformat(timespec="seconds")
        return GateInfo(KIND[gate], token_hash(token), due=due)
    return GateInfo(KIND[gate], token_hash(token), approver=approver)


def gate_reply(gate: GateInfo, ref: str) -> str:
    """The 250 text for a delivery that now waits (stored by act/execute.py like a held message)."""
    if gate.kind == "hold":
        return f"2.0.0 Held until {gate.due} UTC, the sender may cancel (ref {ref})"
    return f"2.0.0 Awaiting approval by the sender's approver (ref {ref})"
