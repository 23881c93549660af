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
line numbers and offsets. The pipeline takes consecutive rows as CellRows (detect/row_shapes.py):
each cell's own findings and the row's shape, from which correlate makes records without a Finding
per cell per row (row_plans.py); placed on their lines they are the findings read row by row.
The one reading that needs two cells, a name split over 姓 and 名 columns, is detect/split_names.py.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, compress, filterfalse, islice, repeat
from operator import attrgetter, is_not, not_
from typing import Literal, NamedTuple, cast, overload

from dlp_gateway.detect.cell_columns import ColumnBlock, column_block, value_block
from dlp_gateway.detect.chunk import Chunk, chunks
from dlp_gateway.detect.digit_column import TableMemo
from dlp_gateway.detect.forms import ColumnForm
from dlp_gateway.detect.insurers import HEADING
from dlp_gateway.detect.row_shapes import CellRows, TableForms, placed
from dlp_gateway.detect.split_names import Columns, joined, name_columns
from dlp_gateway.errors import ScanTimeoutError
from dlp_gateway.extract.table_lines import TableLines
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

    def rows(self, lines: Sequence[str], known: Sequence[tuple[int, int]] = ()) -> list[list[str] | None]:
        """Each line's cells if it is read cell by cell under this header, else None. `known`:
        runs of the lines (start, end, in `lines`) that the table wrote labelled under this
        header (Segment.labelled), split without a test when no title holds a colon (the test
        is then the one match that such a line passes by construction)."""
        if self.titles is None:
            return [None] * len(lines)
        match = self.is_labelled
        if not known or any(":" in t for t in self.titles):
            return [line.split(CELL_SEPARATOR) if match(line) else None for line in lines]
        out: list[list[str] | None] = []
        at = 0
        for a, b in [*known, (len(lines), len(lines))]:
            out += [line.split(CELL_SEPARATOR) if match(line) else None for line in lines[at:a]]
            out += map(str.split, lines[a:b], repeat(CELL_SEPARATOR))
            at = b
        return out


class _Run(NamedTuple):
    """Lines of a batch under one header: the first, each one's cells (None: read whole), the
    header's name columns, and whether its rows may come as CellRows. `values`: the rows as each
    column's prefix and values instead, if the table kept them so (extract/table_lines.py); every
    row is then labelled, and `rows` is made from them only where asked for (cells)."""

    first: int
    rows: list[list[str] | None]
    names: Columns | None
    plain: bool
    values: tuple[list[str], list[Sequence[str]]] | None = None

    def size(self) -> int:
        """How many lines the run holds."""
        return len(self.rows) if self.values is None else len(self.values[1][0])

    def cells(self) -> list[list[str] | None]:
        """Each row's cells (every one `title:value` when the run is given as values)."""
        if self.values is None:
            return self.rows
        prefixes, columns = self.values
        return list(map(list, zip(*map(map, map(_PREFIXED, prefixes), columns), strict=True)))


_PREFIXED = attrgetter("__add__")


def _whole_block(run: _Run, rosters: set[int]) -> bool:
    """Whether a run's rows all come as one block of CellRows: every row labelled, none a
    roster's, no name split over two columns and no heading mark in the header's titles."""
    return (
        run.plain
        and run.names is None
        and (run.values is not None or None not in run.rows)
        and rosters.isdisjoint(range(run.first, run.first + run.size()))
    )


def _runs(seg: Segment, b: int, e: int, header: _Header, headers: list[int], ends: list[int]) -> list[_Run]:
    """Lines b..e-1 of a table as runs under one header each (a header row is a run of its own,
    read whole); `headers` are the segment's header rows, in order, and `ends` the ends of its
    labelled runs (Segment.labelled)."""
    out = []
    start = b
    for h in [*(h for h in headers if b <= h < e), e]:
        if start < h:
            known = []
            for a, z in islice(seg.labelled, bisect_right(ends, start), None):  # (the runs that end past start)
                if a >= h:
                    break
                known.append((max(a, start) - start, min(z, h) - start))
            values = _values(seg, start, h, known, header)
            rows = [] if values is not None else header.rows(seg.lines[start:h], known)
            out.append(_Run(start, rows, header.names, not header.heading_titles, values))
        if h < e:
            header.read(seg.lines[h].split(CELL_SEPARATOR))
            out.append(_Run(h, [None], header.names, False))
            start = h + 1
    return out


