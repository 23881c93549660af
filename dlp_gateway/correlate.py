"""correlate: Findings → customer Records, each with an underwriter and how it was attributed.

Grouping: a policy number anchors a record; names, dates and insurer labels on the same line join
it (paired in order when a line holds several); labelled fields on nearby lines (same block, at
most WINDOW lines away) join the nearest record still missing that field. A labelled name with
no number near it is a record of its own. Attribution follows DESIGN §3 in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter, itemgetter
from typing import NamedTuple

import regex

from dlp_gateway import row_plans
from dlp_gateway.attribution import attribute, display_name, names_underwriter
from dlp_gateway.detect.labels import has_underwriter_hint
from dlp_gateway.detect.names import FIELD_LABELS, HONORIFICS
from dlp_gateway.detect.normalize import name_key
from dlp_gateway.detect.row_shapes import CellRows, placed_on
from dlp_gateway.model import Detector, Finding, Record, Segment
from dlp_gateway.registry import Registry

WINDOW = 3
# A line that names an insurer as a field rather than in passing: 「引受保険会社：東京海上日動」.
EXPIRY_FIELD = regex.compile(r"満期|満了|保険期間|expir", regex.IGNORECASE)


@dataclass(slots=True)  # (a list builds one per row)
class _Draft:
    segment: int
    line: int
    number: Finding | None = None
    name: Finding | None = None
    date: Finding | None = None
    insurer: str | None = None
    insurer_basis: str = ""
    section: str | None = None


def _stands_alone(name: Finding) -> bool:
    """Whether a name is a customer record without a policy number beside it: under a field label,
    known to the registry, or a full name (by morphology) with an honorific. A bare honorific name
    is most often the recipient in the greeting; a bare full name in prose, a colleague."""
    return name.label in FIELD_LABELS or bool(name.registry) or (name.person and name.label in HONORIFICS)


def _pick(items: list[Finding], k: int, total: int, anchor: Finding) -> Finding | None:
    if not items:
        return None
    if len(items) == total:
        return items[k]
    if total == 1:
        return min(items, key=lambda f: abs(f.start - anchor.start))
    return None


def _nearest(items: list[Finding], anchor: Finding) -> Finding | None:
    """_pick(items, 0, 1, anchor)."""
    if not items:
        return None
    return items[0] if len(items) == 1 else min(items, key=lambda f: abs(f.start - anchor.start))


_START = attrgetter("start")
_NUMBER_OF = itemgetter(0)  # (Record.policy_number)
_new_record = tuple.__new__


def _blocks(lines: Sequence[str]) -> list[int]:
    """block[i] = number of the blank-line-separated block line i sits in."""
    out, block = [], 0
    for line in lines:
        if not line.strip():
            block += 1
        out.append(block)
    return out


# A title that names the insurer of the list below it: the insurer's name and words of a list
# only (「東京海上日動」「損保ジャパン分」「東京海上日動 満期一覧」), nothing that addresses someone
# (御中, 様) or says anything else about the insurer (との比較, から切替).
_LIST_TITLE = regex.compile(
    r"[\s　■□●◆【】\[\]（）()・:：_\-]*(?:(?:ご?契約|更改|満期|継続|新規)?(?:分|一覧|リスト|明細|対象|名簿|予定|"
    r"ご?契約|更改|満期|継続|新規|案件|\d{1,4}年度?|\d{1,2}月)[\s　■□●◆【】\[\]（）()・:：_\-]*)*"
)


def _names_a_list(title: str, mention: Finding) -> bool:
    """Whether a title row or sheet name is the insurer's name and words of a list, nothing else."""
    rest = title[: mention.start] + " " + title[mention.end :]
    return bool(_LIST_TITLE.fullmatch(rest.strip()) or not rest.strip())


class _Line(NamedTuple):
    """One line's findings by kind, with the insurer mentions that name an underwriter there."""

    numbers: list[Finding]
    names: list[Finding]
    dates: list[Finding]
    mentions: list[Finding]  # only those that name the underwriter
    basis: dict[int, str]  # id(mention) → why it names the underwriter


def _read_line(line: str, fs: list[Finding]) -> _Line:
    # Four lists filled in one pass: a list row has a finding of each kind, and this runs per row.
    numbers: list[Finding] = []
    names: list[Finding] = []
    dates: list[Finding] = []
    mentions: list[Finding] = []
    for f in fs:
        kind = f[0]
        if kind == _NUMBER:
            numbers.append(f)
        elif kind == _NAME:
            names.append(f)
        elif kind == _DATE:
            dates.append(f)
        else:
            mentions.append(f)
    if not mentions:
        return _Line(numbers, names, dates, mentions, {})
    said = [names_underwriter(line, m) for m in mentions]
    basis = {id(m): why for m, (yes, why) in zip(mentions, said, strict=True) if yes}
    return _Line(numbers, names, dates, [m for m in mentions if id(m) in basis], basis)


_NUMBER, _NAME, _DATE = Detector.POLICY_NUMBER, Detector.NAME, Detector.DATE


