"""Violations per recipient (DESIGN §3) and whether a rule's condition holds for a recipient."""

from __future__ import annotations

from dlp_gateway.config.schema import Condition
from dlp_gateway.model import Party, Record, Unscannable, Violation


def violations_for(party: Party, records: list[Record], unscannable: tuple[Unscannable, ...]) -> list[Violation]:
    if party.kind == "internal":
        return []
    if party.kind == "external":
        return [Violation("external_disclosure", tuple(range(len(records))))] if records else []
    out = []
    cross = tuple(i for i, r in enumerate(records) if r.underwriter not in (None, party.insurer))
    unknown = tuple(i for i, r in enumerate(records) if r.underwriter is None)
    if cross:
        out.append(Violation("cross_insurer", cross))
    if unknown:
        out.append(Violation("unattributed", unknown))
    if unscannable:
        out.append(Violation("unscannable"))
    return out


def _party_matches(wanted: tuple[str, ...], party: Party) -> bool:
    return not wanted or any(w == party.kind or w == str(party) for w in wanted)


def evaluate(
    when: Condition, party: Party, sender: Party, violations: list[Violation], total_records: int
) -> str | None:
    """Why the condition holds for this recipient, or None if it does not."""
    if not _party_matches(when.recipient_party, party) or not _party_matches(when.sender_party, sender):
        return None
    why = []
    if when.violation:
        hit = [v for v in violations if v.kind in when.violation]
        if not hit:
            return None
        count = len({i for v in hit for i in v.records})
        why.append("+".join(v.kind for v in hit))
    else:
        count = total_records
    if when.min_records is not None and count < when.min_records:
        return None
    if when.max_records is not None and count > when.max_records:
        return None
    if when.min_records is not None or when.max_records is not None or when.violation:
        why.append(f"{count} record(s)")
    if when.recipient_party:
        why.append(f"recipient {party}")
    return ", ".join(why) or "always"
