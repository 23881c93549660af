"""extract/spreadsheet.py hands a sheet's rows on a thousand at a time, and passes a block of text
cells as calamine gives it; held to the row-at-a-time reader (the one sheets with merged cells
take) over generated workbooks: numbers, dates, times, booleans, blanks, rows longer than
MAX_COLUMNS, a sheet that starts below and right of A1, and blocks of a few rows."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from dlp_gateway.extract import spreadsheet
from dlp_gateway.extract.budget import Budget, ExtractLimits

value = st.one_of(
    st.sampled_from(["8100000001", "山田 太郎", "", " 東京海上日動 ", "a\tb"]),
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


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(value, max_size=6), min_size=1, max_size=12), st.integers(0, 2), st.integers(1, 4))
def test_rows_in_blocks_are_the_rows_one_at_a_time(rows: list[list[object]], offset: int, block: int) -> None:
    sheet = _sheet(rows, offset)
    expected = list(spreadsheet._merged_rows(sheet, _budget(), {}))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spreadsheet, "_BLOCK", block)
        assert list(spreadsheet._rows(sheet, _budget())) == expected


def test_a_row_wider_than_max_columns_is_cut_in_blocks_too() -> None:
    sheet = _sheet([[f"c{i}" for i in range(spreadsheet.MAX_COLUMNS + 5)], ["x"]], 0)
    rows = list(spreadsheet._rows(sheet, _budget()))
    assert [len(cells) for cells, _ in rows] == [spreadsheet.MAX_COLUMNS, spreadsheet.MAX_COLUMNS]
    assert rows == list(spreadsheet._merged_rows(sheet, _budget(), {}))
