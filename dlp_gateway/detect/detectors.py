"""All detectors over a message: `Detectors` runs each module on shared
normalised views of each line, then merges registry matches into the findings they confirm."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from itertools import groupby
from typing import Literal, overload

import regex

from dlp_gateway.config.schema import Config
from dlp_gateway.detect import dates, insurers, names, policy_number
from dlp_gateway.detect.cells import CellReader, Customers
from dlp_gateway.detect.chunk import Chunk, chunks
from dlp_gateway.detect.digit_column import DigitColumn
from dlp_gateway.detect.forms import ColumnForm, LineForm
from dlp_gateway.detect.labels import NOT_CUSTOMER_NAMES, LabelKind, classify, kind_before
from dlp_gateway.detect.letter import correspondent_lines
from dlp_gateway.detect.names import FIELD_LABELS
from dlp_gateway.detect.normalize import name_key
from dlp_gateway.detect.registry import RegistryFinder
from dlp_gateway.detect.row_shapes import CellRows
from dlp_gateway.errors import ScanTimeoutError
from dlp_gateway.model import CELL_SEPARATOR, Detector, Finding, Segment
from dlp_gateway.registry.index import Registry, RegistryIndex
from dlp_gateway.registry.staff import StaffDirectory


class Detectors:
    """Every detector, built once per configuration and registry."""

    def __init__(self, config: Config, registry: Registry | None = None, staff: StaffDirectory | None = None) -> None:
        self.mentions = insurers.MentionFinder(config.insurers.values())
        self.numbers = policy_number.PolicyNumberFinder(config.insurers.values())
        self.registry = RegistryFinder(registry) if isinstance(registry, RegistryIndex) and not registry.empty else None
        self.staff = frozenset(name_key(n) for n in config.organization.staff_names)
        self.directory = staff
        self.cells = CellReader(self.chunk, digits=self._digit_column(config))
        # The line forms (detect/forms.py), in the order their findings are merged on a line:
        # those a registry hit may confirm, then those that describe a record.
        self.customer_forms: tuple[LineForm, ...] = (self.numbers, names)
        self.context_forms: tuple[LineForm, ...] = (self.mentions, dates)

    def _digit_column(self, config: Config) -> ColumnForm | None:
        """The column form for cells of digits, unless an insurer's name or code holds a digit
        (a mention could then lie inside a number, and depend on its digits)."""
        words = [w for ins in config.insurers.values() for w in (*ins.mentions, *ins.codes)]
        if any(ch.isdigit() for w in words for ch in w):
            return None
        return DigitColumn(self.numbers, self.registry, lambda cell: self.chunk(Chunk((cell,)), 0)[0])

    def line(self, line: str, si: int, li: int) -> list[Finding]:
        """One line read alone (the detector evaluation, tests)."""
        return self.chunk(Chunk((line,), li), si)[0]

    def chunk(self, chunk: Chunk, si: int) -> list[list[Finding]]:
        """Each line's findings: numbers and names (registry hits merged), mentions, dates."""
        found = self.by_line(chunk, si)
        return [found.get(k, []) for k in range(len(chunk.lines))]

    def by_line(self, chunk: Chunk, si: int) -> dict[int, list[Finding]]:
        """The findings of the chunk's lines that hold any, by line (0-based in the chunk): most
        lines of a letter hold none, and a list per line cost a letter of 1,000 lines 0.3 ms."""
        per_line: dict[int, list[Finding]] = {}
        for form in self.customer_forms:
            for f in form.find(chunk, si):
                per_line.setdefault(f.line - chunk.first, []).append(f)
        if self.registry is not None:
            hits: dict[int, list[Finding]] = {}
            for f in self.registry.find(chunk, si):
                hits.setdefault(f.line - chunk.first, []).append(f)
            for k, line_hits in hits.items():
                per_line[k] = merge_registry(per_line.get(k, []), line_hits)
        if self.staff:
            for k, line_found in per_line.items():
                per_line[k] = [
                    f for f in line_found if f.detector != Detector.NAME or name_key(f.value) not in self.staff
                ]
        for form in self.context_forms:
            for f in form.find(chunk, si):
                per_line.setdefault(f.line - chunk.first, []).append(f)
        return per_line

    def segments(self, segments: tuple[Segment, ...], deadline: float = math.inf) -> list[Finding]:
        """Every finding; raises ScanTimeoutError once time.monotonic() passes `deadline` (checked
        per chunk: a chunk takes well under a second)."""
        return [f for _, _, found in self.lines(segments, deadline) for f in found]

    @overload
    def lines(
        self, segments: tuple[Segment, ...], deadline: float = ..., *, rows: Literal[False] = ...
    ) -> list[tuple[int, int, list[Finding]]]: ...

    @overload
    def lines(self, segments: tuple[Segment, ...], deadline: float = ..., *, rows: bool) -> list[LineFindings]: ...

    def lines(
        self, segments: tuple[Segment, ...], deadline: float = math.inf, *, rows: bool = False
    ) -> list[LineFindings] | list[tuple[int, int, list[Finding]]]:
        """The findings by line, (segment, line, findings) in order, for the lines that hold any:
        what correlate reads (correlate_lines), without grouping half a million findings again.
        With `rows`, a table's labelled rows come as CellRows (detect/cells.py): their findings
        are placed only if correlate needs them (finding_counts counts them either way)."""
        out: list[LineFindings] = []
        for si, seg in enumerate(segments):
            correspondents = correspondent_lines(seg.lines) if seg.kind == "text" else set()
            rosters = roster_lines(seg)
            for li, line_found, checked in self._lines(seg, si, deadline, rosters, rows):
                if isinstance(line_found, CellRows):
                    out.append((si, li, line_found))  # (labelled rows': their names are checked)
                    continue
                found, line = line_found, seg.lines[li]
                if li in correspondents:
                    # The greeting names the recipient and the signature the sender: not customers.
                    found = [f for f in found if f.detector != Detector.NAME or f.label in FIELD_LABELS]
                if li in seg.headers:
                    found = [f for f in found if f.detector == Detector.INSURER]  # a header cell is never a value
                elif not checked:  # (a row read by cells comes with its names checked: cells.Customers)
                    roster = li in rosters  # (only a name can be one of the agency's people)
                    found = [f for f in found if f[0] != _NAME or not self._not_a_customer(f, line, roster)]
                if found:
                    out.append((si, li, found))
        return out

    def _lines(
        self, seg: Segment, si: int, deadline: float, rosters: set[int], rows: bool = False
    ) -> Iterator[tuple[int, list[Finding] | CellRows, bool]]:
        """Each line that holds findings, with them, in line order, and whether its names have
        been checked: a table's rows under its header cell by cell (detect/cells.py, which checks
        them), every other line whole. (A line without any is left out: the filters have nothing
        to do there, and a letter's lines are mostly such.)"""
        if seg.kind != "table" or not seg.headers:
            for li, found in self._whole(seg, si, 0, len(seg.lines), deadline):
                yield li, found, False
            return
        table = list(self.cells.table(seg, si, deadline, Customers(self._in_cell, self._in_row, rosters), rows=rows))
        whole: dict[int, list[Finding]] = {}
        for a, b in _runs([li for li, cells in table if cells is None]):
            whole.update(self._whole(seg, si, a, b, deadline))
        for li, cells in table:
            if cells is None:
                if li in whole:
                    yield li, whole[li], False
            elif cells:
                yield li, cells, True

    def _in_cell(self, f: Finding, cell: str) -> bool:
        return not self._not_a_customer(f, cell, roster=False)

    def _in_row(self, f: Finding, line: str, roster: bool) -> bool:
        return not self._not_a_customer(f, line, roster)

    def _whole(
        self, seg: Segment, si: int, start: int, end: int, deadline: float
    ) -> Iterator[tuple[int, list[Finding]]]:
        """Lines start..end-1 of a segment that hold findings, each read as a whole line."""
        for chunk in chunks(seg.lines[start:end], start):
            if time.monotonic() > deadline:
                raise ScanTimeoutError("the scan ran past its deadline")
            per_line = self.by_line(chunk, si)
            tails = self.numbers.may_continue(chunk) if seg.kind == "text" else set()
            for k in sorted(per_line.keys() | tails):
                found, li = per_line.get(k, []), chunk.first + k
                if k in tails and li + 1 < len(seg.lines):
                    # Table rows never wrap; wrapped text and PDF lines may split a number.
                    found += [
                        f
                        for f in self.numbers.find_across(seg.lines[li], seg.lines[li + 1], si, li)
                        if not any(g.detector == f.detector and g.end > f.start for g in found)
                    ]
                if found:
                    yield li, found

    def _not_a_customer(self, f: Finding, line: str, roster: bool) -> bool:
        """A name under a staff, kana or insurer label, or in a roster, that the registry does not
        hold as a customer: one of the agency's (or an insurer's) people."""
        if f.detector != Detector.NAME or f.registry:
            return False
        if self.directory is not None and f.value in self.directory:
            return True
        if self.staff and name_key(f.value) in self.staff:
            return True  # (chunk() drops the others; a name joined from two cells comes after it)
        return roster or kind_before(line, f.start, separated=True) in NOT_CUSTOMER_NAMES


