"""XLSX/XLSM/XLSB/ODS and legacy XLS through python-calamine (Rust; about 20× faster than openpyxl
on the same file, measured in bench/extract_throughput.py): every sheet, hidden ones included;
each row one table line whose cells carry their column headers and cell references (Sheet1!B3)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import count, islice
from typing import Any

from python_calamine import CalamineWorkbook

from dlp_gateway.errors import EncryptedError
from dlp_gateway.extract.budget import Budget
from dlp_gateway.extract.package import sheet_tails
from dlp_gateway.extract.table import ColumnBatch, ColumnBatches, table_segment
from dlp_gateway.extract.table_lines import JOIN, CleanTexts, DigitTexts, JoinedTexts
from dlp_gateway.model import Segment, Unscannable

MAX_COLUMNS = 200  # wider rows are cut: a list of customers does not have 200 columns


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # policy numbers stored as numbers
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


Merges = dict[int, list[tuple[int, int]]]  # top row → [(last row, column)], 0-based and absolute


def _merges(sheet: Any) -> Merges:
    """Vertical merges by their top row: a merged 引受保険会社 cell holds its value in its top cell
    only, and labels every row beside it."""
    out: Merges = {}
    for (r0, c0), (r1, _c1) in getattr(sheet, "merged_cell_ranges", None) or ():
        if r1 > r0 and c0 < MAX_COLUMNS:
            out.setdefault(r0, []).append((r1, c0))
    return out


def _range_rows(sheet: Any) -> Iterator[list[Any]]:
    """The rows of the sheet's used range. python-calamine's iter_rows begins at the sheet's first
    row, not the range's: it first yields an empty row for each row above the range (to_python
    does not), which labelled a list that starts on row 3 from row 5."""
    rows: Iterator[list[Any]] = sheet.iter_rows()
    deque(islice(rows, (sheet.start or (0, 0))[0]), maxlen=0)  # (skipped once: not through a second iterator)
    return rows


def _rows(sheet: Any, budget: Budget) -> ColumnBatches | Iterator[tuple[list[str], tuple[str]]]:
    """Each row's cell texts (at most MAX_COLUMNS) and its row number as text; a vertically merged
    cell's value is repeated in every row it spans. Without merges, rows come from calamine a
    thousand at a time and are turned into text a column at a time (_column_texts)."""
    merges = _merges(sheet)
    if merges:
        return _merged_rows(sheet, budget, merges)
    return ColumnBatches(_column_batches(sheet, budget))


def _column_batches(sheet: Any, budget: Budget) -> Iterator[ColumnBatch]:
    rows = _range_rows(sheet)
    for first in count((sheet.start or (0, 0))[0] + 1, _BLOCK):
        block = list(islice(rows, _BLOCK))
        if not block:
            return
        budget.check()
        # (calamine's rows are all as wide as the sheet's range: strict, lest a change cut cells)
        columns = list(zip(*block, strict=True))[:MAX_COLUMNS]
        yield ColumnBatch(list(map(_column_texts, columns)), range(first, first + len(block)))


def _column_texts(column: tuple[Any, ...]) -> Sequence[str]:
    """cell_text of each cell of a column, in C for a column of one kind: text (as it is), whole
    numbers (policy numbers stored as numbers), dates."""
    if type(column[0]) is str:
        try:  # (a column of text only; the join that tells it is the one the table tests it by)
            return JoinedTexts(column, JOIN.join(column))
        except TypeError:
            pass
    try:  # (float.is_integer raises at the first cell that is no float: a date, a text, a bool)
        if all(map(float.is_integer, column)):
            # `%d` writes a whole float as str(int(…)) does, and one format of the column takes two
            # thirds of the time of a conversion and a str() per cell.
            text = "%d\n" * len(column) % column
            texts = text.split("\n")
            texts.pop()
            return CleanTexts(texts) if "-" in text else DigitTexts(texts)
    except TypeError:
        pass
    if set(map(type, column)) == {dt.date}:  # (a list's dates repeat: each written once)
        written = {day: day.isoformat() for day in dict.fromkeys(column)}
        return CleanTexts(map(written.__getitem__, column))
    return _cell_texts(column)


def _cell_texts(values: Sequence[Any]) -> list[str]:
    """cell_text of each value, text passed as it is."""
    return [v if type(v) is str else cell_text(v) for v in values]


_BLOCK = 1_000


def _merged_rows(sheet: Any, budget: Budget, merges: Merges) -> Iterator[tuple[list[str], tuple[str]]]:
    """_rows of a sheet with merged cells, one row at a time."""
    top, left = sheet.start or (0, 0)
    spanning: list[tuple[int, int, str]] = []  # (last row, column in the row, value) of merges above
    for r, values in enumerate(_range_rows(sheet), start=top):
        budget.check()
        cells = _cell_texts(values[:MAX_COLUMNS])
        if spanning:
            spanning = [m for m in spanning if m[0] >= r]
            for _last, c, value in spanning:
                if c < len(cells) and not cells[c]:
                    cells[c] = value
        for last, c in merges.get(r, ()):
            if 0 <= c - left < len(cells) and cells[c - left]:
                spanning.append((last, c - left, cells[c - left]))
        yield cells, (str(r + 1),)


def _open(data: bytes) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own types; encryption is told by the message
        if "encrypt" in str(exc).lower() or "password" in str(exc).lower():
            raise EncryptedError from exc
        raise


def _tails(location: str, data: bytes, budget: Budget) -> list[Segment | Unscannable]:
    try:
        return sheet_tails(location, data, budget)
    except zipfile.BadZipFile:
        return []  # (a legacy XLS, or not a package: calamine reads it or says why not)


def spreadsheet_segments(location: str, data: bytes, budget: Budget) -> list[Segment | Unscannable]:
    """Each sheet's name and rows, then what follows each worksheet's cells in an XLSX (its page
    header and footer: package.sheet_tails). calamine parses a sheet without holding the GIL, and
    zlib inflates without it too: the worksheets' parts are inflated for their page headers in a
    thread while calamine parses (measured in bench/extract_throughput.py). The parse stays on the
    scan's own thread: parsed in the other one, a large sheet's memory came from a second malloc
    arena, and a scan worker's peak resident size grew by 50 MB for a 156,000-row list."""
    pool = ThreadPoolExecutor(1, thread_name_prefix="sheet-tails")
    try:
        tails = pool.submit(_tails, location, data, budget)
        book = _open(data)
        out: list[Segment | Unscannable] = []
        for name in book.sheet_names:
            sheet = book.get_sheet_by_name(name)
            left = (sheet.start or (0, 0))[1]
            columns = [f"!{column_letter(left + c)}" for c in range(MAX_COLUMNS)]
            out.append(Segment(f"{location}!{name} (sheet name)", (name,), kind="header"))  # a tab the reader sees
            out.append(table_segment(f"{location}!{name}", _rows(sheet, budget), columns))
        return out + tails.result()
    finally:
        # A scan that ends early (out of time, a sheet that fails) still waits for the inflating
        # under way, bounded by the budget it checks: nothing of a scan outlives it.
        pool.shutdown(wait=True, cancel_futures=True)
