"""correlate's column form (row_plans.py): a labelled row's record made from its shape must be the
record the row path makes from the row's placed findings. The oracle is that path: the same
detectors with rows placed on their lines (Detectors.lines without `rows`), over generated tables
with titles, headings, second headers, registered customers, rows of several names or insurers
and fields on lines near the rows."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from dlp_gateway import row_plans
from dlp_gateway.correlate import correlate_lines
from dlp_gateway.detect.cell_columns import column_block
from dlp_gateway.detect.detectors import finding_counts
from dlp_gateway.detect.digit_column import TableMemo, ValueCells
from dlp_gateway.detect.row_shapes import ByValue, CellRows, ColumnRows, TableForms
from dlp_gateway.extract.table import table_segment
from dlp_gateway.model import Segment
from tests.test_cells import DETECTORS, GEN, HEADERS, REGISTERED, TINY_MEMO, VALUES, table

# Title rows: plain, an insurer's list, and fields that join a record on a row nearby (correlate's
# _join_nearby), which sends the whole table back to the row path.
TITLES = [
    "満期一覧",
    "東京海上日動 満期一覧",
    "",
    "満期日：2025/04/01",
    "引受保険会社：損保ジャパン",
    "契約者名：佐藤 花子",
]
SHEETS = ["一覧", "東京海上日動", "損保ジャパン分", "Sheet1"]
row = st.lists(st.sampled_from(VALUES), min_size=1, max_size=6)
header = st.lists(st.sampled_from(HEADERS), min_size=2, max_size=6)


def _both(segments: tuple[Segment, ...]) -> tuple[object, object]:
    """(records from CellRows, records from placed rows); and the same CellRows with the memo
    starting again every three cells and two rows to a batch, which must change nothing."""
    placed = DETECTORS.lines(segments)
    by_rows = DETECTORS.lines(segments, rows=True)
    assert finding_counts(by_rows) == finding_counts(placed)
    got = correlate_lines(segments, by_rows, GEN.registry)
    assert correlate_lines(segments, TINY_MEMO.lines(segments, rows=True), GEN.registry) == got
    return got, correlate_lines(segments, placed, GEN.registry)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(TITLES), max_size=2),
    header,
    st.lists(row, max_size=14),
    st.one_of(st.none(), header),
    st.sampled_from(SHEETS),
)
def test_planned_rows_make_the_records_of_the_row_path(
    title: list[str], head: list[str], rows: list[list[str]], again: list[str] | None, sheet: str
) -> None:
    seg = table(title, head, rows, again)
    segments = (
        Segment("list.csv (sheet name)", (sheet,), kind="header"),
        dataclasses.replace(seg, location="list.csv"),
    )
    got, expected = _both(segments)
    assert got == expected


# Lists as agencies keep them: each column's cells of its kind, some columns twice, in any order.
POOLS = {
    "証券番号": ["8100000001", "8123-456789", "８１２３４５６７８９", "31000000001", "MS1234567", *REGISTERED],
    "契約者名": ["山田 太郎", "佐藤 花子 様", "鈴木 一郎", "高橋 美咲", *VALUES[:10]],
    "被保険者名": ["山田 花子", "佐藤 一郎", "ヤマダ タロウ"],
    "満期日": ["2025/04/01", "令和7年4月1日", "2025-05-31", "20250401"],
    "始期日": ["2024/04/01", "令和6年4月1日"],
    "引受保険会社": ["東京海上日動", "損保ジャパン", "三井住友海上", "TMN", "前は東京海上"],
    "前契約保険会社": ["東京海上日動", "あいおいニッセイ同和"],
    "備考": ["東京海上から切替", "損保ジャパン", "", "至急"],
    "担当者": ["田中 誠", "伊藤 直子"],
    "保険料": ["12000", "12,000円", "3500"],
}
list_header = st.lists(st.sampled_from(sorted(POOLS)), min_size=2, max_size=6, unique=True).filter(
    lambda h: "証券番号" in h
)


@st.composite
def kept_list(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    head = draw(list_header)
    rows = draw(
        st.lists(
            st.tuples(*[st.one_of(st.sampled_from(POOLS[t]), st.sampled_from(VALUES)) for t in head]).map(list),
            max_size=12,
        )
    )
    return head, rows


@settings(max_examples=400, deadline=None)
@given(kept_list(), st.lists(st.sampled_from(TITLES), max_size=1), st.sampled_from(SHEETS))
def test_planned_rows_of_kept_lists_make_the_records_of_the_row_path(
    kept: tuple[list[str], list[list[str]]], title: list[str], sheet: str
) -> None:
    head, rows = kept
    seg = table(title, head, rows)
    segments = (
        Segment("list.csv (sheet name)", (sheet,), kind="header"),
        dataclasses.replace(seg, location="list.csv"),
    )
    got, expected = _both(segments)
    assert got == expected


# Columns of digits as lists hold them: policy numbers of each insurer, registered ones, amounts,
# dates written as eight digits, numbers too short or too long; now and then a cell that is not
# digits, which sends its column back to the memo.
DIGITS = [
    "8100000001",
    "8100000002",
    "31000000001",
    "12000",
    "20250401",
    "0312345678",
    "1234",
    "81000000011",
    *[n for n in REGISTERED if n.isdigit()],
]


@st.composite
def full_list(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    """A list whose every row fills every column (read a column at a time: detect/cell_columns.py)."""
    head = draw(list_header)
    pools = [DIGITS if draw(st.booleans()) or t in ("証券番号", "保険料") else [v for v in POOLS[t] if v] for t in head]
    cell = st.one_of(st.sampled_from(DIGITS), st.sampled_from([v for v in VALUES if v]))
    rows = draw(
        st.lists(
            st.tuples(*[st.sampled_from(pool) | (cell if draw(st.booleans()) else st.nothing()) for pool in pools]),
            min_size=1,
            max_size=14,
        )
    )
    return head, [list(r) for r in rows]


@settings(max_examples=300, deadline=None)
@given(full_list(), st.lists(st.sampled_from(TITLES), max_size=1))
def test_full_lists_read_a_column_at_a_time_make_the_records_of_the_row_path(
    kept: tuple[list[str], list[list[str]]], title: list[str]
) -> None:
    head, rows = kept
    segments = (table(title, head, rows),)
    got, expected = _both(segments)
    assert got == expected


def test_a_column_of_numbers_is_read_by_the_column_form() -> None:
    """The policy numbers and the amounts of a full list never enter the memo: the column form
    reads them straight into the rows (each cell read, none left to the line form)."""
    rows = [[f"8100000{i:03d}", "山田 太郎", f"{12000 + i}"] for i in range(50)]
    cells = [[f"{t}:{v}" for t, v in zip(["証券番号", "契約者名", "保険料"], r, strict=True)] for r in rows]
    block = column_block(1, cells, DETECTORS.cells.digits, TableMemo(), TableForms())
    assert block is not None
    assert [f is not None for f in block.found] == [True, False, True]
    assert list(block.memo_cells()) == [c[1] for c in cells]
    numbers = block.found[0]
    assert numbers is not None and [found[0].value for found in numbers] == [r[0] for r in rows]
    assert column_block(1, [cells[0], cells[1][:2]], DETECTORS.cells.digits, TableMemo(), TableForms()) is None


LIST_HEAD = ["証券番号", "契約者名", "満期日", "引受保険会社", "保険料"]


def _list_rows(n: int) -> list[list[str]]:
    insurers = ["東京海上日動", "損保ジャパン", "三井住友海上"]
    return [
        [f"81000{i:05d}", f"山田 {'太郎花子一郎'[i % 3]}", f"2025/04/{i % 28 + 1:02d}", insurers[i % 3], f"{12000 + i}"]
        for i in range(n)
    ]


def test_a_list_is_planned_once_per_shape_and_agrees() -> None:
    """A plain list: its rows come as CellRows, each shape with a plan (the path is taken, not
    skipped), a handful of shapes for many rows, and the records of the row path."""
    seg = table(["満期一覧"], LIST_HEAD, _list_rows(60))
    segments = (seg,)
    (block,) = [found for _, _, found in DETECTORS.lines(segments, rows=True)]
    assert isinstance(block, CellRows) and len(block.lines) == 60
    assert len(set(block.shapes)) <= 3  # (one shape per insurer at most)
    assert all(row_plans.plan_for(block.table, shape, None) is not None for shape in block.shapes)
    assert row_plans.block_records(block, None, seg, GEN.registry) is not None
    got, expected = _both(segments)
    assert got == expected and len(got) == 60  # type: ignore[arg-type]


def test_names_on_both_sides_of_the_number_take_the_row_path() -> None:
    """Which name is nearest then depends on the cells' lengths: no plan, and the row path decides."""
    head = ["契約者名", "証券番号", "被保険者名"]
    rows = [["山田 太郎", "8100000001", "佐藤 花子"], ["鈴木 一郎様方 山田 太郎", "8100000002", "佐藤 花子"]]
    segments = (table([], head, rows),)
    (block,) = [f for _, _, f in DETECTORS.lines(segments, rows=True)]
    assert isinstance(block, CellRows)
    assert all(row_plans.plan_for(block.table, shape, None) is None for shape in block.shapes)
    got, expected = _both(segments)
    assert got == expected


