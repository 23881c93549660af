"""The column path (detect/cells.py): a table's rows under its header are read cell by cell, each
distinct cell once. Held to two oracles over generated tables — the line form of the detectors run
on each cell alone, and the same reader with no memo and one row at a time — and to the report
the pipeline gives; and the cross-cell readings the row path made are gone."""

from __future__ import annotations

import csv
import dataclasses
import io
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.evalset import Generator
from dlp_gateway.detect.cells import CellReader, _labelled, labelled_row
from dlp_gateway.detect.detectors import Detectors, roster_lines
from dlp_gateway.detect.split_names import name_columns
from dlp_gateway.errors import ScanTimeoutError
from dlp_gateway.extract.table import table_segment
from dlp_gateway.model import Detector, Envelope, Segment
from dlp_gateway.pipeline import Pipeline
from tests.cell_oracle import by_cells, labelled_rows
from tests.fixtures import multipart
from tests.helpers import HEAD_OFFICE, SOMPO, example_config

GEN = Generator(seed=11)
CUSTOMERS = [GEN.customer() for _ in range(10)]  # about half of them in the registry
DETECTORS = Detectors(example_config(), GEN.registry)
# The same detectors with the memo off and one row per batch: what reading row by row gives.
UNCACHED = Detectors(example_config(), GEN.registry)
UNCACHED.cells = CellReader(UNCACHED.chunk, memo_cells=0, batch_rows=1)
TINY_MEMO = Detectors(example_config(), GEN.registry)
TINY_MEMO.cells = CellReader(TINY_MEMO.chunk, memo_cells=3, batch_rows=2)

HEADERS = [
    "証券番号",
    "契約者名",
    "氏名",
    "地域",
    "満期日",
    "日付",
    "引受保険会社",
    "備考",
    "保険料",
    "電話",
    "フリガナ",
    "",
]
REGISTERED = [c.name for c in CUSTOMERS] + [c.number for c in CUSTOMERS]
VALUES = [
    *REGISTERED,
    "8100000001",
    "8123-456789",
    "８１２３４５６７８９",
    "31000000001",
    "MS1234567",
    "A123456789",
    "山田 太郎",
    "佐藤 花子 様",
    "ヤマダ タロウ",
    "渋谷区",
    "2025/04/01",
    "令和7年4月1日",
    "東京海上日動",
    "損保ジャパン",
    "TMN",
    "【東京海上】",
    "■損保ジャパン 分",
    "03-1234-5678",
    "12,000円",
    "20250401",
    "氏",
    "様",
    "日",
    "",
]
row = st.lists(st.sampled_from(VALUES), min_size=1, max_size=6)
titles = st.lists(st.sampled_from(["満期一覧", "東京海上日動 満期一覧", "", "2025年4月"]), max_size=2)
header = st.lists(st.sampled_from(HEADERS), min_size=2, max_size=6)


def table(title: list[str], head: list[str], rows: list[list[str]], again: list[str] | None = None) -> Segment:
    """A sheet-like table: title rows, a header, rows, and maybe a second header with more rows."""
    body = [[t] for t in title] + [head] + rows + ([again, *rows[:3]] if again else [])
    return table_segment("list.csv", [(cells, (f":line {i + 1}",)) for i, cells in enumerate(body)])


@settings(max_examples=300, deadline=None)
@given(titles, header, st.lists(row, max_size=12), st.one_of(st.none(), header))
def test_rows_under_a_header_read_as_their_cells_alone(
    title: list[str], head: list[str], rows: list[list[str]], again: list[str] | None
) -> None:
    seg = table(title, head, rows, again)
    got = dict(DETECTORS.cells.table(seg, 0))
    assert list(got) == list(range(len(seg.lines)))
    assert {li for li, found in got.items() if found is not None} == labelled_rows(seg)
    for li, found in got.items():
        if found is not None:
            assert li > min(seg.headers) and li not in seg.headers
            assert found == by_cells(DETECTORS, seg, 0, li), seg.lines[li]


@settings(max_examples=300, deadline=None)
@given(titles, header, st.lists(row, max_size=12), st.one_of(st.none(), header))
def test_the_memo_and_the_batches_change_nothing(
    title: list[str], head: list[str], rows: list[list[str]], again: list[str] | None
) -> None:
    """Findings and records equal whether each distinct cell is read once, or every row is read
    on its own, or the memo keeps three cells and starts again."""
    seg = table(title, head, rows, again)
    segments = (Segment("list.csv (sheet name)", ("一覧",), kind="header"), seg)
    expected = UNCACHED.segments(segments)
    assert DETECTORS.segments(segments) == expected
    assert TINY_MEMO.segments(segments) == expected