def _numbered(si: int, li: int, found: _Line, section: str | None) -> list[_Draft]:
    """A record per policy number on the line; names, dates and insurers paired in order."""
    numbers, mentions = found.numbers, found.mentions
    if len(numbers) == 1:  # (a list's row: _pick with one number is the nearest of each, or none)
        num = numbers[0]
        ins = _nearest(mentions, num)
        return [
            _Draft(
                si,
                li,
                num,
                _nearest(found.names, num),
                _nearest(found.dates, num),
                None if ins is None else ins.value,
                "" if ins is None else found.basis[id(ins)],
                section,
            )
        ]
    return paired_in_order(si, li, found, section)


def paired_in_order(si: int, li: int, found: _Line, section: str | None) -> list[_Draft]:
    """_numbered for any count of numbers: the k-th name, date and insurer with the k-th number
    when the counts agree, the nearest when there is one number."""
    numbers, mentions = found.numbers, found.mentions
    drafts = []
    for k, num in enumerate(numbers):
        d = _Draft(si, li, number=num, section=section)
        d.name = _pick(found.names, k, len(numbers), num)
        d.date = _pick(found.dates, k, len(numbers), num)
        ins = _pick(mentions, k, len(numbers), num)
        if ins is None and len({m.value for m in mentions}) == 1:
            ins = mentions[0]
        if ins is not None:
            d.insurer, d.insurer_basis = ins.value, found.basis[id(ins)]
        drafts.append(d)
    return drafts


def _heading(seg: Segment, line: str, found: _Line) -> str | None:
    """The insurer a section heading or a table's title row (「東京海上日動 満期一覧」) names."""
    heads = {m.value for m in found.mentions if m.heading}
    title = seg.kind == "table" and "\t" not in line and len(found.mentions) == 1 and not found.names
    if not heads and title and _names_a_list(line, found.mentions[0]):
        heads = {found.mentions[0].value}
    return heads.pop() if len(heads) == 1 else None


def _unnumbered_row(si: int, li: int, line: str, found: _Line, section: str | None) -> list[_Draft]:
    """A table row without a number: its underwriter cell names the row's customers."""
    alone = [f for f in found.names if _stands_alone(f)]
    if not (alone and len({m.value for m in found.mentions}) == 1 and "\t" in line):
        return []
    drafts = []
    for f in alone:
        d = _Draft(si, li, name=f, date=found.dates[0] if len(found.dates) == 1 else None, section=section)
        d.insurer, d.insurer_basis = found.mentions[0].value, found.basis[id(found.mentions[0])]
        drafts.append(d)
    return drafts


def _join_nearby(
    si: int, seg: Segment, drafts: list[_Draft], loose: list[tuple[int, Finding, str]], section: str | None
) -> None:
    """Labelled fields on nearby lines of the paragraph join the nearest record missing them."""
    if not loose:
        return
    block = _blocks(seg.lines)
    for li, f, why in loose:
        line = seg.lines[li]
        alone = line.strip() == line[f.start : f.end]
        if f.detector == Detector.INSURER and not (alone or has_underwriter_hint(line)):
            continue  # an insurer joins a record nearby only from an underwriter field or a line of its own
        if f.detector == Detector.DATE and not EXPIRY_FIELD.search(line):
            continue
        slot = {"name": "name", "date": "date", "insurer": "insurer"}[f.detector]
        near = [
            d
            for d in drafts
            if d.number and block[d.line] == block[li] and abs(d.line - li) <= WINDOW and getattr(d, slot) is None
        ]
        if near:
            # Nearest first; on a tie the record above wins (fields usually follow their number).
            target = min(near, key=lambda d: (abs(d.line - li), d.line > li))
            setattr(target, slot, f.value if slot == "insurer" else f)
            if slot == "insurer":
                target.insurer_basis = why
        elif f.detector == Detector.NAME:
            drafts.append(_Draft(si, li, name=f, section=section))


Lines = dict[int, list[Finding] | CellRows]  # a segment's findings by line (labelled rows': CellRows)


def _drafts_for_segment(
    si: int, seg: Segment, by_line: Lines, section: str | None = None, registry: Registry | None = None
) -> list[_Draft | Record]:
    """`by_line`: the segment's findings by line, in line order. `section`: the insurer the sheet
    the segment is on is named after, if any. Labelled rows whose shape has a plan are made
    Records here (with `registry`, row_plans.py); the other lines are drafts, in line order with them."""
    walk = _Walk(si, seg, section)
    walk.lines(by_line, registry)
    if walk.loose and any(isinstance(d, Record) for d in walk.out):
        # A field on a line nearby may join a planned row's record: every row is placed instead.
        walk = _Walk(si, seg, section)
        walk.lines(by_line, None)
    if not walk.loose:
        return walk.out  # (_join_nearby has nothing to join)
    drafts = [d for d in walk.out if isinstance(d, _Draft)]
    found = len(drafts)
    _join_nearby(si, seg, drafts, walk.loose, walk.section)
    return [*walk.out, *drafts[found:]]


