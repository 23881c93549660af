"""LineRefs against the plain list of the refs it stands for, and a sheet's record locations
written from its row numbers against where_cell of each line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dlp_gateway.extract.table import ColumnBatch, ColumnBatches, table_segment
from dlp_gateway.line_refs import LineRefs

_PIECE = st.one_of(
    st.lists(st.lists(st.sampled_from(["3", "!B4", ":line 9", ""]), max_size=2).map(tuple), min_size=1, max_size=4).map(
        lambda refs: ("refs", refs)
    ),
    st.tuples(st.just("rows"), st.integers(1, 99_999), st.integers(0, 5)),
)


def _build(pieces: list[Any]) -> tuple[LineRefs, list[tuple[str, ...]]]:
    refs, plain = LineRefs(), []
    for k, piece in enumerate(pieces):
        if piece[0] == "refs":
            if k % 2:
                refs.extend(piece[1])
            else:
                for r in piece[1]:
                    refs.append(r)
            plain += piece[1]
        else:
            rows = range(piece[1], piece[1] + piece[2])
            refs.extend_rows(rows)
            plain += [(str(r),) for r in rows]
    return refs, plain


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECE, max_size=6), st.data())
def test_line_refs_are_the_list_they_stand_for(pieces: list[Any], data: st.DataObject) -> None:
    refs, plain = _build(pieces)
    assert len(refs) == len(plain) and list(refs) == plain and refs == tuple(plain) and refs == plain
    n = len(plain)
    a, b = data.draw(st.integers(-2, n + 2)), data.draw(st.integers(-2, n + 2))
    assert refs[a:b] == tuple(plain[a:b]) and refs[::2] == tuple(plain[::2])
    if n:
        i = data.draw(st.integers(-n, n - 1))
        assert refs[i] == plain[i]
    rows = refs.rows(a, b)
    if rows is not None:  # (lines of one block of sheet rows: each line's label its row's number)
        assert [(str(r),) for r in rows] == plain[a:b] and 0 <= a < b <= n


def test_rows_are_told_only_within_one_block() -> None:
    refs = LineRefs()
    refs.append(("1",))
    refs.extend_rows(range(5, 9))
    refs.extend_rows(range(20, 22))
    assert refs.rows(1, 5) == range(5, 9) and refs.rows(2, 4) == range(6, 8)
    assert refs.rows(0, 2) is None and refs.rows(4, 6) is None and refs.rows(5, 7) == range(20, 22)


_TITLES = ["証券番号", "契約者名", "満期日"]


def _column(title: str, first: int, size: int) -> list[str]:
    if title == "証券番号":
        return [f"81{first + r:08d}" for r in range(size)]
    return ["山田 太郎" if title == "契約者名" else "2025-04-01"] * size


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(1, 30), min_size=1, max_size=4),
    st.integers(2, 3),
    st.sampled_from(["b.xlsx!一覧", "50%.xlsx!%d"]),
    st.integers(0, 3),
)
def test_a_blocks_locations_from_its_row_numbers_are_each_rows(
    sizes: list[int], width: int, location: str, at: int
) -> None:
    """Rows of a sheet under a header, handed over as columns and their row numbers: where_cells
    over a block's lines (a range) is where_cell of each, a `%` in the location included."""
    titles: list[Sequence[str]] = [[t] for t in _TITLES[:width]]
    batches, first = [ColumnBatch(titles, range(2, 3))], 3
    for size in sizes:
        columns: list[Sequence[str]] = [_column(t, first, size) for t in _TITLES[:width]]
        batches.append(ColumnBatch(columns, range(first, first + size)))
        first += size + 2  # (rows between batches that are no lines: the row numbers jump)
    seg = table_segment(location, ColumnBatches(batches), [f"!{chr(65 + c)}" for c in range(8)])
    assert isinstance(seg.refs, LineRefs) and seg.refs.rows(1, 1 + sizes[0]) == range(3, 3 + sizes[0])
    for a in range(len(seg.lines)):
        for b in range(a + 2, len(seg.lines) + 1):
            assert seg.where_cells(range(a, b), at) == [seg.where_cell(li, at) for li in range(a, b)]
            every_other = range(a, b, 2)  # (not one run of lines: each line's own)
            if len(every_other) > 1:
                assert seg.where_cells(every_other, at) == [seg.where_cell(li, at) for li in every_other]
