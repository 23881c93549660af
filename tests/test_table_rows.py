"""extract/table.py labels a row whose every cell is filled with one C-level join, and writes a
list's rows under its header as a block; held to the cell-by-cell labelling every other row gets,
and to the table written one row at a time, over generated rows: blank and white-space cells, rows
shorter and longer than their header, headers with blank titles, second headers, rows without a
number."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from itertools import compress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlp_gateway.detect.cells import _labelled, labelled_row
from dlp_gateway.extract import table
from dlp_gateway.extract.table import (
    ColumnBatch,
    ColumnBatches,
    _TableLines,
    labelled_by_cell,
    labelled_cells,
    table_segment,
)
from dlp_gateway.extract.table_lines import JOIN, DigitTexts
from dlp_gateway.invisible import has_invisible, strip_invisible

cell = st.sampled_from(["8100000001", "山田 太郎", "", "2025/04/01", "東京海上日動"])
title = st.sampled_from(["証券番号:", "契約者名:", "", "満期日:"])


@settings(max_examples=500, deadline=None)
@given(st.lists(cell, max_size=7), st.lists(title, max_size=7))
def test_a_full_row_is_labelled_as_cell_by_cell(values: list[str], prefixes: list[str]) -> None:
    kept = list(compress(range(len(values)), values))
    assert labelled_cells(values, kept, prefixes) == labelled_by_cell(values, kept, prefixes)


block_cell = st.sampled_from(
    [
        "8100000001",
        "山田 太郎",
        "山田　太郎",
        " 8100000002",
        "12000 ",
        "",
        "2025/04/01",
        "東京海上日動",
        "a\tb",
        "x  y",
        "山\u200b田 太郎",  # (an invisible character: extraction strips it from the lines)
        "\u200b",
        "a\u00a0b",  # (white space that is not printable, as \u3000 and \t)
        "行1\n行2",
        "x\x85",
    ]
)
header_row = st.lists(
    st.sampled_from(["証券番号", "契約者名", "満期日", "引受保険会社", "", "証券\u200b番号", "\u200b"]),
    min_size=2,
    max_size=5,
)


@st.composite
def sheet_rows(draw: st.DrawFn) -> list[list[str]]:
    """Rows as sheets hold them: a title, a header, rows mostly as wide as it, now and then one
    shorter, longer, blank or with an odd cell, and maybe a second header."""
    out: list[list[str]] = draw(st.lists(st.lists(block_cell, max_size=2), max_size=1))
    for _ in range(draw(st.integers(1, 2))):
        head = draw(header_row)
        out.append(head)
        for _ in range(draw(st.integers(0, 8))):
            width = len(head) + draw(st.sampled_from([0, 0, 0, -1, 1]))
            row = [f"81000000{draw(st.integers(0, 99)):02d}", *(draw(block_cell) for _ in range(width - 1))]
            out.append(row[: max(width, 0)])
    return out


@settings(max_examples=400, deadline=None)
@given(sheet_rows(), st.integers(1, 4), st.booleans())
def test_rows_written_as_blocks_make_the_table_written_row_by_row(
    rows: list[list[str]], block_rows: int, sheet: bool
) -> None:
    """Whatever the rows, a table written in blocks of a few rows is the table written one row
    at a time: its lines, refs, cells' columns and header rows."""
    columns = [f"!{chr(65 + c)}" for c in range(8)] if sheet else []
    refs = [(str(i + 1),) if sheet else (f":line {i + 1}",) for i in range(len(rows))]
    one_by_one = table_segment("l.xlsx", list(zip(rows, refs, strict=True)), columns, block_rows=len(rows) + 1)
    assert table_segment("l.xlsx", list(zip(rows, refs, strict=True)), columns, block_rows=block_rows) == one_by_one


