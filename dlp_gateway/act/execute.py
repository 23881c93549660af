"""Carry out a verdict and return the SMTP reply. 250 only once mail is upstream or durably held."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from dlp_gateway.act.rewrite import add_headers, remove_recipients
from dlp_gateway.errors import RelayError, StoreError
from dlp_gateway.model import Action, Envelope
from dlp_gateway.quarantine.store import HeldMessage, QuarantineStore
from dlp_gateway.smtp.relay import Relay


@dataclass(frozen=True)
class Outcome:
    code: int
    text: str
    delivered_to: int = 0
    stripped: int = 0

    @property
    def reply(self) -> str:
        return f"{self.code} {self.text}"


@dataclass(frozen=True)
class Plan:
    """What to do with one message: the pipeline's verdict, or on_error's when the scan failed."""

    verdict: Action
    ref: str
    rules: tuple[str, ...]
    strip: tuple[str, ...] = ()
    summary: dict[str, Any] | None = None


async def carry_out(
    plan: Plan, envelope: Envelope, raw: bytes, relay: Relay, store: QuarantineStore, now: dt.datetime | None = None
) -> Outcome:
    ref = plan.ref
    if plan.verdict == Action.REJECT:
        return Outcome(550, f"5.7.1 Message rejected by data-protection policy (ref {ref})")
    if plan.verdict >= Action.REDACT:
        item = HeldMessage(
            ref=ref,
            received_at=(now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
            mail_from=envelope.mail_from,
            rcpt_tos=envelope.rcpt_tos,
            raw=raw,
            verdict=plan.verdict.label,
            rules=plan.rules,
            summary=plan.summary or {},
        )
        try:
            await store.put(item)
        except StoreError:
            return Outcome(451, f"4.3.0 Quarantine unavailable, try again later (ref {ref})")
        return Outcome(250, f"2.0.0 Held for compliance review (ref {ref})")

    rcpts = list(envelope.rcpt_tos)
    data = raw
    trace = [("X-DLP-Ref", ref)]
    if plan.verdict == Action.STRIP:
        gone = {a.lower() for a in plan.strip}
        rcpts = [r for r in rcpts if r.lower() not in gone]
        data = remove_recipients(data, set(plan.strip))
    if plan.verdict in (Action.STRIP, Action.MONITOR):
        trace += [("X-DLP-Verdict", plan.verdict.label), ("X-DLP-Rules", ", ".join(plan.rules))]
        data = add_headers(data, trace)
    try:
        await relay.send(envelope.mail_from, rcpts, data)
    except RelayError as exc:
        if exc.temporary:
            return Outcome(451, f"4.4.1 Upstream unavailable, try again later (ref {ref})")
        return Outcome(554, f"5.0.0 Upstream refused the message (ref {ref})")
    return Outcome(250, f"2.0.0 Ok (ref {ref})", delivered_to=len(rcpts), stripped=len(envelope.rcpt_tos) - len(rcpts))