class _Walk:
    """A segment's lines in order: drafts and planned records, loose fields, and the section
    heading in force."""

    def __init__(self, si: int, seg: Segment, section: str | None) -> None:
        self.si, self.seg, self.section = si, seg, section
        self.out: list[_Draft | Record] = []
        self.loose: list[tuple[int, Finding, str]] = []  # (line, finding, why a mention names the underwriter)

    def lines(self, by_line: Lines, registry: Registry | None) -> None:
        """Without `registry`, no row is planned."""
        for li, line_found in by_line.items():
            if isinstance(line_found, CellRows):
                self.rows(line_found, registry)
            else:
                self.line(li, line_found)

    def rows(self, rows: CellRows, registry: Registry | None) -> None:
        if registry is not None:
            records = row_plans.block_records(rows, self.section, self.seg, registry)
            if records is not None:
                self.out += records
                return
        for li, found, shape in zip(rows.lines, rows.found, rows.shapes, strict=True):
            plan = row_plans.plan_for(rows.table, shape, self.section) if registry is not None else None
            if plan is not None and registry is not None:
                self.out.append(row_plans.record(plan, found, self.seg, li, registry))
            else:
                self.line(li, placed_on(self.seg, self.si, li, found))

    def line(self, li: int, line_found: list[Finding]) -> None:
        si, seg, section = self.si, self.seg, self.section
        fs = sorted(line_found, key=_START)
        line = seg.lines[li]
        on_line = _read_line(line, fs)
        if on_line.numbers:
            self.out += _numbered(si, li, on_line, section)
            return
        heading = _heading(seg, line, on_line)
        if heading is not None:
            self.section = heading
            return
        row = _unnumbered_row(si, li, line, on_line, section)
        if row:
            self.out += row
            return
        self.loose += [
            (li, f, on_line.basis.get(id(f), ""))
            for f in fs
            if (f.detector != Detector.NAME or _stands_alone(f))
            and (f.detector != Detector.INSURER or id(f) in on_line.basis)
        ]


def correlate(segments: tuple[Segment, ...], findings: list[Finding], registry: Registry) -> list[Record]:
    by_line: dict[tuple[int, int], list[Finding]] = {}
    for f in findings:
        by_line.setdefault((f.segment, f.line), []).append(f)
    return correlate_lines(segments, [(si, li, fs) for (si, li), fs in sorted(by_line.items())], registry)


def correlate_lines(
    segments: tuple[Segment, ...], lines: Sequence[tuple[int, int, list[Finding] | CellRows]], registry: Registry
) -> list[Record]:
    """correlate over findings already by line (Detectors.lines): (segment, line, findings), each
    line once, in order; CellRows for labelled rows from that line on (Detectors.lines with rows)."""
    by_segment: dict[int, Lines] = {}
    for si, li, fs in lines:
        by_segment.setdefault(si, {})[li] = fs
    records: list[Record] = []
    for si, by_line in by_segment.items():
        seg = segments[si]
        for d in _drafts_for_segment(si, seg, by_line, _sheet_insurer(segments, by_segment, si), registry):
            if isinstance(d, Record):
                records.append(d)
                continue
            underwriter, source, basis, confidence = attribute(d.number, d.name, d.insurer, d.insurer_basis, d.section)
            anchor = d.number or d.name
            location = seg.where(d.line, anchor.start if anchor else 0)
            records.append(
                _new_record(  # Record's fields in order (its own __new__ is a Python function)
                    Record,
                    (
                        d.number.value if d.number else None,
                        display_name(d.name.value, registry) if d.name else None,
                        d.date.value if d.date else None,
                        underwriter,
                        source,
                        confidence,
                        location,
                        basis,
                    ),
                )
            )
    return _without_repeated_names(records)


def _sheet_insurer(segments: tuple[Segment, ...], by_segment: dict[int, Lines], si: int) -> str | None:
    """The insurer a sheet is named after (「東京海上日動」「損保ジャパン分」): the heading of every row
    on it (DESIGN §3). Its name is the segment just before the sheet's table."""
    seg = segments[si]
    if si == 0 or seg.kind != "table" or segments[si - 1].location != seg.location + " (sheet name)":
        return None
    named = [
        f
        for fs in by_segment.get(si - 1, {}).values()
        if not isinstance(fs, CellRows)  # (a sheet's name is a header segment: never rows)
        for f in fs
        if f.detector == Detector.INSURER
    ]
    if len(named) != 1 or not _names_a_list(segments[si - 1].lines[0], named[0]):
        return None
    return named[0].value


def _without_repeated_names(records: list[Record]) -> list[Record]:
    """A name alone that another record already holds with its policy number is that customer
    mentioned again (in the subject, a greeting line, a summary): one customer, one record."""
    if all(map(_NUMBER_OF, records)) or not any(r.policy_number is None and r.name for r in records):
        return records  # (a list's records all hold their number: no name_key for each of them)
    numbered = {name_key(r.name) for r in records if r.name and r.policy_number}
    seen: set[str] = set()
    out = []
    for r in records:
        if r.policy_number is None and r.name:
            key = name_key(r.name)
            if key in numbered or key in seen:
                continue
            seen.add(key)
        out.append(r)
    return out
