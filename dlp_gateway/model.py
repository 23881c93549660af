"""The data passed between pipeline stages: frozen dataclasses, no behaviour beyond trivial helpers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from operator import itemgetter
from typing import Any, NamedTuple

from dlp_gateway.line_refs import LineRefs


@dataclass(frozen=True)
class Envelope:
    mail_from: str
    rcpt_tos: tuple[str, ...]


@dataclass(frozen=True)
class Part:
    """One leaf MIME part, transfer-decoded to bytes; extract decides what the bytes are."""

    location: str  # "body", "body[1]", "attachment[0]:name.txt", "attachment[1]:fwd.eml/body"
    content_type: str
    filename: str | None
    charset: str | None
    payload: bytes
    params: tuple[tuple[str, str], ...] = ()  # other Content-Type parameters (format, delsp)

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.params if k == name), None)


@dataclass(frozen=True)
class Message:
    headers: tuple[tuple[str, str], ...]  # (name, decoded value), in order
    subject: str
    parts: tuple[Part, ...]
    defects: tuple[str, ...] = ()
    # Subjects of attached messages (message/rfc822), as (location, text).
    inner_subjects: tuple[tuple[str, str], ...] = ()

    def header(self, name: str) -> list[str]:
        lname = name.lower()
        return [v for n, v in self.headers if n.lower() == lname]


class Detector(StrEnum):
    """What found a Finding (one module each under detect/)."""

    POLICY_NUMBER = "policy_number"
    NAME = "name"
    INSURER = "insurer"
    DATE = "date"


class Attribution(StrEnum):
    """How a record's underwriter was found, in DESIGN §3's order."""

    REGISTRY = "registry"
    EXPLICIT = "explicit"
    REGISTRY_NAME = "registry_name"
    PATTERN = "pattern"
    UNKNOWN = "unknown"


class PartyKind(StrEnum):
    INTERNAL = "internal"
    INSURER = "insurer"
    EXTERNAL = "external"


class UnscannableKind(StrEnum):
    """Why content could not be read (`dlp_unscannable_total{reason}`: the values are its labels)."""

    ENCRYPTED = "encrypted"
    CORRUPT = "corrupt"
    UNSUPPORTED = "unsupported"
    NESTED = "nested"  # MIME, archives, XML or embedded files nested past a limit
    LARGER = "larger"  # the message is larger than max_message_size
    MORE_THAN = "more_than"  # more parts, members or characters than a limit
    TOOK_LONGER = "took_longer"  # a part took longer than part_time_budget
    COMPRESSION_RATIO = "compression_ratio"  # a member expands past max_compression_ratio
    EXPAND = "expand"  # archives expand past max_decompressed_bytes
    OTHER = "other"


class ViolationKind(StrEnum):
    CROSS_INSURER = "cross_insurer"
    UNATTRIBUTED = "unattributed"
    UNSCANNABLE = "unscannable"
    EXTERNAL_DISCLOSURE = "external_disclosure"


CELL_SEPARATOR = "\t"  # between the cells of a table line


@dataclass(frozen=True)
class Segment:
    """Text with provenance. `lines` keeps line structure so findings can say where they sit.

    A table (spreadsheet, CSV, HTML or PDF table) is one segment whose lines are its rows, each
    cell written as `header:value` so the detectors read a row's columns together. `refs` says
    where each line came from: per line, the location suffix of each cell written on it, in order
    ("!B3", "!C3"), or one suffix for the whole line (":line 14"). Cells are separated by a tab,
    which no cell holds. Without refs a line is ":line N".

    A sheet keeps its suffixes in parts, joined only for the cells a record is found in: `columns`
    holds each column's ("!A", "!B", …), `refs` each line's row ("3",) and `cells` the column of
    each cell written on the line.

    `headers` holds the lines that are a table's header rows: their cells name columns and are
    never values (the cell after 氏名 in a header row is the next column's title, not a customer).
    `labelled` holds runs of lines (start, end) written as every cell `title:value` under the
    header above them, no title blank: detect/cells.py need not test them again.
    """

    location: str
    lines: Sequence[str]  # a tuple, or a table's TableLines (extract/table_lines.py)
    kind: str = "text"  # "text" | "header" | "table"
    refs: Sequence[tuple[str, ...]] = ()  # a tuple, or a table's LineRefs (line_refs.py)
    columns: tuple[str, ...] = ()
    cells: tuple[tuple[int, ...], ...] = ()
    headers: frozenset[int] = frozenset()
    labelled: tuple[tuple[int, int], ...] = ()

    def where(self, line: int, offset: int = 0) -> str:
        if self.kind == "header" or not self.refs or line >= len(self.refs) or not self.refs[line]:
            return self.where_cell(line, 0)
        return self.where_cell(line, self.lines[line].count(CELL_SEPARATOR, 0, offset))

    def where_cells(self, lines: Sequence[int], at: int) -> list[str]:
        """where_cell for many lines of a sheet's table, at the same cell of each."""
        if self.kind == "header" or not self.columns or len(self.refs) != len(self.lines) or len(lines) < 2:
            return [self.where_cell(li, at) for li in lines]
        # A block's lines (a run: a range of step 1) are one slice; others each line's, in one call.
        run = type(lines) is range and lines.step == 1 and lines.start >= 0
        pick: Callable[[Sequence[Any]], Sequence[Any]] = (
            itemgetter(slice(lines[0], lines[-1] + 1)) if run else itemgetter(*lines)
        )
        cells: Sequence[tuple[int, ...]] = pick(self.cells)
        # (a list's full rows share one tuple of cells; a slice is as long as the lines if they are lines)
        if len(cells) == len(lines) and cells.count(cells[0]) == len(cells):
            c = cells[0]
            cell = self.location + self.columns[c[min(at, len(c) - 1)]]
            if run and isinstance(self.refs, LineRefs):
                rows = self.refs.rows(lines[0], lines[-1] + 1)
                if rows is not None:  # (a block of sheet rows: each location from its row number)
                    return list(map(cell.__add__, map(str, rows)))
            refs: Sequence[tuple[str, ...]] = pick(self.refs)
            if all(refs):  # (no line without a ref)
                return list(map(cell.__add__, map(_FIRST, refs)))
        return [self.where_cell(li, at) for li in lines]

    def where_cell(self, line: int, at: int) -> str:
        """`where` for an offset in the line's `at`-th cell (0-based, as written on the line)."""
        if self.kind == "header":
            return self.location
        if not self.refs or line >= len(self.refs) or not self.refs[line]:
            return f"{self.location}:line {line + 1}"
        refs = self.refs[line]
        if self.columns:
            cells = self.cells[line]
            return self.location + self.columns[cells[min(at, len(cells) - 1)]] + refs[0]
        return self.location + refs[min(at, len(refs) - 1)]


_FIRST = itemgetter(0)


@dataclass(frozen=True)
class Unscannable:
    """Content that could not be inspected: what kind of obstacle, and a sentence saying which
    (sizes, types, limits; never customer data). The kind is the metric's label."""

    location: str
    kind: UnscannableKind
    detail: str = ""

    @property
    def reason(self) -> str:
        return self.detail or str(self.kind)


class Finding(NamedTuple):
    """A detector hit: `value` is canonical (policy number, insurer id, ISO date or name).

    A named tuple, not a frozen dataclass: a list of 100,000 rows makes half a million findings,
    and a frozen dataclass took 4 µs to build each (one object.__setattr__ per field)."""

    detector: str  # a Detector (a str: tests and pickles may hold the plain value)
    value: str
    segment: int
    line: int
    start: int
    end: int
    confidence: float
    insurers: tuple[str, ...] = ()  # policy_number: insurers whose pattern matched
    label: str | None = None  # name: the label or honorific that introduced it ("registry" if none)
    heading: bool = False  # insurer: the mention is a section heading
    registry: tuple[str, ...] = ()  # insurers the customer registry holds this number or name under
    person: bool = False  # name: morphology confirms a full personal name (family and given)


class Record(NamedTuple):
    """One customer found in the message. A named tuple like Finding: a 130,000-row list builds
    130,000 of them in its worker and sends them to the gateway through a pipe, where a frozen
    dataclass cost 4 µs each to build and half again as much to unpickle as a tuple does."""

    policy_number: str | None
    name: str | None
    expiry: str | None
    underwriter: str | None
    attribution: str  # an Attribution
    confidence: float
    location: str
    # What gave the attribution: the label or column header and its kind ("引受保険会社 (underwriter)").
    basis: str = ""


@dataclass(frozen=True)
class Party:
    kind: str  # a PartyKind
    insurer: str | None = None

    def __str__(self) -> str:
        return f"insurer:{self.insurer}" if self.kind == PartyKind.INSURER else str(self.kind)


class Action(IntEnum):
    """Actions ordered from least to most restrictive: max() picks the winner."""

    DELIVER = 0
    MONITOR = 1
    HOLD = 2  # a gate: delivered after a delay the sender may cancel in (decide/engine.py)
    STRIP = 3
    REDACT = 4
    APPROVE = 5  # a gate: delivered once the sender's approver approves
    QUARANTINE = 6
    REJECT = 7

    @property
    def is_gate(self) -> bool:
        """Hold and approval delay what the other rules decide; they never change who gets what."""
        return self in (Action.HOLD, Action.APPROVE)

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Action:
        return cls[text.upper()]


@dataclass(frozen=True)
class Violation:
    kind: str  # a ViolationKind
    records: tuple[int, ...] = ()


@dataclass(frozen=True)
class RecipientDecision:
    address: str
    party: Party
    action: Action  # what is done
    violations: tuple[Violation, ...]
    rules: tuple[str, ...]
    would_be: Action = Action.DELIVER  # what simulated rules would have done too
    fallback: Action = Action.QUARANTINE  # if redaction turns out impossible


@dataclass(frozen=True)
class RuleMatch:
    rule: str
    action: Action
    recipients: tuple[str, ...]
    why: str
    simulated: bool = False


@dataclass(frozen=True)
class Decision:
    verdict: Action
    recipients: tuple[RecipientDecision, ...]
    matches: tuple[RuleMatch, ...]
    notes: tuple[str, ...] = ()
    simulated_verdict: Action | None = None  # set when simulation held back a stricter verdict
    gate: Action | None = None  # HOLD or APPROVE: delivery waits (approval wins over a hold)
    hold_minutes: int = 0  # for HOLD: the longest delay among the matching hold rules

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(m.rule for m in self.matches)

    def recipients_with(self, action: Action) -> list[str]:
        return [r.address for r in self.recipients if r.action == action]


@dataclass(frozen=True)
class Report:
    """Everything the pipeline concluded about one message."""

    envelope: Envelope
    sender_party: Party
    decision: Decision
    records: tuple[Record, ...]
    unscannable: tuple[Unscannable, ...]
    finding_counts: dict[str, int] = field(default_factory=dict)
    redacted: bytes | None = None  # the copy for recipients whose action is redact
    message_id: str = ""
    date: str = ""
    auto_submitted: bool = False  # RFC 3834: an automatic message gets no notice back
