"""Labelled rows read by cells, as detection hands them to correlate: each cell's own findings and
each row's shape, not a Finding per cell per row.

A cell's form is everything about its findings but their values (detector, offsets in the cell,
confidence, insurers, label, heading, registry, person, and for an insurer mention the text its
label is read from). A row's shape is its cells' forms: correlate works out once per shape what
record a row of it makes (row_plans.py), and a 150,000-row list has a handful of shapes. `placed`
gives the findings the row path gives the same rows, for correlate where a row has no plan and
for the tests that hold the two to each other.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, overload

from dlp_gateway.detect.digit_column import ValueCells
from dlp_gateway.detect.insurers import is_heading
from dlp_gateway.detect.labels import label_window
from dlp_gateway.model import CELL_SEPARATOR, Detector, Finding, Segment

Form = tuple[tuple[object, ...], ...]


@dataclass
class TableForms:
    """The forms of one table's cells, numbered (0: a cell that holds nothing), and what correlate
    learns of rows of each shape (row_plans.py keeps its plans here: they live as long as the table)."""

    forms: list[Form] = field(default_factory=lambda: [()])
    ids: dict[Form, int] = field(default_factory=lambda: {(): 0})
    shapes: list[tuple[int, ...]] = field(default_factory=list)  # each row shape: its cells' forms
    shape_ids: dict[tuple[int, ...], int] = field(default_factory=dict)
    plans: dict[object, object] = field(default_factory=dict)
    by_template: dict[int, int] = field(default_factory=dict)  # a column-form template's id → its form

    def shape_id(self, key: tuple[int, ...]) -> int:
        sid = self.shape_ids.get(key)
        if sid is None:
            sid = self.shape_ids[key] = len(self.shapes)
            self.shapes.append(key)
        return sid

    def form_id(self, found: tuple[Finding, ...], cell: str) -> int:
        if not found:
            return 0
        form = tuple((f[0], *f[4:12], label_window(cell, f[4]) if f[0] == _INSURER else None) for f in found)
        fid = self.ids.get(form)
        if fid is None:
            fid = self.ids[form] = len(self.forms)
            self.forms.append(form)
        return fid


class ColumnRows(Sequence[tuple[tuple[Finding, ...], ...]]):
    """Rows' cells' findings kept as the columns they were read in (detect/cell_columns.py): a
    row is put together when asked for, and correlate reads a field's values off its column
    (row_plans._values)."""

    __slots__ = ("columns",)

    def __init__(self, columns: list[Sequence[tuple[Finding, ...]]]) -> None:
        self.columns = columns

    def __len__(self) -> int:
        return len(self.columns[0])

    @overload
    def __getitem__(self, r: int) -> tuple[tuple[Finding, ...], ...]: ...

    @overload
    def __getitem__(self, r: slice) -> list[tuple[tuple[Finding, ...], ...]]: ...

    def __getitem__(self, r: int | slice) -> tuple[tuple[Finding, ...], ...] | list[tuple[tuple[Finding, ...], ...]]:
        if isinstance(r, slice):
            return list(zip(*(column[r] for column in self.columns), strict=True))
        return tuple(column[r] for column in self.columns)

    def __iter__(self) -> Iterator[tuple[tuple[Finding, ...], ...]]:
        return zip(*self.columns, strict=True)

    def picked(self, rows: Sequence[int]) -> ColumnRows:
        """The rows at `rows` (in that order), still as columns: each column's kind kept."""
        return ColumnRows([_picked(column, rows) for column in self.columns])


def _picked(column: Sequence[tuple[Finding, ...]], rows: Sequence[int]) -> Sequence[tuple[Finding, ...]]:
    if isinstance(column, ByValue | ValueCells):
        return column.picked(rows)
    return list(map(column.__getitem__, rows))


class ByValue(Sequence[tuple[Finding, ...]]):
    """A column's cells' findings by each distinct cell (`found`: cell → its findings; `cells` the
    column's cells as their keys), looked up when asked for. Correlate takes a field's values by
    the distinct cells (row_plans._values): a list's names, dates and insurers repeat, and a
    look-up per cell for the findings and another two for their values took 2% of its scan."""

    __slots__ = ("cells", "found")

    def __init__(self, cells: Sequence[str], found: dict[str, tuple[Finding, ...]]) -> None:
        self.cells = cells
        self.found = found

    def __len__(self) -> int:
        return len(self.cells)

    @overload
    def __getitem__(self, i: int) -> tuple[Finding, ...]: ...

    @overload
    def __getitem__(self, i: slice) -> list[tuple[Finding, ...]]: ...

    def __getitem__(self, i: int | slice) -> tuple[Finding, ...] | list[tuple[Finding, ...]]:
        if isinstance(i, slice):
            return list(map(self.found.__getitem__, self.cells[i]))
        return self.found[self.cells[i]]

    def __iter__(self) -> Iterator[tuple[Finding, ...]]:
        return map(self.found.__getitem__, self.cells)

    def picked(self, rows: Sequence[int]) -> ByValue:
        """The cells at `rows`, in that order."""
        return ByValue(list(map(self.cells.__getitem__, rows)), self.found)


class CellRows(NamedTuple):
    """Labelled rows of a table that hold findings, in line order, with nothing between them but
    rows under the same header that hold none."""

    lines: Sequence[int]
    found: Sequence[Sequence[tuple[Finding, ...]]]  # each row's cells' own findings, offsets in the cell
    shapes: list[int]  # each row's shape in `table` (its cells' forms)
    table: TableForms

    def placed(self, si: int, seg: Segment) -> list[tuple[int, list[Finding]]]:
        """Each row's findings placed on its line, as the row path has them."""
        return [(li, placed_on(seg, si, li, found)) for li, found in zip(self.lines, self.found, strict=True)]


def placed_on(seg: Segment, si: int, li: int, found: Sequence[tuple[Finding, ...]]) -> list[Finding]:
    """A row's cells' findings placed on its line (its cells split again from the line: a list's
    rows do not keep them, a tenth of a large list's memory)."""
    line = seg.lines[li]
    return placed(found, line.split(CELL_SEPARATOR), si, li, line)


_new_finding = tuple.__new__  # a NamedTuple's own __new__ is a Python function: 0.4 µs more each


def placed(per_cell: Sequence[tuple[Finding, ...]], cells: list[str], si: int, li: int, line: str) -> list[Finding]:
    """The row's findings: each cell's, moved to the row's line and to the cell's offset in it. A
    section heading is a property of the whole row (its first character), not of a cell. (Fields
    by index and the enum member held locally: this runs for every finding of a list.)"""
    out: list[Finding] = []
    at = 0
    heading: bool | None = None
    for cell, found in zip(cells, per_cell, strict=True):
        if found:  # (most cells of a list hold nothing: a product, an amount, a branch)
            for f in found:
                if f[0] == _INSURER:
                    if heading is None:
                        heading = is_heading(line)
                    if f[9] != heading:
                        f = f._replace(heading=heading)  # noqa: PLW2901 - the cell's finding, as the row has it
                out.append(_new_finding(Finding, (f[0], f[1], si, li, f[4] + at, f[5] + at) + f[6:]))  # noqa: RUF005 - faster than unpacking
        at += len(cell) + 1
    return out


_INSURER = Detector.INSURER