def test_a_field_near_a_planned_row_joins_its_record() -> None:
    """A title line 「満期日：…」 right above the list gives the first row its expiry: the table is
    read the row path's way, the date joins as it did."""
    head = ["証券番号", "契約者名", "引受保険会社"]
    segments = (table(["満期日：2025/04/01"], head, [["8100000001", "山田 太郎", "東京海上日動"]]),)
    got, expected = _both(segments)
    assert got == expected
    assert got[0].expiry == "2025-04-01"  # type: ignore[index]


def test_a_header_of_heading_marks_below_does_not_change_the_rows_above_it() -> None:
    """A second header whose titles begin with ■ makes its rows begin with a heading's mark: they
    take the row path; the rows under the first header, in the same batch, are still CellRows."""
    rows = [
        ["証券番号", "契約者名", "引受保険会社"],
        ["8100000001", "山田 太郎", "東京海上日動"],
        ["■証券番号", "■契約者名", "■引受保険会社"],
        ["8100000002", "佐藤 花子", "損保ジャパン"],
    ]
    seg = table_segment("list.csv", [(r, (f":line {i + 1}",)) for i, r in enumerate(rows)])
    assert seg.headers == {0, 2}
    kinds = {li: type(found) for _, li, found in DETECTORS.lines((seg,), rows=True)}
    assert kinds == {1: CellRows, 3: list}
    got, expected = _both((seg,))
    assert got == expected and len(got) == 2  # type: ignore[arg-type]