def _batches(seg: Segment, rows: int) -> Iterator[tuple[int, int]]:
    """The segment's lines in batches of `rows` at most, (start, end); cut where a block of the
    table kept as columns begins too, so that a batch takes a block's columns as they are."""
    cuts = set(range(0, len(seg.lines), rows))
    if isinstance(seg.lines, TableLines):
        cuts.update(seg.lines.block_starts())
    ordered = sorted(cuts)
    return zip(ordered, [*ordered[1:], len(seg.lines)], strict=True)


def _values(
    seg: Segment, start: int, end: int, known: list[tuple[int, int]], header: _Header
) -> tuple[list[str], list[Sequence[str]]] | None:
    """Lines start..end-1 as each column's prefix and values, if all of them are labelled under
    the header (`known`), no title holds a colon, and the table kept them as columns."""
    if known != [(0, end - start)] or not isinstance(seg.lines, TableLines) or header.titles is None:
        return None
    if any(":" in t for t in header.titles):
        return None
    return seg.lines.columns(start, end)


class CellReader:
    """`read` is the line form of every detector (Detectors.chunk); this reads a table's labelled
    rows through it cell by cell. `memo_cells` and `batch_rows` change only the cost, never the
    findings (tests/test_cells.py holds them to that)."""

    def __init__(
        self,
        read: ReadChunk,
        memo_cells: int = MEMO_CELLS,
        batch_rows: int = BATCH_ROWS,
        digits: ColumnForm | None = None,
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
    ) -> Iterator[tuple[int, list[Finding] | CellRows | None]]: ...

    def table(
        self,
        seg: Segment,
        si: int,
        deadline: float = float("inf"),
        customers: Customers | None = None,
        *,
        rows: bool = False,
    ) -> Iterator[tuple[int, list[Finding] | CellRows | None]]:
        """(line, findings) for every line of a table segment, in order; findings None for a line
        to be read whole: titles above the first header, header rows, rows with an unlabelled cell.
        With `customers`, the names that are not customers are left out of the rows read here.
        With `rows`, labelled rows that hold findings come together as CellRows at the first one's
        line (no name split over two cells, not a roster's, no heading mark in its header's
        titles), and labelled rows that hold none are left out."""
        memo: dict[str, tuple[Finding, ...]] = {}
        forms: dict[str, int] = {}  # (with `rows`) each memo cell's form in `shapes`
        shapes = TableForms()
        learnt = TableMemo()  # the column form's, for this table
        header = _Header()
        headers = sorted(seg.headers)
        ends = [z for _, z in seg.labelled]
        for b, e in _batches(seg, self.batch_rows):
            runs = _runs(seg, b, e, header, headers, ends)
            if len(memo) > self.memo_cells:
                memo.clear()  # (before this batch's cells go in: every cell it needs is then there)
                forms.clear()
            blocks = self._blocks(runs, learnt, shapes, customers) if rows else {}
            labelled = (row for k, run in enumerate(runs) if k not in blocks for row in run.cells() if row is not None)
            pool = chain(chain.from_iterable(labelled), *(block.memo_cells() for block in blocks.values()))
            new = list(filterfalse(memo.__contains__, dict.fromkeys(pool)))  # (distinct, in C)
            self._read_new(new, memo, learnt, si, deadline, customers, forms if rows else None, shapes)
            for k, run in enumerate(runs):
                if k in blocks:
                    yield from blocks[k].rows(memo, forms, shapes)
                else:
                    yield from self._run(seg, si, run, memo, forms, shapes, customers, rows)

    def _blocks(
        self, runs: list[_Run], learnt: TableMemo, shapes: TableForms, customers: Customers | None
    ) -> dict[int, ColumnBlock]:
        """The runs that _run would hand over whole as one block of CellRows and whose rows are
        equally wide, as columns (detect/cell_columns.py), by their place in `runs`."""
        rosters = customers.rosters if customers is not None else set()
        out = {}
        for k, run in enumerate(runs):
            if not _whole_block(run, rosters):
                continue
            if run.values is not None:
                out[k] = value_block(run.first, *run.values, self.digits, learnt, shapes)
                continue
            block = column_block(run.first, cast("list[list[str]]", run.rows), self.digits, learnt, shapes)
            if block is not None:
                out[k] = block
        return out

    def _run(
        self,
        seg: Segment,
        si: int,
        run: _Run,
        memo: dict[str, tuple[Finding, ...]],
        forms: dict[str, int],
        shapes: TableForms,
        customers: Customers | None,
        rows: bool,
    ) -> Iterator[tuple[int, list[Finding] | CellRows | None]]:
        """table's lines of one run, their cells' findings in the memo (and forms)."""
        first, _, split, plain, _ = run
        run_rows = run.cells()
        rosters = customers.rosters if customers is not None else set()
        as_cells = rows and plain and split is None
        if rows and _whole_block(run, rosters):
            yield from _block_at(first, cast("list[list[str]]", run_rows), memo, forms, shapes)  # (a list's rows)
            return
        pending: list[list[str]] = []  # consecutive rows for CellRows, from line `start`
        start = first
        for li, row in enumerate(run_rows, first):
            if as_cells and row is not None and li not in rosters:
                start = li if not pending else start
                pending.append(row)
                continue
            if pending:
                yield from _block_at(start, pending, memo, forms, shapes)
                pending = []
            yield li, None if row is None else self._row(seg, si, li, row, memo, split, customers)
        yield from _block_at(start, pending, memo, forms, shapes)

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
        found = placed(list(map(memo.__getitem__, row)), row, si, li, line)
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
        digits: ColumnForm,
        new: list[str],
        memo: dict[str, tuple[Finding, ...]],
        learnt: TableMemo,
        forms: dict[str, int] | None,
        shapes: TableForms,
    ) -> list[str]:
        """_read_new's cells of digits by the column form; returns the cells it leaves to the line form."""
        out, tokens = digits.read(new, learnt)
        read = list(map(is_not, tokens, repeat(None)))  # (a template read the cell: its findings are set)
        cells = list(compress(new, read))
        memo.update(zip(cells, cast("Iterator[tuple[Finding, ...]]", compress(out, read)), strict=True))
        if forms is not None:
            used = cast("list[int]", list(compress(tokens, read)))
            by_template = shapes.by_template
            for token, k in dict(zip(reversed(used), range(len(used) - 1, -1, -1), strict=True)).items():
                if token not in by_template:
                    by_template[token] = shapes.form_id(memo[cells[k]], cells[k])
            forms.update(zip(cells, map(by_template.__getitem__, used), strict=True))
        return list(compress(new, map(not_, read)))


