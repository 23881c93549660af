"""Rows under a table's header, read cell by cell, each distinct cell once: the column path.

Under a header every cell is a field with its own label (`契約者名:山田 太郎`), so no detector
reads across a cell boundary. Read as one line, a row let patterns run from one cell into the
next: the honorific 氏 that begins the header 氏名 made 「地域:渋谷区<TAB>氏名:…」 a customer
called 渋谷区, who then took the row's record from the real customer; a date's optional 日 ran
into a following 日付 column; digits on both sides of a boundary could join into one number, and
a registered name could span two cells.

Read alone, a cell's findings are a function of its text (its header is part of it), so a column's
repeated cells — the insurer, the product, the branch, the expiry dates, the staff — are read once
per table, and only the distinct cells not yet seen are run through the detectors: together, as
the lines of one chunk (each line is read exactly as if alone: detect/chunk.py). Rows keep their
line numbers and offsets; the rest of the pipeline (filters by line, correlate) sees rows as before.
The one reading that needs two cells, a name split over 姓 and 名 columns, is detect/split_names.py.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Literal, NamedTuple, overload

from dlp_gateway.detect.chunk import Chunk, chunks
from dlp_gateway.detect.digit_column import DigitColumn, TableMemo
from dlp_gateway.detect.insurers import HEADING, is_heading
from dlp_gateway.detect.labels import label_window
from dlp_gateway.detect.split_names import Columns, joined, name_columns
from dlp_gateway.errors import ScanTimeoutError
from dlp_gateway.model import CELL_SEPARATOR, Detector, Finding, Segment

MEMO_CELLS = 200_000  # distinct cells kept per table: past this the memo starts again, memory stays flat
BATCH_ROWS = 2_000  # rows whose new cells are read together

ReadChunk = Callable[[Chunk, int], list[list[Finding]]]  # Detectors.chunk: each line's findings


class Customers(NamedTuple):
    """The detectors' test of which names may be customers, for `table` to apply itself: a name's
    own cell settles it (the label before it never crosses a tab), so it is asked once per
    distinct cell rather than once per row; the rows of a staff roster, and a name joined from
    two cells, are still asked per row."""

    in_cell: Callable[[Finding, str], bool]  # (a name read alone in the cell, the cell)
    in_row: Callable[[Finding, str, bool], bool]  # (a name on the row, the row, in a roster)
    rosters: set[int]  # the segment's lines under a roster header


def _labelled(cells: list[str], titles: frozenset[str]) -> bool:
    """Whether every cell of a row carries a title of the header above it (`title:value`). A row
    with a cell outside the header's columns, or under a blank title, is read whole as before:
    there a label and its value may sit in two cells side by side (「契約者<TAB>山田 太郎」), and
    only the whole line joins them."""
    return all(sep and title in titles for title, sep, _ in (c.partition(":") for c in cells))


def labelled_row(titles: frozenset[str]) -> Callable[[str], bool]:
    """_labelled for a whole line under a header of these titles: one match of the line instead
    of a partition per cell, when no title holds a colon (a header row's cells never do)."""
    if not titles or any(":" in t for t in titles):
        return lambda line: _labelled(line.split(CELL_SEPARATOR), titles)
    title = "(?:" + "|".join(re.escape(t) for t in titles) + "):[^\t]*"
    match = re.compile(f"{title}(?:\t{title})*").fullmatch
    return lambda line: match(line) is not None


@dataclass
class _Header:
    """The header row the rows below it are read under, as a table is walked down."""

    titles: frozenset[str] | None = None
    names: Columns | None = None  # its family and given name columns, if split
    is_labelled: Callable[[str], bool] = bool
    matchers: dict[frozenset[str], Callable[[str], bool]] = field(default_factory=dict)  # (this table's only)
    # Whether a row under it is a section heading whatever its cells: a title that begins with a
    # heading's mark (■, 【) makes every labelled row begin with one.
    heading_titles: bool = False

    def read(self, cells: list[str]) -> None:
        """Take a header row's cells as the titles of the rows below it."""
        self.titles, self.names = frozenset(cells), name_columns(cells)
        if self.titles not in self.matchers:
            self.matchers[self.titles] = labelled_row(self.titles)
        self.is_labelled = self.matchers[self.titles]
        self.heading_titles = any(HEADING.match(t) for t in self.titles)

    def rows(self, lines: Sequence[str]) -> list[list[str] | None]:
        """Each line's cells if it is read cell by cell under this header, else None."""
        if self.titles is None:
            return [None] * len(lines)
        match = self.is_labelled
        return [line.split(CELL_SEPARATOR) if match(line) else None for line in lines]


class _Run(NamedTuple):
    """Lines of a batch under one header: the first, each one's cells (None: read whole), the
    header's name columns, and whether its rows may come as CellRows."""

    first: int
    rows: list[list[str] | None]
    names: Columns | None
    plain: bool


def _runs(seg: Segment, b: int, e: int, header: _Header, headers: list[int]) -> list[_Run]:
    """Lines b..e-1 of a table as runs under one header each (a header row is a run of its own,
    read whole); `headers` are the segment's header rows, in order."""
    out = []
    start = b
    for h in [*(h for h in headers if b <= h < e), e]:
        if start < h:
            out.append(_Run(start, header.rows(seg.lines[start:h]), header.names, not header.heading_titles))
        if h < e:
            header.read(seg.lines[h].split(CELL_SEPARATOR))
            out.append(_Run(h, [None], header.names, False))
            start = h + 1
    return out


# What of a cell's findings decides the record of a row it is on, all but their values: per
# finding its detector, offsets in the cell, confidence, insurers, label, heading, registry, person,
# and for an insurer the text its label is read from (correlate.names_underwriter).
Form = tuple[tuple[object, ...], ...]


@dataclass
class TableForms:
    """The forms of one table's cells, numbered (0: a cell that holds nothing), and what correlate
    learns of rows of each shape (correlate.py keeps its plans here: they live as long as the table)."""

    forms: list[Form] = field(default_factory=lambda: [()])
    ids: dict[Form, int] = field(default_factory=lambda: {(): 0})
    plans: dict[object, object] = field(default_factory=dict)
    by_template: dict[int, int] = field(default_factory=dict)  # a column-form template's id → its form

    def form_id(self, found: tuple[Finding, ...], cell: str) -> int:
        if not found:
            return 0
        form = tuple(
            (
                f[0],
                f[4],
                f[5],
                f[6],
                f[7],
                f[8],
                f[9],
                f[10],
                f[11],
                label_window(cell, f[4]) if f[0] == _INSURER else None,
            )
            for f in found
        )
        fid = self.ids.get(form)
        if fid is None:
            fid = self.ids[form] = len(self.forms)
            self.forms.append(form)
        return fid


class CellRow(NamedTuple):
    """A labelled row read by cells, its findings not yet placed on the line: correlate makes the
    row's record from `key`, the shape of the row (its cells' forms), and the values in `found`,
    without a Finding per cell per row; `placed` gives the findings the row path gives."""

    cells: list[str]
    found: list[tuple[Finding, ...]]  # each cell's own findings, offsets in the cell
    key: tuple[int, ...]  # each cell's form in `table`
    table: TableForms

    def placed(self, si: int, li: int, line: str) -> list[Finding]:
        return _placed(self.found, self.cells, si, li, line)


class CellReader:
    """`read` is the line form of every detector (Detectors.chunk); this reads a table's labelled
    rows through it cell by cell. `memo_cells` and `batch_rows` change only the cost, never the
    findings (tests/test_cells.py holds them to that)."""

    def __init__(
        self,
        read: ReadChunk,
        memo_cells: int = MEMO_CELLS,
        batch_rows: int = BATCH_ROWS,
        digits: DigitColumn | None = None,
    ) -> None:
        self.read = read
        self.digits = digits  # the column form for cells of digits (detect/digit_column.py)
        self.memo_cells = memo_cells
        self.batch_rows = max(1, batch_rows)

    @overload
    def table(
        self,
        seg: Segment,
        si: int,
        deadline: float = ...,
        customers: Customers | None = ...,
        *,
        rows: Literal[False] = ...,
    ) -> Iterator[tuple[int, list[Finding] | None]]: ...

    @overload
    def table(
        self, seg: Segment, si: int, deadline: float = ..., customers: Customers | None = ..., *, rows: bool
    ) -> Iterator[tuple[int, list[Finding] | CellRow | None]]: ...

    def table(
        self,
        seg: Segment,
        si: int,
        deadline: float = float("inf"),
        customers: Customers | None = None,
        *,
        rows: bool = False,
    ) -> Iterator[tuple[int, list[Finding] | CellRow | None]]:
        """(line, findings) for every line of a table segment, in order; findings None for a line
        to be read whole: titles above the first header, header rows, rows with an unlabelled cell.
        With `customers`, the names that are not customers are left out of the rows read here.
        With `rows`, a labelled row that holds findings comes as a CellRow (no name split over two
        cells, not a roster's, no heading mark in its header's titles)."""
        memo: dict[str, tuple[Finding, ...]] = {}
        forms: dict[str, int] = {}  # (with `rows`) each memo cell's form in `shapes`
        shapes = TableForms()
        learnt = TableMemo()  # the column form's, for this table
        header = _Header()
        headers = sorted(seg.headers)
        rosters = customers.rosters if customers is not None else set()
        for b in range(0, len(seg.lines), self.batch_rows):
            runs = _runs(seg, b, min(b + self.batch_rows, len(seg.lines)), header, headers)
            if len(memo) > self.memo_cells:
                memo.clear()  # (before this batch's cells go in: every cell it needs is then there)
                forms.clear()
            labelled = (row for run in runs for row in run.rows if row is not None)
            new = [c for c in dict.fromkeys(chain.from_iterable(labelled)) if c not in memo]  # (distinct first, in C)
            self._read_new(new, memo, learnt, si, deadline, customers, forms if rows else None, shapes)
            for first, run_rows, split, plain in runs:
                as_cells = rows and plain and split is None
                for li, row in enumerate(run_rows, first):
                    if row is None:
                        yield li, None
                    elif as_cells and li not in rosters:
                        key = tuple(map(forms.__getitem__, row))
                        yield (
                            li,
                            (
                                _new_row(CellRow, (row, list(map(memo.__getitem__, row)), key, shapes))
                                if any(key)
                                else []
                            ),
                        )
                    else:
                        yield li, self._row(seg, si, li, row, memo, split, customers)

    @staticmethod
    def _row(
        seg: Segment,
        si: int,
        li: int,
        row: list[str],
        memo: dict[str, tuple[Finding, ...]],
        split: Columns | None,
        customers: Customers | None,
    ) -> list[Finding]:
        """A labelled row's findings placed on its line: a name split over two cells joined, and
        the names of a roster's rows or so joined tested on the row."""
        line = seg.lines[li]
        found = _placed(list(map(memo.__getitem__, row)), row, si, li, line)
        if split is not None:
            found = joined(found, row, split, si, li)
        if customers is not None and (split is not None or li in customers.rosters):
            roster = li in customers.rosters
            found = [f for f in found if f[0] != _NAME or customers.in_row(f, line, roster)]
        return found

    def _read_new(
        self,
        new: list[str],
        memo: dict[str, tuple[Finding, ...]],
        learnt: TableMemo,
        si: int,
        deadline: float,
        customers: Customers | None,
        forms: dict[str, int] | None,
        shapes: TableForms,
    ) -> None:
        """Each new cell's findings into the memo, without the names their own cell says are not
        customers, and with `forms` each one's form: cells of digits by the column form where it
        can (a template holds no name, and its cells share a form), the rest by the line form,
        chunk by chunk."""
        if self.digits is not None and new:
            if time.monotonic() > deadline:
                raise ScanTimeoutError("the scan ran past its deadline")
            new = self._read_digits(self.digits, new, memo, learnt, forms, shapes)
        for chunk in chunks(new):
            if time.monotonic() > deadline:  # (per chunk: a batch of 200-column rows is 200 chunks)
                raise ScanTimeoutError("the scan ran past its deadline")
            for k, line_found in enumerate(self.read(chunk, si)):
                memo[new[chunk.first + k]] = tuple(line_found)
        if customers is not None:
            _keep_customers(new, memo, customers)
        if forms is not None:
            for cell in new:
                forms[cell] = shapes.form_id(memo[cell], cell)

    @staticmethod
    def _read_digits(
        digits: DigitColumn,
        new: list[str],
        memo: dict[str, tuple[Finding, ...]],
        learnt: TableMemo,
        forms: dict[str, int] | None,
        shapes: TableForms,
    ) -> list[str]:
        """_read_new's cells of digits by the column form; returns the cells it leaves to the line form."""
        rest = []
        by_template = shapes.by_template
        for cell, found, token in zip(new, *digits.read_by_template(new, learnt), strict=True):
            if found is None or token is None:
                rest.append(cell)
                continue
            memo[cell] = found
            if forms is not None:
                fid = by_template.get(token)
                if fid is None:
                    fid = by_template[token] = shapes.form_id(found, cell)
                forms[cell] = fid
        return rest


_new_finding = _new_row = tuple.__new__  # a NamedTuple's own __new__ is a Python function: 0.4 µs more each


def _placed(per_cell: list[tuple[Finding, ...]], cells: list[str], si: int, li: int, line: str) -> list[Finding]:
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


_INSURER, _NAME = Detector.INSURER, Detector.NAME


def _keep_customers(cells: list[str], memo: dict[str, tuple[Finding, ...]], customers: Customers) -> None:
    """The memo's new cells without the names their own cell says are not customers."""
    for cell in cells:
        found = memo[cell]
        for f in found:
            if f[0] == _NAME:
                memo[cell] = tuple(g for g in found if g[0] != _NAME or customers.in_cell(g, cell))
                break
