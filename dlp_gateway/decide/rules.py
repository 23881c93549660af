"""Violations per recipient (DESIGN §3) and whether a rule's condition holds for a recipient."""

from __future__ import annotations

from dataclasses import dataclass

from dlp_gateway.addresses import domain_of, in_domain
from dlp_gateway.config.schema import Condition
from dlp_gateway.model import Party, PartyKind, Record, Unscannable, Violation, ViolationKind


def violations_for(party: Party, records: list[Record], unscannable: tuple[Unscannable, ...]) -> list[Violation]:
    if party.kind == PartyKind.INTERNAL:
        return []
    if party.kind == PartyKind.EXTERNAL:
        return [Violation(ViolationKind.EXTERNAL_DISCLOSURE, tuple(range(len(records))))] if records else []
    out = []
    cross = tuple(i for i, r in enumerate(records) if r.underwriter not in (None, party.insurer))
    unknown = tuple(i for i, r in enumerate(records) if r.underwriter is None)
    if cross:
        out.append(Violation(ViolationKind.CROSS_INSURER, cross))
    if unknown:
        out.append(Violation(ViolationKind.UNATTRIBUTED, unknown))
    if unscannable:
        out.append(Violation(ViolationKind.UNSCANNABLE))
    return out


@dataclass(frozen=True)
class Recipient:
    """Everything a condition may ask about one recipient of one message."""

    address: str
    party: Party
    sender: str
    sender_party: Party
    violations: tuple[Violation, ...]
    records: tuple[Record, ...]
    secondee_home: str | None  # the sender's home insurer, if the sender is a secondee
    has_attachment: bool


def _party_matches(wanted: tuple[str, ...], party: Party) -> bool:
    return not wanted or any(w == party.kind or w == str(party) for w in wanted)


def address_matches(wanted: tuple[str, ...], address: str) -> bool:
    """An entry is a full address, or a domain (with or without @) that covers its subdomains."""
    address = address.lower()
    domain = domain_of(address)
    for entry in wanted:
        if "@" in entry.lstrip("@"):
            if entry == address:
                return True
        elif in_domain(domain, entry):
            return True
    return False


def _counts(record: Record, when: Condition) -> bool:
    if when.min_confidence is not None and record.confidence < when.min_confidence:
        return False
    if when.detectors:
        kinds = {"policy_number"} if record.policy_number else set()
        if record.name:
            kinds.add("name")
        return bool(kinds & set(when.detectors))
    return True


def evaluate(when: Condition, r: Recipient) -> str | None:
    """Why the condition holds for this recipient, or None if it does not."""
    if not _party_matches(when.recipient_party, r.party) or not _party_matches(when.sender_party, r.sender_party):
        return None
    if when.senders and not address_matches(when.senders, r.sender):
        return None
    if when.recipients and not address_matches(when.recipients, r.address):
        return None
    to_home = r.secondee_home is not None and r.party == Party(PartyKind.INSURER, r.secondee_home)
    if when.secondee is not None and when.secondee != to_home:
        return None
    if when.has_attachment is not None and when.has_attachment != r.has_attachment:
        return None
    why = []
    if when.min_confidence is None and not when.detectors:
        counted = set(range(len(r.records)))  # every record counts: no test of each
    else:
        counted = {i for i, rec in enumerate(r.records) if _counts(rec, when)}
    if when.violation:
        hit = [
            v
            for v in r.violations
            if v.kind in when.violation and (v.kind == ViolationKind.UNSCANNABLE or counted & set(v.records))
        ]
        if not hit:
            return None
        count = len({i for v in hit for i in v.records} & counted)
        why.append("+".join(v.kind for v in hit))
    else:
        count = len(counted)
    if when.min_records is not None and count < when.min_records:
        return None
    if when.max_records is not None and count > when.max_records:
        return None
    if when.min_records is not None or when.max_records is not None or when.violation:
        why.append(f"{count} record(s)")
    if when.recipient_party:
        why.append(f"recipient {r.party}")
    if to_home and when.secondee:
        why.append(f"secondee to home insurer {r.secondee_home}")
    return ", ".join(why) or "always"
