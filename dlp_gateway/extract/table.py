"""Rows of cells → table lines in which each cell carries its column header.

`証券番号:8100000001	契約者名:山田 太郎	引受保険会社:東京海上日動` lets the ordinary line
detectors see a row's policy number, name and insurer together, with the header as the label.
The header row is found wherever it sits (titles above it are normal in Excel lists), and a
later header-like row starts a new table. A header row is a row of column titles: two short cells
at least that detect/labels.py classifies, and no 4-digit number. Its lines are marked in the
segment (`Segment.headers`): a header cell is never a value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import compress, islice, repeat
from operator import add, itemgetter
from typing import NamedTuple

import regex

from dlp_gateway.detect.labels import classify
from dlp_gateway.extract.table_lines import JOIN, CleanTexts, DigitTexts, JoinedTexts, TableLines, digits_only
from dlp_gateway.invisible import has_invisible
from dlp_gateway.line_refs import LineRefs
from dlp_gateway.model import CELL_SEPARATOR, Segment

# Column titles the label classes do not cover but lists carry (a product, an address column).
# A name split over two columns is titled by its halves: 姓 and 名, 氏 and 名, 契約者氏名（姓）.
_OTHER_TITLES = regex.compile(
    r"種目|保険種類|商品|住所|性別|年齢|続柄|区分|種別|状況|状態|等級|用途|車名|地域|No\.?$"
    r"|^(?:姓|名|氏|苗字|名字)$|[（(](?:姓|名)[）)]$|(?:者|客)(?:姓|名)$"
)
_DIGITS = regex.compile(r"\d{4}")
SEP = CELL_SEPARATOR


# A cell that holds a value: `label：value`, or a name with its honorific.
_VALUE_CELL = regex.compile(r"[:：]|(?:様|さん|殿)$")


def is_header_row(filled: Sequence[str]) -> bool:
    """Whether a row's filled cells are column titles: no 4-digit number, no cell that holds a
    value, and _header_words."""
    return not any(_DIGITS.search(c) or _VALUE_CELL.search(c) for c in filled) and _header_words(filled)


def _header_words(filled: Sequence[str]) -> bool:
    """Whether the filled cells of a row without a 4-digit number name columns: two cells at least,
    all short, and two of them header words."""
    return (
        len(filled) >= 2
        and all(len(c) <= 24 for c in filled)
        and sum(1 for c in filled if classify(c) is not None or _OTHER_TITLES.search(c)) >= 2
    )


# What _clean changes: white space other than a space, two spaces, a space at either end of a cell.
_OTHER_SPACE = re.compile(r"[^\S ]")


def _unclean(text: str, printable: bool = False, sep: str = "\x00") -> bool:
    """Whether cells joined by `sep` need _clean. Substring tests and a class search: one pattern
    with the alternatives took 2 µs a row, as long as all the rest of the table building. With
    `printable` (the cells' text is all printable, a printable `sep` with it) the search is not
    needed: white space but the ASCII space is not printable, and str.isprintable tells that
    faster. A cell that holds `sep` beside a space only costs the fast path."""
    return (
        "  " in text
        or f" {sep}" in text
        or f"{sep} " in text
        or text[:1] == " "
        or text[-1:] == " "
        or (not printable and _OTHER_SPACE.search(text) is not None)
    )


class _Column(NamedTuple):
    """What block_columns learns of a column from its cells joined once."""

    clean: bool  # every cell filled and needing no _clean
    chars: int  # the characters of its cells
    invisible: bool  # a cell holds a character invisible.py removes


def _kept(column: Sequence[str]) -> tuple[Sequence[str], _Column]:
    """The column as a block keeps it, and its _Column from its cells joined once (text that is not
    all printable, a zero-width space in it, is searched). A column whose first cells repeat (an
    insurer, a product, a branch) is kept with each value one object however often it repeats: a
    reader makes a new string for every cell, and a list's block keeps its columns
    (extract/table_lines.py), 20 MB of a 130,000-row list's scan. Its distinct values are what
    is tested then. A column of distinct values (numbers, names) is kept as it is."""
    if isinstance(column, CleanTexts):  # (DigitTexts too)
        return column, _Column(True, len("".join(column)), False)  # (digits and dates: ASCII)
    text = column.joined if type(column) is JoinedTexts else JOIN.join(column)
    chars = len(text) - len(column) + 1
    kept: Sequence[str]
    tested: Sequence[str]
    if len(set(column[:64])) <= 32:
        # Each cell kept as its value's first cell, in one pass in C; and the values met are the
        # distinct ones. (The objects go when the block's column does.)
        first: dict[str, str] = {}
        kept = list(map(first.setdefault, column, column))
        tested = list(first)
        text = JOIN.join(tested)
    elif (
        text.isascii() and "" not in column and text.count(JOIN) == len(column) - 1 and text.replace(JOIN, "").isdigit()
    ):
        # (whole numbers written as text, none empty: a DigitTexts, which neither the table nor the
        # column form of detection tests for digits again; no cell holds the joining character)
        return DigitTexts(column), _Column(True, chars, False)
    else:
        kept = list(column) if type(column) is JoinedTexts else column  # (the block keeps no join)
        tested = column
    clean = "" not in tested and not _unclean(text, text.isprintable(), JOIN)
    return kept, _Column(clean, chars, has_invisible(text))


def _numbered(columns: Sequence[Sequence[str]]) -> bool:
    """Whether every row of the columns holds a 4-digit number (so none is a header row): settled
    in C by a column of ASCII digits, four at least in each cell, if there is one; else each row
    is searched."""
    for column in columns:
        if digits_only(column) and min(map(len, column)) >= 4:
            return True
    return all(map(_DIGITS.search, map("\x00".join, zip(*columns, strict=True))))


def _clean(value: str) -> str:
    """One line, single ASCII spaces (an ideographic space too: 山田　太郎 → 山田 太郎)."""
    return " ".join(value.split())


def _clean_row(cells: Sequence[str], text: str | None = None) -> Sequence[str]:
    """The cells cleaned; `text` is the cells joined by NULs, if already made. One search over the
    row: most rows of a list need no cleaning at all."""
    return [_clean(c) for c in cells] if _unclean("\x00".join(cells) if text is None else text) else cells


def labelled_cells(values: Sequence[str], kept: Sequence[int], prefixes: Sequence[str]) -> list[str]:
    """The row's filled cells (`kept`), each with its header prefix (`title:`) if it has one."""
    if len(kept) == len(values) <= len(prefixes):
        return list(map(add, prefixes, values))  # (a list's row: every cell filled, joined in C)
    return labelled_by_cell(values, kept, prefixes)


def labelled_by_cell(values: Sequence[str], kept: Sequence[int], prefixes: Sequence[str]) -> list[str]:
    """labelled_cells for any row, one cell at a time."""
    return [prefixes[i] + values[i] if i < len(prefixes) else values[i] for i in kept]


BLOCK_ROWS = 1_000  # rows taken together when they may be written as a block (_TableLines.block)

Rows = Iterable[tuple[Sequence[str], Sequence[str]]]


@dataclass(frozen=True)
class ColumnBatch:
    """Rows given as columns (a sheet's, as calamine's rows are turned into text a column at a
    time): row i is (cells[c][i] for each column c), sheet row rows[i] (labelled by its number)."""

    cells: list[Sequence[str]]
    rows: range

    def cell_rows(self) -> Rows:
        refs = [(str(r),) for r in self.rows]
        if not self.cells:  # (rows without a cell are rows all the same: each an empty line)
            return (([], ref) for ref in refs)
        return zip(map(list, zip(*self.cells, strict=True)), refs, strict=True)


class ColumnBatches:
    """A table's rows as ColumnBatches, made as table_segment takes them."""

    def __init__(self, batches: Iterable[ColumnBatch]) -> None:
        self.batches = batches

    def __iter__(self) -> Iterator[ColumnBatch]:
        return iter(self.batches)


def table_segment(
    location: str,
    rows: Rows | ColumnBatches,
    columns: Sequence[str] = (),
    block_rows: int = BLOCK_ROWS,
) -> Segment:
    """`rows` yields (cells, refs): cell texts and each cell's location suffix (e.g. "!B3"), or one
    suffix for the whole row (":line 7"); or it is ColumnBatches, the same rows as columns. With
    `columns` (a sheet's "!A", "!B", …), refs is the row's label alone ("3"): a cell's suffix
    ("!B3") is put together only for a record's cell (Segment.where); making one for every cell
    took a third of a spreadsheet's reading time. Rows come `block_rows` at a time (or a batch at
    a time): a list's rows under its header are written together in C (_TableLines.block), any
    others one by one (_TableLines.row); the lines are the same."""
    table = _TableLines(bool(columns))
    if isinstance(rows, ColumnBatches):
        for given in rows:
            if not table.block_columns(given.cells, given.rows):
                for cells, cell_refs in given.cell_rows():
                    table.row(cells, cell_refs)
    else:
        batches = iter(rows)
        while batch := list(islice(batches, block_rows)):
            if not table.block(batch):
                for cells, cell_refs in batch:
                    table.row(cells, cell_refs)
    return Segment(
        location,
        table.lines,
        "table",
        table.refs,
        tuple(columns),
        tuple(table.cells_of) if columns else (),
        frozenset(table.headers),
        tuple(map(tuple, table.labelled)),  # type: ignore[arg-type]  # (pairs)
    )


class _TableLines:
    """A table's lines as they are written, with the header they are under."""

    def __init__(self, columns: bool) -> None:
        self.columns = columns  # (a sheet's: each line's cells' columns are kept)
        self.lines = TableLines()  # (a block of a list's rows kept as its columns)
        self.refs = LineRefs()  # (a block of a sheet's rows kept as their row numbers)
        self.cells_of: list[tuple[int, ...]] = []  # with `columns`: the column of each cell written
        # Each header with an ASCII colon: a full-width one is not NFKC-stable, and every detector
        # would pay for normalising each row.
        self.prefixes: list[str] = []
        self.headers: set[int] = set()
        self.every: dict[int, tuple[int, ...]] = {}  # a full row's `kept`, one tuple per width
        self.labelled: list[list[int]] = []  # runs of lines [start, end) labelled by construction

    def _labelled(self, width: int, count: int) -> None:
        """The last `count` lines written are full rows of `width` cells under the header: labelled by
        construction if no title they take is blank."""
        if width > len(self.prefixes) or "" in self.prefixes[:width]:
            return
        start = len(self.lines) - count
        if self.labelled and self.labelled[-1][1] == start:
            self.labelled[-1][1] += count
        else:
            self.labelled.append([start, start + count])

    def _every(self, width: int) -> tuple[int, ...]:
        kept = self.every.get(width)
        if kept is None:
            kept = self.every[width] = tuple(range(width))
        return kept

    def block(self, batch: list[tuple[Sequence[str], Sequence[str]]]) -> bool:
        """Write the rows together if `row` would write each of them as a labelled full row under
        the current header: as wide as each other and no wider than the header, every cell filled,
        nothing to clean, a 4-digit number in each (so none is a header). False, writing nothing,
        if not."""
        if not self.prefixes:
            return False
        cells = [c for c, _ in batch]
        if len(set(map(len, cells))) != 1:
            return False
        return self.block_columns(list(zip(*cells, strict=True)), list(map(_REFS, batch)))

    def block_columns(self, columns: Sequence[Sequence[str]], refs: Sequence[Sequence[str]] | range) -> bool:
        """block for rows given as columns, each as long as `refs` (the rows' refs, or for a
        sheet's rows the range of their row numbers)."""
        if not self.prefixes or not 0 < (width := len(columns)) <= len(self.prefixes):
            return False
        # A column at a time, its cells joined once (_kept): a column of one script joins
        # without widening, where the whole row's mix of ASCII and kanji would widen every number.
        kept = list(map(_kept, columns))
        facts = [f for _, f in kept]
        columns = [c for c, _ in kept]
        if not all(f.clean for f in facts) or not _numbered(columns):
            return False
        # Each line `title:value<TAB>…`, written when it is asked for (extract/table_lines.py).
        chars, invisible = sum(f.chars for f in facts), any(f.invisible for f in facts)
        self.lines.extend_columns(self.prefixes[:width], columns, chars, invisible)
        self._labelled(width, len(refs))
        if type(refs) is range:
            self.refs.extend_rows(refs)
        elif self.columns:
            self.refs.extend(map(tuple, refs))
        else:
            self.refs.extend(
                tuple(r) if len(r) <= 1 else tuple(r[i] if i < len(r) else "" for i in range(width)) for r in refs
            )
        if self.columns:
            self.cells_of += repeat(self._every(width), len(refs))
        return True

    def row(self, cells: Sequence[str], cell_refs: Sequence[str]) -> None:
        """Write one row."""
        lines, refs, cells_of = self.lines, self.refs, self.cells_of
        full = False  # (a full row under the header: maybe labelled by construction)
        text = "\x00".join(cells)
        values = _clean_row(cells, text)
        if "" not in values:  # (a list's row: every cell filled)
            kept: Sequence[int] = self._every(len(values))
            parts = list(values)
        else:
            kept = list(compress(range(len(values)), values))  # the filled cells, in C
            parts = list(compress(values, values))
        if not kept:
            lines.append("")
            refs.append((cell_refs[0] if cell_refs else "",))
            cells_of.append((0,))  # an empty row is told by its first cell
            return
        # Most rows of a list hold a number, and one search over the row settles them: not a header.
        # Cleaning changes white space only, so it runs on the text already joined.
        if not _DIGITS.search(text) and is_header_row(parts):
            self.prefixes = [f"{h}:" if h else "" for h in values]
            self.headers.add(len(lines))
        elif self.prefixes:
            parts = labelled_cells(values, kept, self.prefixes)
            full = type(kept) is tuple
        lines.append(SEP.join(parts))
        if full:
            self._labelled(len(kept), 1)
        if self.columns:
            refs.append(tuple(cell_refs))
            cells_of.append(kept if type(kept) is tuple else tuple(kept))
        elif len(cell_refs) > 1:
            refs.append(tuple([cell_refs[i] if i < len(cell_refs) else "" for i in kept]))
        else:
            refs.append(tuple(cell_refs))


_REFS = itemgetter(1)
