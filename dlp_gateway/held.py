"""What the quarantine keeps: a held message, its typed masked summary, audit entries, users.

The summary is versioned. It is written as JSON (`to_json`) and read back with `HeldSummary.read`,
which also reads every summary stored before it had a version — so a renamed field is a type error
in the code that reads it, never a key that silently goes missing (and a check that silently passes).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, NamedTuple

SUMMARY_VERSION = 2


class HeldStatus(StrEnum):
    """Where a held message is in its life. Only `held` may be decided; `releasing` is a claim."""

    HELD = "held"
    RELEASING = "releasing"
    RELEASED = "released"
    DENIED = "denied"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class HeldVerdict(StrEnum):
    """What put a message in the quarantine: a compliance hold, or a gate waiting to open."""

    QUARANTINE = "quarantine"
    HOLD = "hold"
    APPROVE = "approve"


STATUSES = tuple(HeldStatus)


@dataclass(frozen=True)
class ViolationSummary:
    kind: str
    records: tuple[int, ...]  # indexes of the kept records this violation names
    count: int  # how many records it named in the message (kept or not)


@dataclass(frozen=True)
class RecipientSummary:
    address: str
    party: str  # internal, external, insurer:<id>
    action: str
    violations: tuple[ViolationSummary, ...] = ()
    rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordSummary:
    """One customer record, masked (`81******89`, `山田 **`)."""

    index: int
    policy_number: str | None
    name: str | None
    expiry: str | None
    underwriter: str | None
    attribution: str
    confidence: float
    location: str
    basis: str = ""


@dataclass(frozen=True)
class UnscannableSummary:
    location: str
    reason: str


@dataclass(frozen=True)
class MatchSummary:
    rule: str
    action: str
    recipients: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class GateInfo:
    """A delivery that waits: until `due` (hold), or for `approver` (approve)."""

    kind: str  # hold | approve
    token_sha256: str
    due: str | None = None  # ISO, UTC
    approver: str | None = None


@dataclass(frozen=True)
class HeldSummary:
    """The masked report kept with a held message. `scan_error` is set when the scan failed and
    nothing was inspected: no recipient outside the organisation may then be told apart."""

    reference: str
    verdict: str
    rules: tuple[str, ...] = ()
    recipients: tuple[RecipientSummary, ...] = ()
    records: tuple[RecordSummary, ...] = ()
    records_total: int = 0
    records_by_underwriter: dict[str, int] = field(default_factory=dict)
    unscannable: tuple[UnscannableSummary, ...] = ()
    sender: str = ""
    sender_party: str = ""
    matches: tuple[MatchSummary, ...] = ()
    notes: tuple[str, ...] = ()
    gate_action: str | None = None  # hold | approve, as the rules decided
    hold_minutes: int | None = None
    scan_error: str | None = None
    gate: GateInfo | None = None
    version: int = SUMMARY_VERSION

    @classmethod
    def failed(cls, reference: str, reason: str) -> HeldSummary:
        """The summary of a message whose scan failed (timeout, dead worker, a bug): uninspected."""
        return cls(reference, "error", ("on_error",), scan_error=f"scan failed: {reason}")

    @property
    def inspected(self) -> bool:
        """Whether every part of the message was read: no scan failure, nothing unscannable."""
        return self.scan_error is None and not self.unscannable

    @property
    def insurers(self) -> set[str]:
        found = {r.party.split(":", 1)[1] for r in self.recipients if r.party.startswith("insurer:")}
        found |= {r.underwriter for r in self.records if r.underwriter}
        return found | (set(self.records_by_underwriter) - {"unknown"})

    def violating(self) -> set[str]:
        """The recipients (lower case) for whom the scan found a violation."""
        return {r.address.lower() for r in self.recipients if r.violations}

    def with_note(self, note: str) -> HeldSummary:
        return replace(self, notes=(*self.notes, note))

    def with_gate(self, gate: GateInfo) -> HeldSummary:
        return replace(self, gate=gate)

    def to_json(self) -> dict[str, Any]:
        """The stored (and API) form: the `scan --json` shape, masked, with the version."""
        doc: dict[str, Any] = {
            "version": self.version,
            "reference": self.reference,
            "verdict": self.verdict,
            "rules": list(self.rules),
            "recipients": [
                {
                    "address": r.address,
                    "party": r.party,
                    "action": r.action,
                    "violations": [
                        {"kind": v.kind, "records": list(v.records), "count": v.count} for v in r.violations
                    ],
                    "rules": list(r.rules),
                }
                for r in self.recipients
            ],
            "records": [dict(r.__dict__) for r in self.records],
            "records_total": self.records_total,
            "records_by_underwriter": dict(self.records_by_underwriter),
            "unscannable": [{"location": u.location, "reason": u.reason} for u in self.unscannable],
            "sender": {"address": self.sender, "party": self.sender_party},
            "matches": [
                {"rule": m.rule, "action": m.action, "recipients": list(m.recipients), "why": m.why}
                for m in self.matches
            ],
            "notes": list(self.notes),
            "gate": self.gate_action,
            "hold_minutes": self.hold_minutes,
        }
        if self.scan_error is not None:
            doc["error"] = self.scan_error
        if self.gate is not None:
            doc["gate_state"] = {k: v for k, v in self.gate.__dict__.items() if v is not None}
        return doc

    @classmethod
    def read(cls, doc: dict[str, Any]) -> HeldSummary:
        """A stored summary of any version. Before version 2 the gate's state sat under `gate`
        (beside nothing) and a failed scan was `{"verdict": "error", "error": …}`."""
        version = int(doc.get("version", 1))
        gate_doc = doc.get("gate_state") if version >= 2 else doc.get("gate")
        records = [r for r in doc.get("records", []) if isinstance(r, dict)]
        return cls(
            reference=str(doc.get("reference", "")),
            verdict=str(doc.get("verdict", "error")),
            rules=tuple(doc.get("rules", ())),
            recipients=tuple(
                RecipientSummary(
                    str(r.get("address", "")),
                    str(r.get("party", "")),
                    str(r.get("action", "")),
                    tuple(
                        ViolationSummary(
                            str(v.get("kind", "")),
                            tuple(int(i) for i in v.get("records", ())),
                            int(v.get("count", len(v.get("records", ())))),
                        )
                        for v in r.get("violations", ())
                    ),
                    tuple(r.get("rules", ())),
                )
                for r in doc.get("recipients", ())
            ),
            records=tuple(
                RecordSummary(
                    int(r.get("index", i)),
                    r.get("policy_number"),
                    r.get("name"),
                    r.get("expiry"),
                    r.get("underwriter"),
                    str(r.get("attribution", "unknown")),
                    float(r.get("confidence", 0.0)),
                    str(r.get("location", "")),
                    str(r.get("basis", "")),
                )
                for i, r in enumerate(records)
            ),
            records_total=int(doc.get("records_total", len(records))),
            records_by_underwriter={str(k): int(v) for k, v in doc.get("records_by_underwriter", {}).items()},
            unscannable=tuple(
                UnscannableSummary(str(u.get("location", "")), str(u.get("reason", "")))
                for u in doc.get("unscannable", ())
            ),
            sender=str(doc.get("sender", {}).get("address", "")),
            sender_party=str(doc.get("sender", {}).get("party", "")),
            matches=tuple(
                MatchSummary(
                    str(m.get("rule", "")), str(m.get("action", "")), tuple(m.get("recipients", ())), str(m.get("why"))
                )
                for m in doc.get("matches", ())
            ),
            notes=tuple(doc.get("notes", ())),
            gate_action=str(gate_doc.get("kind")) if version < 2 and isinstance(gate_doc, dict) else doc.get("gate"),
            hold_minutes=doc.get("hold_minutes"),
            scan_error=doc.get("error") or ("scan failed" if doc.get("verdict") == "error" else None),
            gate=GateInfo(
                str(gate_doc.get("kind", "")),
                str(gate_doc.get("token_sha256", "")),
                gate_doc.get("due"),
                gate_doc.get("approver"),
            )
            if isinstance(gate_doc, dict)
            else None,
        )


class Activity(NamedTuple):
    """What the dashboard counts of a message: from the store's columns, never its summary (a month
    of summaries, lists among them, took the event loop 0.4 s to parse for every dashboard view)."""

    received_at: str
    status: str
    rules: tuple[str, ...]
    insurers: tuple[str, ...]


@dataclass(frozen=True)
class HeldMessage:
    ref: str
    received_at: str  # ISO 8601, UTC
    mail_from: str  # "" for a bounce (null reverse-path)
    rcpt_tos: tuple[str, ...]
    raw: bytes  # empty once purged by retention
    verdict: HeldVerdict  # what put it here
    rules: tuple[str, ...]
    summary: HeldSummary  # masked: no full policy numbers or names
    status: HeldStatus = HeldStatus.HELD
    reviewer: str | None = None
    reason: str | None = None
    decided_at: str | None = None
    purged_at: str | None = None

    @property
    def insurers(self) -> tuple[str, ...]:
        """Insurers involved: recipients' and the records' underwriters (for filters and charts)."""
        return tuple(sorted(self.summary.insurers))

    @property
    def recipient_domains(self) -> tuple[str, ...]:
        return tuple(sorted({a.rpartition("@")[2].lower() for a in self.rcpt_tos}))


@dataclass(frozen=True)
class Query:
    status: HeldStatus | None = HeldStatus.HELD
    rule: str | None = None
    sender: str | None = None  # part of the sender address
    recipient_domain: str | None = None
    insurer: str | None = None
    since: str | None = None  # ISO, UTC, inclusive
    until: str | None = None  # ISO, UTC, exclusive
    search: str | None = None  # a reference id or part of the sender
    verdict: HeldVerdict | None = None
    offset: int = 0
    limit: int = 50


@dataclass(frozen=True)
class Page:
    items: list[HeldMessage]
    total: int


@dataclass(frozen=True)
class AuditEntry:
    at: str  # ISO, UTC
    actor: str
    action: str  # quarantine, release, release_stripped, deny, view_raw, expire, purge, login, reload …
    ref: str | None = None
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class User:
    name: str
    password_hash: str
    role: str  # reviewer | admin
    disabled: bool = False
