"""Review operations shared by the CLI (and later the console): release and deny."""

from __future__ import annotations

import datetime as dt

from dlp_gateway.act.rewrite import remove_recipients
from dlp_gateway.errors import StoreError
from dlp_gateway.quarantine.store import HeldMessage, QuarantineStore
from dlp_gateway.smtp.relay import Relay


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


async def release(
    store: QuarantineStore, relay: Relay, ref: str, reviewer: str, reason: str = "", strip_violating: bool = False
) -> HeldMessage:
    """Deliver a held message to its original envelope recipients (or all but the violating ones).

    The status changes only after the relay accepted, so a failed release can simply be retried.
    """
    item = await store.get(ref)
    if item.status != "held":
        raise StoreError(f"{ref} is already {item.status}")
    rcpts, data = list(item.rcpt_tos), item.raw
    if strip_violating:
        violating = {r["address"] for r in item.summary.get("recipients", []) if r.get("violations")}
        rcpts = [r for r in rcpts if r not in violating]
        data = remove_recipients(data, violating)
        if not rcpts:
            raise StoreError(f"{ref}: every recipient has a violation; nothing left to release to")
    await relay.send(item.mail_from, rcpts, data)
    return await store.decide(
        ref,
        "released",
        reviewer,
        reason or ("released, violating recipients stripped" if strip_violating else "released"),
        _now(),
    )


async def deny(store: QuarantineStore, ref: str, reviewer: str, reason: str) -> HeldMessage:
    return await store.decide(ref, "denied", reviewer, reason, _now())