def test_a_column_beside_the_name_column_is_not_a_customer() -> None:
    """「地域:渋谷区<TAB>氏名:…」 read as one line made 渋谷区 a name with the honorific 氏 (the start
    of the next header), and the region, nearer the number, took the record's name."""
    seg = table([], ["証券番号", "地域", "氏名"], [["8100000002", "渋谷区", "山田 太郎"]])
    found = DETECTORS.segments((seg,))
    assert [f.value for f in found if f.detector == Detector.NAME] == ["山田 太郎"]
    raw = _mail_with_csv([["証券番号", "地域", "氏名"], ["8100000002", "渋谷区", "山田 太郎"]])
    report = Pipeline(example_config()).scan(raw, Envelope(HEAD_OFFICE, (SOMPO,)))
    assert [(r.policy_number, r.name) for r in report.records] == [("8100000002", "山田 太郎")]


def test_a_date_ends_in_its_own_cell() -> None:
    """The optional 日 after a date no longer takes the 日 of a following 日付 column."""
    seg = table([], ["証券番号", "満期日", "日付"], [["8100000001", "2025/04/01", "2025/05/01"]])
    line = seg.lines[1]
    dates = [f for f in DETECTORS.segments((seg,)) if f.detector == Detector.DATE]
    assert [line[f.start : f.end] for f in dates] == ["2025/04/01", "2025/05/01"]


def test_titles_above_the_header_still_name_the_insurer_of_the_list() -> None:
    raw = _mail_with_csv([["東京海上日動 満期一覧"], ["証券番号", "契約者名"], ["12345678", "山田 太郎"]])
    report = Pipeline(example_config()).scan(raw, Envelope(HEAD_OFFICE, (SOMPO,)))
    assert [(r.name, r.underwriter, r.basis) for r in report.records] == [("山田 太郎", "tokio", "section heading")]


