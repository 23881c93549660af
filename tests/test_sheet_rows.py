"""extract/spreadsheet.py hands a sheet's rows on a thousand at a time as columns, each turned into
text a column at a time; held to the row-at-a-time reader (the one sheets with merged cells take)
over generated workbooks: numbers, dates, times, booleans, blanks, rows longer than MAX_COLUMNS, a
sheet that starts below and right of A1, and blocks of a few rows. Where each cell lands (its row
label and column) is held to the coordinates openpyxl wrote it at."""

from __future__ import annotations

import datetime as dt
import io
import threading
import time

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from dlp_gateway.errors import ScanTimeoutError
from dlp_gateway.extract import spreadsheet
from dlp_gateway.extract.budget import Budget, ExtractLimits
from dlp_gateway.extract.table import ColumnBatches, table_segment

value = st.one_of(
    st.sampled_from(["8100000001", "山田 太郎", "", " 東京海上日動 ", "a\tb", "証券番号", "契約者名"]),
    st.none(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2040, 1, 1)),
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 1, 1)),
)


def _sheet(rows: list[list[object]], offset: int) -> object:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            ws.cell(row=r + 1 + offset, column=c + 1 + offset, value=v)  # type: ignore[call-overload]
    buf = io.BytesIO()
    wb.save(buf)
    book = CalamineWorkbook.from_filelike(io.BytesIO(buf.getvalue()))
    return book.get_sheet_by_name(book.sheet_names[0])


def _budget() -> Budget:
    return Budget(ExtractLimits())


def _flat(sheet: object) -> list[tuple[list[str], tuple[str]]]:
    """_rows as (cells, refs) rows, whichever way it hands them over."""
    rows = spreadsheet._rows(sheet, _budget())
    if isinstance(rows, ColumnBatches):
        return [(list(cells), ref) for batch in rows for cells, ref in batch.cell_rows()]  # type: ignore[misc]
    return list(rows)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(value, max_size=6), min_size=1, max_size=12), st.integers(0, 2), st.integers(1, 4))
def test_rows_in_blocks_are_the_rows_one_at_a_time(rows: list[list[object]], offset: int, block: int) -> None:
    sheet = _sheet(rows, offset)
    expected = list(spreadsheet._merged_rows(sheet, _budget(), {}))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spreadsheet, "_BLOCK", block)
        assert _flat(sheet) == expected
        # (and the table they make: columns handed over as they are, made text or tested clean)
        columns = [f"!{spreadsheet.column_letter(c)}" for c in range(spreadsheet.MAX_COLUMNS)]
        batches = spreadsheet._rows(sheet, _budget())
        assert table_segment("a", batches, columns, block) == table_segment("a", expected, columns, block)


def test_a_row_wider_than_max_columns_is_cut_in_blocks_too() -> None:
    sheet = _sheet([[f"c{i}" for i in range(spreadsheet.MAX_COLUMNS + 5)], ["x"]], 0)
    rows = _flat(sheet)
    assert [len(cells) for cells, _ in rows] == [spreadsheet.MAX_COLUMNS, spreadsheet.MAX_COLUMNS]
    assert rows == list(spreadsheet._merged_rows(sheet, _budget(), {}))


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.tuples(st.integers(1, 30), st.integers(1, 8)), st.sampled_from(["山田 太郎", "8100000001", "x"]), min_size=1
    ),
    st.booleans(),
)
def test_each_cell_is_read_at_the_place_openpyxl_wrote_it(cells: dict[tuple[int, int], str], merged: bool) -> None:
    # python-calamine's iter_rows yields an empty row for each row above the used range: the rows
    # were labelled from the range's first row all the same, one row down for each of those.
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for (r, c), v in cells.items():
        ws.cell(row=r, column=c, value=v)
    if merged:  # (the row-at-a-time reader)
        ws.merge_cells(start_row=40, start_column=1, end_row=41, end_column=1)
        ws.cell(row=40, column=1, value="m")
        ws.cell(row=42, column=2, value="x")  # (a row below the merge: the range takes it in)
        cells = {**cells, (40, 1): "m", (41, 1): "m", (42, 2): "x"}
    buf = io.BytesIO()
    wb.save(buf)
    book = CalamineWorkbook.from_filelike(io.BytesIO(buf.getvalue()))
    sheet = book.get_sheet_by_name(book.sheet_names[0])
    left = (sheet.start or (0, 0))[1]
    read = {(int(ref[0]), left + i + 1): text for row, ref in _flat(sheet) for i, text in enumerate(row) if text}
    assert read == cells


cell = st.one_of(
    st.sampled_from(["", "8100000001", "山田 太郎"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**15), 10**15).map(float),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.lists(cell, min_size=1), *(st.lists(c, min_size=1) for c in cell.branches)))
def test_a_column_is_the_text_of_each_cell(column: list[object]) -> None:
    # A column of one kind is turned into text in C; held to cell_text, one cell at a time.
    assert list(spreadsheet._column_texts(tuple(column))) == [spreadsheet.cell_text(v) for v in column]


def test_a_scan_that_ends_early_leaves_nothing_running() -> None:
    # Out of time while calamine reads: the error comes out, and the thread inflating the page
    # headers has ended with it (nothing of a scan outlives it in a scan worker).
    wb = openpyxl.Workbook()
    wb.create_sheet("二")
    buf = io.BytesIO()
    wb.save(buf)
    before = threading.active_count()
    started = threading.Event()
    real = spreadsheet._tails

    def slow_tails(*args: object) -> object:
        started.set()
        time.sleep(0.3)
        return real(*args)  # type: ignore[arg-type]

    def out_of_time(_data: bytes) -> object:
        assert started.wait(5)
        raise ScanTimeoutError("scan_timeout")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spreadsheet, "_tails", slow_tails)
        patch.setattr(spreadsheet, "_open", out_of_time)
        with pytest.raises(ScanTimeoutError):
            spreadsheet.spreadsheet_segments("a.xlsx", buf.getvalue(), _budget())
    assert threading.active_count() == before


def test_a_column_of_numbers_and_text_is_tested_clean() -> None:
    # A column of one kind made text by the reader is clean by construction; one of several kinds
    # is made text cell by cell and tested like any other (" 800 " is cleaned to "800").
    sheet = _sheet(
        [
            ["証券番号", "契約者名", "保険料"],
            [8100000001, "鈴木 一郎", 1000],
            [8100000002, "山田 太郎", 1200],
            [8100000003, "佐藤 花子", " 800 "],
        ],
        0,
    )
    columns = [f"!{spreadsheet.column_letter(c)}" for c in range(spreadsheet.MAX_COLUMNS)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spreadsheet, "_BLOCK", 2)  # (the last two rows: one block)
        made = table_segment("a", spreadsheet._rows(sheet, _budget()), columns)
    assert made == table_segment("a", spreadsheet._merged_rows(sheet, _budget(), {}), columns)
    assert made.lines[-1] == "証券番号:8100000003\t契約者名:佐藤 花子\t保険料:800"
    assert made.labelled == ((1, 4),)  # (the last block written as one)
