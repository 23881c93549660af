"""The `when:` keys of a rule, each declared once: its type (the parser), its test and its description.

Like Mailman's chain links, a key is one entry: `Condition` below is at once the YAML schema
(config/load.py validates with it), what `rules.evaluate` runs (it reads each field's `Test`) and
what docs/configuration.md lists (generated from the descriptions). Adding a key is adding a field.

A test belongs to one stage, because keys combine in a fixed order:
  recipient  – about the recipient or the sender (party, address, secondee, attachments);
  record     – which records count (confidence, detector);
  violation  – which of the recipient's violations count, on the counted records;
  count      – bounds on the number of counted records (in the counted violations, if any).
"""

from collections.abc import Callable
from dataclasses import dataclass, fields
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, get_type_hints

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, PlainValidator

from dlp_gateway.addresses import domain_of, in_domain
from dlp_gateway.config.fields import Addresses, Bool, Int, Num, Strings, member_of, one_or_many
from dlp_gateway.model import Detector, Party, PartyKind, Record, Violation, ViolationKind


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

    @property
    def to_secondee_home(self) -> bool:
        return self.secondee_home is not None and self.party == Party(PartyKind.INSURER, self.secondee_home)


class Stage(StrEnum):
    RECIPIENT = "recipient"
    RECORD = "record"
    VIOLATION = "violation"
    COUNT = "count"


@dataclass(frozen=True)
class Test:
    """How a `when:` key is evaluated; `why` says so in the verdict's reason when it matched."""

    stage: Stage
    holds: Callable[[Any, Any], bool]  # (the key's value, the recipient / record / violation / count)
    why: Callable[[Any, Recipient], str] | None = None


def address_matches(wanted: tuple[str, ...], address: str) -> bool:
    """An entry is a full address, or a domain (with or without @) that covers its subdomains."""
    address = address.lower()
    domain = domain_of(address)
    return any(entry == address if "@" in entry.lstrip("@") else in_domain(domain, entry) for entry in wanted)


def _party_matches(wanted: tuple[str, ...], party: Party) -> bool:
    return any(w == party.kind or w == str(party) for w in wanted)


def _parties(value: tuple[str, ...]) -> tuple[str, ...]:
    for p in value:
        if p not in tuple(PartyKind) and not p.startswith("insurer:"):
            raise ValueError(f"unknown party {p!r} (internal, external, insurer or insurer:<id>)")
    return value  # insurer:<id> is checked against the configured insurers in config/load.py


def _record_kinds(record: Record) -> set[str]:
    return {k for k, v in ((Detector.POLICY_NUMBER, record.policy_number), (Detector.NAME, record.name)) if v}


Parties = Annotated[Strings, AfterValidator(_parties)]
RECORD_KINDS = (Detector.POLICY_NUMBER, Detector.NAME)  # the detectors whose findings make records
Detectors = Annotated[
    tuple[Annotated[Detector, PlainValidator(member_of(RECORD_KINDS))], ...], BeforeValidator(one_or_many)
]
Violations = Annotated[tuple[ViolationKind, ...], BeforeValidator(one_or_many)]
Count = Annotated[Int, Field(ge=0)]
Confidence = Annotated[Num, Field(ge=0, le=1)]


@dataclass(frozen=True)
class Condition:
    """All given keys must hold for a recipient; an empty condition matches every recipient."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    violation: Annotated[
        Violations,
        Field(description="the recipient has one of these violations: " + ", ".join(ViolationKind)),
        Test(
            Stage.VIOLATION,
            lambda wanted, v: v.kind in wanted,
        ),
    ] = ()
    min_records: Annotated[
        Count | None,
        Field(description="at least this many counted records (in the matching violations, if `violation` is given)"),
        Test(Stage.COUNT, lambda n, count: count >= n),
    ] = None
    max_records: Annotated[
        Count | None,
        Field(description="at most this many counted records"),
        Test(Stage.COUNT, lambda n, count: count <= n),
    ] = None
    min_confidence: Annotated[
        Confidence | None,
        Field(description="only records at least this sure count (0 to 1)"),
        Test(Stage.RECORD, lambda least, rec: rec.confidence >= least),
    ] = None
    detectors: Annotated[
        Detectors,
        Field(description="only records holding one of these count: policy_number, name"),
        Test(Stage.RECORD, lambda kinds, rec: bool(_record_kinds(rec) & set(kinds))),
    ] = ()
    recipient_party: Annotated[
        Parties,
        Field(description="the recipient is one of: internal, external, insurer, insurer:<id>"),
        Test(Stage.RECIPIENT, lambda wanted, r: _party_matches(wanted, r.party), lambda _, r: f"recipient {r.party}"),
    ] = ()
    sender_party: Annotated[
        Parties,
        Field(description="the envelope sender is one of: internal, external, insurer, insurer:<id>"),
        Test(Stage.RECIPIENT, lambda wanted, r: _party_matches(wanted, r.sender_party)),
    ] = ()
    senders: Annotated[
        Addresses,
        Field(description="the envelope sender is one of these addresses or domains (a domain covers subdomains)"),
        Test(Stage.RECIPIENT, lambda wanted, r: address_matches(wanted, r.sender)),
    ] = ()
    recipients: Annotated[
        Addresses,
        Field(description="the recipient is one of these addresses or domains (a domain covers subdomains)"),
        Test(Stage.RECIPIENT, lambda wanted, r: address_matches(wanted, r.address)),
    ] = ()
    secondee: Annotated[
        Bool | None,
        Field(description="true: the sender is a secondee writing to their home insurer; false: is not"),
        Test(
            Stage.RECIPIENT,
            lambda wanted, r: wanted == r.to_secondee_home,
            lambda wanted, r: f"secondee to home insurer {r.secondee_home}" if wanted else "",
        ),
    ] = None
    has_attachment: Annotated[
        Bool | None,
        Field(description="the message has (true) or has no (false) attachment"),
        Test(Stage.RECIPIENT, lambda wanted, r: wanted == r.has_attachment),
    ] = None


def _tests() -> dict[str, Test]:
    hints = get_type_hints(Condition, include_extras=True)
    out = {}
    for f in fields(Condition):
        found = [m for m in getattr(hints[f.name], "__metadata__", ()) if isinstance(m, Test)]
        assert len(found) == 1, f"when.{f.name} declares {len(found)} tests"
        out[f.name] = found[0]
    return out


TESTS: dict[str, Test] = _tests()


def given(when: Condition) -> list[tuple[str, Any, Test]]:
    """The keys this condition sets (a key left out is None or empty), with their tests."""
    return [(k, v, t) for k, t in TESTS.items() if (v := getattr(when, k)) is not None and v != ()]


Keyed = tuple[tuple[str, Any, Test], ...]


@lru_cache(maxsize=1024)  # a configuration's rules, asked for each recipient of every message
def staged(when: Condition) -> dict[Stage, Keyed]:
    """`given(when)` by the stage each test runs at."""
    keys = given(when)
    return {st: tuple((k, v, t) for k, v, t in keys if t.stage == st) for st in Stage}