def _block_at(
    first: int,
    rows: list[list[str]],
    memo: dict[str, tuple[Finding, ...]],
    forms: dict[str, int],
    shapes: TableForms,
) -> Iterator[tuple[int, CellRows]]:
    """Consecutive labelled rows from line `first` as CellRows at the first one's line, if any
    holds a finding: the rows' shapes, the rows that hold findings and their cells' findings
    picked in C."""
    keys = list(map(tuple, map(map, repeat(forms.__getitem__), rows)))
    held = list(map(any, keys))  # (a row that holds nothing is left out)
    if not any(held):
        return
    keys = list(compress(keys, held))
    found = list(map(list, map(map, repeat(memo.__getitem__), compress(rows, held))))
    sids = list(map(shapes.shape_ids.get, keys))
    if None in sids:
        sids = [shapes.shape_id(key) if sid is None else sid for sid, key in zip(sids, keys, strict=True)]
    lines = list(compress(range(first, first + len(rows)), held))
    yield lines[0], CellRows(lines, found, sids, shapes)  # type: ignore[arg-type]


_NAME = Detector.NAME


def _keep_customers(cells: list[str], memo: dict[str, tuple[Finding, ...]], customers: Customers) -> None:
    """The memo's new cells without the names their own cell says are not customers."""
    for cell in cells:
        found = memo[cell]
        for f in found:
            if f[0] == _NAME:
                memo[cell] = tuple(g for g in found if g[0] != _NAME or customers.in_cell(g, cell))
                break