SHEET_VALUES = st.sampled_from(["8100000001", "山田 太郎", "東京海上日動", "", "x", "2025/04/01"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(SHEET_VALUES, min_size=1, max_size=5), min_size=1, max_size=12), st.integers(0, 6))
def test_the_locations_of_many_rows_are_each_rows_location(rows: list[list[str]], at: int) -> None:
    """Segment.where_cells (a column of a sheet's rows at once) gives what where_cell gives each row."""
    columns = [f"!{chr(65 + c)}" for c in range(8)]
    for seg in (
        table_segment("b.xlsx!一覧", [(r, (str(i + 3),)) for i, r in enumerate(rows)], columns),
        table_segment("l.csv", [(r, (f":line {i + 1}",)) for i, r in enumerate(rows)]),
    ):
        lines = [li for li, line in enumerate(seg.lines) if line]
        assert seg.where_cells(lines, at) == [seg.where_cell(li, at) for li in lines]
        for a, b in ((0, len(seg.lines)), (1, len(seg.lines) + 2)):  # (a block's lines: a range)
            assert seg.where_cells(range(a, b), at) == [seg.where_cell(li, at) for li in range(a, b)]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["8100000001", "8100000002", "31000000001"]), min_size=1, max_size=8), st.data())
def test_cells_and_rows_kept_as_columns_are_the_lists_they_stand_for(values: list[str], data: st.DataObject) -> None:
    """ValueCells and ColumnRows (a column of policy numbers and rows kept as columns, made when
    asked for) give by index, slice and iteration what the lists of findings would."""
    found = DETECTORS.line(f"証券番号:{values[0]}", 0, 0)[0]
    cells = ValueCells(found, values)
    as_list = [(found._replace(value=v),) for v in values]
    assert list(cells) == as_list and len(cells) == len(as_list)
    i = data.draw(st.integers(0, len(values) - 1))
    a, b = data.draw(st.integers(0, len(values))), data.draw(st.integers(0, len(values)))
    assert cells[i] == as_list[i] and cells[a:b] == as_list[a:b]
    other = [() for _ in values]
    distinct = list(dict.fromkeys(values))  # (each number's row names its own customer)
    names = ("山田 太郎", "佐藤 花子", "鈴木 一郎")[: len(distinct)]
    found_by = {v: tuple(DETECTORS.line(f"契約者名:{n}", 0, 0)) for v, n in zip(distinct, names, strict=True)}
    by_value = ByValue(values, found_by)
    named_list = [found_by[v] for v in values]
    assert list(by_value) == named_list and by_value[i] == named_list[i] and by_value[a:b] == named_list[a:b]
    rows = ColumnRows([cells, other, by_value])
    as_rows = list(zip(as_list, other, named_list, strict=True))
    assert list(rows) == as_rows and len(rows) == len(as_rows)
    assert rows[i] == as_rows[i] and rows[a:b] == as_rows[a:b]
    picked = data.draw(st.lists(st.integers(0, len(values) - 1), max_size=10))
    assert list(rows.picked(picked)) == [as_rows[r] for r in picked]
    assert all(type(c) is type(p) for c, p in zip(rows.columns, rows.picked(picked).columns, strict=True))
