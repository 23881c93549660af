"""Report → the `scan --json` document (DESIGN §4) and the masked summary the gateway keeps."""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from itertools import islice
from typing import Any

from dlp_gateway.held import (
    HeldSummary,
    MatchSummary,
    RecipientSummary,
    RecordSummary,
    UnscannableSummary,
    ViolationSummary,
)
from dlp_gateway.model import Record, Report


def mask(value: str) -> str:
    """`8123456789` → `81******89`; `山田 太郎` → `山田 **`. Short values keep only their first character."""
    if " " in value:
        family, _, given = value.partition(" ")
        return f"{family} {'*' * len(given)}"
    if len(value) >= 6:
        return value[:2] + "*" * (len(value) - 4) + value[-2:]
    return value[:1] + "*" * (len(value) - 1)


def _record(r: Record, show: Callable[[str], str]) -> dict[str, Any]:
    return {
        "policy_number": show(r.policy_number) if r.policy_number else None,
        "name": show(r.name) if r.name else None,
        "expiry": r.expiry,
        "underwriter": r.underwriter,
        "attribution": r.attribution,
        "confidence": r.confidence,
        "location": r.location,
        "basis": r.basis,
    }


def kept_records(report: Report, limit: int) -> list[int]:
    """Which records a summary of at most `limit` keeps: those a recipient's violation names first
    (what a reviewer must see), then the others, each group in message order."""
    n = len(report.records)
    if n <= limit:
        return list(range(n))
    # A violation lists its records in ascending order: merged, the first `limit` distinct ones are
    # read without walking the rest (a list sent to ten rival insurers names each record ten times).
    named: list[int] = []
    for i in heapq.merge(*(v.records for r in report.decision.recipients for v in r.violations)):
        if not named or named[-1] != i:
            named.append(i)
            if len(named) == limit:
                return named
    taken = set(named)
    return sorted([*named, *islice((i for i in range(n) if i not in taken), limit - len(named))])


def summary_of(report: Report, ref: str, max_records: int) -> HeldSummary:
    """The masked summary the gateway keeps with a held message. A month-end list can hold 130,000
    records: all of them made 25 MB of JSON, built and written on the gateway's event loop (0.4 s
    of every other session's time) and parsed again by every console page that lists it. It keeps
    `max_records` of them, each with its `index` in the message; `records_total`, each
    violation's `count` and `records_by_underwriter` still count them all. The held message itself
    is whole, for `scan` to list every record."""
    keep = kept_records(report, max_records)
    kept = set(keep) if len(keep) < len(report.records) else None
    last = keep[-1] if keep else -1  # (keep is ascending, and so is each violation's list)

    def named(records: tuple[int, ...]) -> tuple[int, ...]:
        if kept is None:
            return tuple(records)
        return tuple(i for i in records[: bisect_right(records, last)] if i in kept)

    d = report.decision
    return HeldSummary(
        reference=ref,
        verdict=d.verdict.label,
        rules=tuple(d.rules),
        recipients=tuple(
            RecipientSummary(
                r.address,
                str(r.party),
                r.action.label,
                tuple(ViolationSummary(v.kind, named(v.records), len(v.records)) for v in r.violations),
                tuple(r.rules),
            )
            for r in d.recipients
        ),
        records=tuple(RecordSummary(i, **_record(report.records[i], mask)) for i in keep),
        records_total=len(report.records),
        records_by_underwriter=dict(Counter(r.underwriter or "unknown" for r in report.records)),
        unscannable=tuple(UnscannableSummary(u.location, u.reason) for u in report.unscannable),
        sender=report.envelope.mail_from,
        sender_party=str(report.sender_party),
        matches=tuple(MatchSummary(m.rule, m.action.label, tuple(m.recipients), m.why) for m in d.matches),
        notes=tuple(d.notes),
        gate_action=d.gate.label if d.gate else None,
        hold_minutes=d.hold_minutes or None,
    )


def report_json(report: Report, ref: str | None = None, masked: bool = False) -> dict[str, Any]:
    """The `scan --json` document (DESIGN §4); `masked` shows values as the gateway's summaries do."""
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
        "records": [_record(r, show) for r in report.records],
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