def _mail_with_csv(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return multipart("一覧です。", [("text/csv", 'attachment; filename="list.csv"', buf.getvalue().encode())], to=SOMPO)


def test_a_row_with_a_cell_outside_the_header_is_read_whole() -> None:
    """A label and its value in two unlabelled cells beside a list (「契約者<TAB>山田 太郎」): only
    the whole line joins them, as before."""
    seg = table([], ["証券番号", "満期日"], [["8100000001", "2025/04/01"], ["", "", "契約者", "山田 太郎"]])
    assert [li for li, found in DETECTORS.cells.table(seg, 0) if found is not None] == [1]
    names = [f for f in DETECTORS.segments((seg,)) if f.detector == Detector.NAME]
    assert [(f.line, f.value, f.label) for f in names] == [(2, "山田 太郎", "契約者")]


@pytest.mark.parametrize(
    ("family", "first"),
    [("姓", "名"), ("氏", "名"), ("契約者姓", "契約者名"), ("契約者氏名（姓）", "契約者氏名（名）"), ("苗字", "名")],
)
def test_a_name_split_over_two_columns_is_one_customer(family: str, first: str) -> None:
    """Read alone, 山田 under 姓 is no name and 太郎 under 契約者名 is the given name only."""
    rows = [["証券番号", family, first, "満期日"], ["8100000001", "山田", "太郎", "2025/04/01"]]
    report = Pipeline(example_config()).scan(_mail_with_csv(rows), Envelope(HEAD_OFFICE, (SOMPO,)))
    assert [(r.policy_number, r.name) for r in report.records] == [("8100000001", "山田 太郎")]
    rows = [[*rows[0], "フリガナ（姓）", "フリガナ（名）"], [*rows[1], "ヤマダ", "タロウ"]]  # and the reading beside it
    report = Pipeline(example_config()).scan(_mail_with_csv(rows), Envelope(HEAD_OFFICE, (SOMPO,)))
    assert [(r.policy_number, r.name) for r in report.records] == [("8100000001", "山田 太郎")]


def test_name_columns_pair_one_person_and_no_reading() -> None:
    assert name_columns(["証券番号", "契約者姓", "契約者名", "被保険者名"]) == ("契約者姓", "契約者名")
    assert name_columns(["氏名", "品名", "件名"]) is None
    assert name_columns(["契約者姓", "被保険者名"]) is None  # two people, half a name each
    assert name_columns(["フリガナ（姓）", "フリガナ（名）"]) is None  # the reading, not a customer
    assert name_columns(["セイ", "メイ"]) is None


def test_cells_that_are_not_name_halves_are_not_joined() -> None:
    for family, first in [("山田", "2"), ("", "太郎"), ("山田様ご本人", "太郎"), ("Yamada", "Taro")]:
        seg = table([], ["証券番号", "姓", "名"], [["8100000001", family, first]])
        assert seg.headers == {0}
        names = [f.value for f in DETECTORS.segments((seg,)) if f.detector == Detector.NAME]
        assert f"{family} {first}" not in names


def test_a_split_name_of_the_agency_staff_is_not_a_customer() -> None:
    config = example_config()
    staff = dataclasses.replace(
        config, organization=dataclasses.replace(config.organization, staff_names=("山田 太郎",))
    )
    seg = table([], ["証券番号", "姓", "名"], [["8100000001", "山田", "太郎"], ["8100000002", "佐藤", "花子"]])
    assert seg.headers == {0}
    names = [f.value for f in Detectors(staff).segments((seg,)) if f.detector == Detector.NAME]
    assert names == ["佐藤 花子"]


def test_a_table_read_by_cells_stops_at_the_deadline() -> None:
    """Past its deadline the column path stops like the row path: the scan fails closed (on_error)."""
    seg = table([], ["証券番号", "契約者名"], [[f"81000{i:05d}", "山田 太郎"] for i in range(50)])
    with pytest.raises(ScanTimeoutError):
        DETECTORS.segments((seg,), deadline=time.monotonic() - 1)
    assert len(DETECTORS.segments((seg,), deadline=time.monotonic() + 60)) == 100


title_text = st.text(st.sampled_from("氏名契約者番号()[].*+?|\\^$ :\t"), max_size=5)


@settings(max_examples=500, deadline=None)
@given(st.frozensets(title_text.filter(lambda t: "\t" not in t), max_size=5), st.lists(title_text, max_size=5))
def test_a_row_is_labelled_by_one_match_as_by_its_cells(titles: frozenset[str], parts: list[str]) -> None:
    """The whole-line match (cells.labelled_row) answers as the per-cell test, whatever the titles
    hold: signs the pattern must escape, a colon, an empty title."""
    line = "".join(parts)
    assert labelled_row(titles)(line) == _labelled(line.split("\t"), titles)
    for title in titles:
        cells = [f"{title}:{p}".replace("\t", " ") for p in parts[:3]] or [f"{title}:"]
        assert labelled_row(titles)("\t".join(cells)) == _labelled(cells, titles)


def _with_staff() -> Detectors:
    config = example_config()
    organization = dataclasses.replace(config.organization, staff_names=("佐藤 花子",))
    return Detectors(dataclasses.replace(config, organization=organization), GEN.registry)


STAFFED = _with_staff()
ROSTER_HEADERS = ["氏名", "部署", "内線", "担当者", "契約者名", "フリガナ", "証券番号", "姓", "名", "引受保険会社"]
people_row = st.lists(st.sampled_from([*VALUES, "山田 太郎 様", "鈴木 一郎 さん", "佐藤 花子"]), min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(ROSTER_HEADERS), min_size=2, max_size=5, unique=True),
    st.lists(people_row, max_size=12),
)
def test_names_checked_per_cell_as_the_row_checked_them(head: list[str], rows: list[list[str]]) -> None:
    """The customer test now asked once per distinct cell (cells.Customers) keeps exactly the names
    the row-level test kept: the line form on each cell alone, then every name tested on its row
    (kana, staff and underwriter labels, the staff list, a roster's rows, a name joined from 姓 and 名)."""
    seg = table([], head, rows)
    rosters = roster_lines(seg)
    got = {li: found for _, li, found in STAFFED.lines((seg,))}
    for li in labelled_rows(seg):
        line = seg.lines[li]
        expected = [
            f
            for f in by_cells(STAFFED, seg, 0, li)
            if f.detector != Detector.NAME or not STAFFED._not_a_customer(f, line, li in rosters)
        ]
        assert got.get(li, []) == expected, line
