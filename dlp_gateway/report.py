"""Report → the `scan --json` document (DESIGN §4) and the masked summary the gateway keeps."""

from __future__ import annotations

from typing import Any

from dlp_gateway.model import Report


def mask(value: str) -> str:
    """`8123456789` → `81******89`; `山田 太郎` → `山田 **`. Short values keep only their first character."""
    if " " in value:
        family, _, given = value.partition(" ")
        return f"{family} {'*' * len(given)}"
    if len(value) >= 6:
        return value[:2] + "*" * (len(value) - 4) + value[-2:]
    return value[:1] + "*" * (len(value) - 1)


def report_json(report: Report, ref: str | None = None, masked: bool = False) -> dict[str, Any]:
    show = mask if masked else (lambda v: v)
    d = report.decision
    doc: dict[str, Any] = {
        "verdict": d.verdict.label,
        "rules": list(d.rules),
        "recipients": [
            {
                "address": r.address,
                "party": str(r.party),
                "action": r.action.label,
                "violations": [{"kind": v.kind, "records": list(v.records)} for v in r.violations],
                "rules": list(r.rules),
            }
            for r in d.recipients
        ],
        "records": [
            {
                "policy_number": show(r.policy_number) if r.policy_number else None,
                "name": show(r.name) if r.name else None,
                "expiry": r.expiry,
                "underwriter": r.underwriter,
                "attribution": r.attribution,
                "confidence": r.confidence,
                "location": r.location,
            }
            for r in report.records
        ],
        "unscannable": [{"location": u.location, "reason": u.reason} for u in report.unscannable],
        "sender": {"address": report.envelope.mail_from, "party": str(report.sender_party)},
        "matches": [
            {"rule": m.rule, "action": m.action.label, "recipients": list(m.recipients), "why": m.why}
            for m in d.matches
        ],
        "notes": list(d.notes),
        # hold or approve when delivery waits (the verdict still says what is delivered then)
        "gate": d.gate.label if d.gate else None,
        "hold_minutes": d.hold_minutes or None,
    }
    if ref:
        doc["reference"] = ref
    return doc