_NAME = Detector.NAME
# (segment, line, the line's findings): CellRows stand for labelled rows from that line on
LineFindings = tuple[int, int, list[Finding] | CellRows]


def finding_counts(lines: Sequence[LineFindings]) -> dict[str, int]:
    """How many findings of each detector the lines hold, CellRows' counted from their shapes."""
    counts: Counter[str] = Counter()
    for _, _, found in lines:
        if isinstance(found, CellRows):
            forms, shapes = found.table.forms, found.table.shapes
            for sid, n in Counter(found.shapes).items():
                for fid in shapes[sid]:
                    for part in forms[fid]:
                        counts[str(part[0])] += n  # (the part's detector)
        else:
            counts.update(f.detector for f in found)
    return dict(counts)


# Columns that make a table a list of customers, whatever else it holds: a roster has none.
_CUSTOMER_KINDS = frozenset({LabelKind.POLICY, LabelKind.UNDERWRITER, LabelKind.OTHER_INSURER})
_CUSTOMER_TITLE = regex.compile("契約|被保険|顧客|お客|名義|受取|申込|満期|証券|保険料")


def roster_lines(seg: Segment) -> set[int]:
    """The rows of a segment's tables whose header names staff columns (部署, 内線, 役職, 担当) and
    nothing of a customer's (no policy number, insurer, 契約者, 満期 … column): a roster of people,
    not a list of customers with the staff member who handles each."""
    out: set[int] = set()
    headers = sorted(seg.headers)
    if not headers:
        return out
    for li, end in zip(headers, [*headers[1:], len(seg.lines)], strict=True):  # (each header to the next)
        cells = seg.lines[li].split(CELL_SEPARATOR)
        kinds = {classify(cell) for cell in cells}
        if LabelKind.STAFF in kinds and not kinds & _CUSTOMER_KINDS and not any(map(_CUSTOMER_TITLE.search, cells)):
            out.update(range(li + 1, end))
    return out


def merge_registry(found: list[Finding], hits: list[Finding]) -> list[Finding]:
    """A registry hit over a finding confirms it (the finding keeps its label and gains the
    registry's insurers); a hit over nothing is a finding of its own."""
    out = list(found)
    for hit in hits:
        twin = next(
            (i for i, f in enumerate(out) if f.detector == hit.detector and f.start < hit.end and hit.start < f.end),
            None,
        )
        if twin is None:
            out.append(hit)
            continue
        f = out[twin]
        if hit.end - hit.start > f.end - f.start:
            out[twin] = hit._replace(label=f.label or hit.label, insurers=f.insurers)
        else:
            out[twin] = f._replace(registry=hit.registry, confidence=max(f.confidence, hit.confidence))
    return out


def detect_all(segments: tuple[Segment, ...], config: Config, registry: Registry | None = None) -> list[Finding]:
    return Detectors(config, registry).segments(segments)


def _runs(lines: Sequence[int]) -> Iterator[tuple[int, int]]:
    """Sorted line numbers as (start, end) runs of consecutive lines."""
    for _, run in groupby(enumerate(lines), key=lambda pair: pair[1] - pair[0]):
        numbers = [li for _, li in run]
        yield numbers[0], numbers[-1] + 1
