"""Carry out a verdict and return the SMTP reply. 250 only once mail is upstream or durably held.

Redact sends two copies: the redacted one to the violating recipients first, then the original
(byte for byte, unless other recipients were stripped) to the rest. If the second send fails
after the first succeeded, the rest is held in the quarantine rather than answered 4xx, which
would make the client resend the redacted copy too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from dlp_gateway.act.gate import KIND, gate_info, gate_reply
from dlp_gateway.act.rewrite import add_headers, remove_recipients
from dlp_gateway.errors import RelayError, StoreError
from dlp_gateway.held import HeldMessage, HeldSummary, HeldVerdict
from dlp_gateway.model import Action, Envelope
from dlp_gateway.ports import QuarantineStore, Refusal, Refused, Relay


@dataclass(frozen=True)
class Outcome:
    code: int
    text: str
    delivered_to: int = 0
    stripped: int = 0
    redacted: int = 0
    held: bool = False
    gated: str = ""  # "hold" or "approve" when the delivery waits
    refused: Refused = field(default_factory=dict)  # recipients the upstream refused after accepting others

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
    redact: tuple[str, ...] = ()
    redacted: bytes | None = None
    summary: HeldSummary | None = None
    simulated: Action | None = None  # the verdict simulation held back, shown in the headers
    gate: Action | None = None  # HOLD or APPROVE: store the delivery instead of making it now
    hold_minutes: int = 0
    approver: str | None = None  # for APPROVE (none configured: the message is quarantined instead)
    token: str = ""  # the one-time secret of the cancel or approval link (only its hash is stored)


def _trace(plan: Plan) -> list[tuple[str, str]]:
    shown = plan.simulated or plan.verdict
    headers = [("X-DLP-Ref", plan.ref), ("X-DLP-Verdict", shown.label), ("X-DLP-Rules", ", ".join(plan.rules))]
    if plan.simulated:
        headers.append(("X-DLP-Simulated", "yes"))
    return headers


async def hold(
    plan: Plan,
    envelope: Envelope,
    raw: bytes,
    store: QuarantineStore,
    now: dt.datetime | None = None,
    rcpt_tos: tuple[str, ...] | None = None,
    note: str | None = None,
) -> Outcome:
    summary = plan.summary or HeldSummary(plan.ref, plan.verdict.label, plan.rules)
    if note:
        summary = summary.with_note(note)
    failed = await _store(
        plan, envelope, raw, store, now, rcpt_tos or envelope.rcpt_tos, summary, HeldVerdict.QUARANTINE
    )
    return failed or Outcome(250, f"2.0.0 Held for compliance review (ref {plan.ref})", held=True)


async def _store(
    plan: Plan,
    envelope: Envelope,
    raw: bytes,
    store: QuarantineStore,
    now: dt.datetime | None,
    rcpt_tos: tuple[str, ...],
    summary: HeldSummary,
    verdict: HeldVerdict,
) -> Outcome | None:
    """Put the message in the quarantine store; the 451 to answer if that fails, else None."""
    item = HeldMessage(
        ref=plan.ref,
        received_at=(now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        mail_from=envelope.mail_from,
        rcpt_tos=rcpt_tos,
        raw=raw,
        verdict=verdict,
        rules=plan.rules,
        summary=summary,
    )
    try:
        await store.put(item)
    except StoreError:
        return Outcome(451, f"4.3.0 Quarantine unavailable, try again later (ref {plan.ref})")
    return None


async def carry_out(  # noqa: C901, PLR0911 - one branch and one reply per verdict, in DESIGN §3 order
    plan: Plan, envelope: Envelope, raw: bytes, relay: Relay, store: QuarantineStore, now: dt.datetime | None = None
) -> Outcome:
    ref = plan.ref
    if plan.verdict == Action.REJECT:
        return Outcome(550, f"5.7.1 Message rejected by data-protection policy (ref {ref})")
    if plan.verdict == Action.QUARANTINE or (plan.verdict == Action.REDACT and plan.redacted is None):
        return await hold(plan, envelope, raw, store, now)
    if plan.gate is not None and (plan.verdict == Action.REDACT or (plan.gate == Action.APPROVE and not plan.approver)):
        # A redacted copy and an original cannot wait as one message; and approval needs an approver.
        note = "approval: no approver for this sender" if plan.verdict != Action.REDACT else "gated redaction"
        return await hold(plan, envelope, raw, store, now, note=f"{note}; held for compliance review instead")

    gone = {a.lower() for a in plan.strip}
    special = gone | {a.lower() for a in plan.redact}
    rest = [r for r in envelope.rcpt_tos if r.lower() not in special]
    redact_to = [r for r in envelope.rcpt_tos if r.lower() in {a.lower() for a in plan.redact}]
    original = remove_recipients(raw, set(plan.strip)) if plan.strip else raw
    if plan.verdict in (Action.STRIP, Action.MONITOR) or plan.simulated:
        original = add_headers(original, _trace(plan))
    if plan.gate is not None:
        when = now or dt.datetime.now(dt.UTC)
        gate = gate_info(plan.gate, plan.token, when, plan.hold_minutes, plan.approver)
        summary = (plan.summary or HeldSummary(ref, plan.verdict.label, plan.rules)).with_gate(gate)
        failed = await _store(plan, envelope, original, store, when, tuple(rest), summary, HeldVerdict(KIND[plan.gate]))
        return failed or Outcome(250, gate_reply(gate, ref), stripped=len(gone), gated=KIND[plan.gate])
    refused: dict[str, Refusal] = {}
    if redact_to and plan.redacted is not None:
        copy = add_headers(
            remove_recipients(plan.redacted, set(plan.strip)) if plan.strip else plan.redacted, _trace(plan)
        )
        try:
            refused.update(await relay.send(envelope.mail_from, redact_to, copy))
        except RelayError as exc:
            return _relay_failure(exc, ref)
    if rest:
        try:
            refused.update(await relay.send(envelope.mail_from, rest, original))
        except RelayError as exc:
            if not redact_to:
                return _relay_failure(exc, ref)
            # The redacted copy is out: hold the original for the rest instead of a 4xx (no duplicates).
            return await hold(
                plan,
                envelope,
                raw,
                store,
                now,
                tuple(rest),
                f"upstream failed after the redacted copy was delivered: {exc}",
            )
    return Outcome(
        250,
        f"2.0.0 Ok (ref {ref})",
        delivered_to=len(rest) + len(redact_to) - len(refused),
        stripped=len(gone),
        redacted=len(redact_to),
        refused=refused,
    )


def _relay_failure(exc: RelayError, ref: str) -> Outcome:
    if exc.temporary:
        return Outcome(451, f"4.4.1 Upstream unavailable, try again later (ref {ref})")
    return Outcome(554, f"5.0.0 Upstream refused the message (ref {ref})")