def test_a_list_under_its_header_is_written_as_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The block path is taken for a list's rows after the first batch (which holds the header)."""
    one_by_one: list[Sequence[str]] = []
    row = _TableLines.row

    def counted(self: _TableLines, cells: Sequence[str], refs: Sequence[str]) -> None:
        one_by_one.append(cells)
        row(self, cells, refs)

    monkeypatch.setattr(_TableLines, "row", counted)
    rows = [["証券番号", "契約者名"], *[[f"81000000{i:02d}", "山田 太郎"] for i in range(20)]]
    refs = [(str(i + 1),) for i in range(len(rows))]
    seg = table_segment("l.xlsx", list(zip(rows, refs, strict=True)), ["!A", "!B"], block_rows=5)
    assert one_by_one == rows[:5]
    assert seg.lines[1] == "証券番号:8100000000\t契約者名:山田 太郎"
    assert seg.headers == {0} and len(seg.lines) == 21
    assert len({id(c) for c in seg.cells[1:]}) == 1  # (one tuple of columns for every full row)


@settings(max_examples=400, deadline=None)
@given(sheet_rows(), st.integers(1, 4))
def test_lines_marked_labelled_are_labelled_under_their_header(rows: list[list[str]], block_rows: int) -> None:
    """Segment.labelled, which detect/cells.py takes without a test, holds only lines whose every
    cell carries a title of the header above them (the test it skips), sorted and apart."""
    refs = [(str(i + 1),) for i in range(len(rows))]
    written = table_segment("l.xlsx", list(zip(rows, refs, strict=True)), ["!A"] * 8, block_rows=block_rows)
    # As extraction hands it on: invisible characters stripped from every line (dispatch.py).
    seg = dataclasses.replace(written, lines=tuple(map(strip_invisible, written.lines)))
    ends = [-1]
    for a, z in seg.labelled:
        assert ends[-1] < a < z
        ends.append(z)
        for li in range(a, z):
            header = max(h for h in seg.headers if h < li)
            titles = frozenset(seg.lines[header].split("\t"))
            assert _labelled(seg.lines[li].split("\t"), titles), seg.lines[li]
            assert labelled_row(titles)(seg.lines[li])


def test_rows_given_as_columns_without_a_cell_are_still_lines() -> None:
    given = ColumnBatches([ColumnBatch([], range(1, 3))])
    assert table_segment("a", given, ["!A"]).lines == table_segment("a", [([], ("1",)), ([], ("2",))], ["!A"]).lines
    assert len(table_segment("a", given, ["!A"]).lines) == 2


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.sampled_from(["東京海上日動", "損保ジャパン", "", " "]), st.text(max_size=4)), max_size=200)
)
def test_a_column_of_repeated_values_keeps_one_object_each(values: list[str]) -> None:
    """A block keeps a repeating column's values one object each, and what it learns of the column
    from its distinct values is what all its cells would tell (each cell tested, as the row path
    tests a row)."""
    # Each cell a string of its own, as a reader makes them.
    column = tuple("".join(list(v)) for v in values)
    kept, facts = table._kept(column)
    assert list(kept) == list(column)
    if len(set(column[:64])) <= 32:
        assert len({id(v) for v in kept}) == len(set(column))
    elif all(v.isdigit() and v.isascii() for v in column):  # (whole numbers written as text)
        assert type(kept) is DigitTexts
    else:
        assert kept is column
    if column:
        every = JOIN.join(column)
        assert facts.chars == sum(map(len, column))
        assert facts.invisible == has_invisible(every)
        assert facts.clean == ("" not in column and not table._unclean(every, every.isprintable(), JOIN))
        assert not facts.clean or all(table._clean(v) == v for v in column)


def test_a_column_of_numbers_written_as_text_is_tested_for_digits_once() -> None:
    """Whole numbers as text are kept as DigitTexts (detection does not test them again); a cell
    that is not digits, is empty or holds the joining character keeps the column as it is."""
    numbers = tuple(f"81{i:08d}" for i in range(100))
    kept, facts = table._kept(numbers)
    assert type(kept) is DigitTexts and list(kept) == list(numbers) and facts.clean
    assert facts.chars == sum(map(len, numbers)) and not facts.invisible
    for odd in ("1`2", "", "１２", "12a"):
        column = (*numbers[:50], odd, *numbers[50:])
        kept, _ = table._kept(column)
        assert type(kept) is not DigitTexts and list(kept) == list(column)
