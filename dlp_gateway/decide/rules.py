"""Violations per recipient (DESIGN §3) and whether a rule's condition holds for a recipient."""

from __future__ import annotations

from itertools import compress, repeat
from operator import attrgetter, is_

from dlp_gateway.decide.conditions import Condition, Recipient, Stage, staged
from dlp_gateway.model import Party, PartyKind, Record, Unscannable, Violation, ViolationKind

_UNDERWRITER = attrgetter("underwriter")


def violations_for(party: Party, records: list[Record], unscannable: tuple[Unscannable, ...]) -> list[Violation]:
    if party.kind == PartyKind.INTERNAL:
        return []
    if party.kind == PartyKind.EXTERNAL:
        return [Violation(ViolationKind.EXTERNAL_DISCLOSURE, tuple(range(len(records))))] if records else []
    out = []
    # (a 150,000-row list: each record's underwriter tested in C, against the few there are)
    underwriters = list(map(_UNDERWRITER, records))
    present = set(underwriters)
    rivals = present - {None, party.insurer}
    cross = tuple(compress(range(len(records)), map(rivals.__contains__, underwriters))) if rivals else ()
    unknown = tuple(compress(range(len(records)), map(is_, underwriters, repeat(None)))) if None in present else ()
    if cross:
        out.append(Violation(ViolationKind.CROSS_INSURER, cross))
    if unknown:
        out.append(Violation(ViolationKind.UNATTRIBUTED, unknown))
    if unscannable:
        out.append(Violation(ViolationKind.UNSCANNABLE))
    return out


def evaluate(when: Condition, r: Recipient) -> str | None:
    """Why the condition holds for this recipient, or None if it does not (stages: decide/conditions.py)."""
    stage = staged(when)
    if not all(t.holds(v, r) for _, v, t in stage[Stage.RECIPIENT]):
        return None
    record_tests = stage[Stage.RECORD]
    # The records the condition counts: every one (a range, no set of 150,000 made for each rule)
    # unless a test on records picks some.
    counted: set[int] | range = (
        {i for i, rec in enumerate(r.records) if all(t.holds(v, rec) for _, v, t in record_tests)}
        if record_tests
        else range(len(r.records))
    )
    why = []
    if stage[Stage.VIOLATION]:
        hit = [
            v
            for v in r.violations
            if all(t.holds(val, v) for _, val, t in stage[Stage.VIOLATION])
            and (v.kind == ViolationKind.UNSCANNABLE or _meets(counted, v.records))
        ]
        if not hit:
            return None
        records = set().union(*(v.records for v in hit))
        counted = records if isinstance(counted, range) else counted & records  # (a violation's are records')
        why.append("+".join(v.kind for v in hit))
    if not all(t.holds(v, len(counted)) for _, v, t in stage[Stage.COUNT]):
        return None
    if stage[Stage.VIOLATION] or stage[Stage.COUNT]:
        why.append(f"{len(counted)} record(s)")
    why += [t.why(v, r) for _, v, t in stage[Stage.RECIPIENT] if t.why is not None]
    return ", ".join(w for w in why if w) or "always"


def _meets(counted: set[int] | range, records: tuple[int, ...]) -> bool:
    """Whether a violation's records include one the condition counts."""
    return bool(records) if isinstance(counted, range) else not counted.isdisjoint(records)
