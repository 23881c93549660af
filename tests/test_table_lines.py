"""TableLines against the plain list of the lines it stands for: every way a reader asks for them."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dlp_gateway.extract import table
from dlp_gateway.extract.table_lines import TableLines, lines_have_invisible, text_length
from dlp_gateway.invisible import has_invisible

_CELL = st.text(alphabet=st.sampled_from(["1", "0", "山", "田", " ", "%", "s", "\u200b", "\ufe00", ":"]), max_size=6)
_PIECE = st.one_of(
    st.lists(_CELL, min_size=1, max_size=4).map(lambda lines: ("rows", lines)),
    st.integers(1, 3).flatmap(
        lambda width: st.tuples(
            st.just("block"),
            st.lists(st.sampled_from(["証券番号:", "氏名:", "%率:", ""]), min_size=width, max_size=width),
            st.integers(1, 5).flatmap(
                lambda n: st.lists(st.lists(_CELL, min_size=n, max_size=n), min_size=width, max_size=width)
            ),
        )
    ),
)


def _extend(lines: TableLines, prefixes: list[str], columns: list[Any]) -> None:
    """A block as the table writes it: its length and invisible characters from its columns'
    tests (table._kept)."""
    kept = [table._kept(column) for column in columns]
    facts = [f for _, f in kept]
    lines.extend_columns(prefixes, [c for c, _ in kept], sum(f.chars for f in facts), any(f.invisible for f in facts))


def _build(pieces: list[Any]) -> tuple[TableLines, list[str]]:
    lines, plain = TableLines(), []
    for piece in pieces:
        if piece[0] == "rows":
            for line in piece[1]:
                lines.append(line)
                plain.append(line)
        else:
            _, prefixes, columns = piece
            _extend(lines, prefixes, columns)
            plain += [
                "\t".join(p + c for p, c in zip(prefixes, row, strict=True)) for row in zip(*columns, strict=True)
            ]
    return lines, plain


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECE, max_size=5), st.integers(-3, 30), st.integers(-3, 30))
def test_lines_read_as_the_plain_list(pieces: list[Any], a: int, b: int) -> None:
    lines, plain = _build(pieces)
    assert len(lines) == len(plain)
    assert list(lines) == plain
    assert lines == tuple(plain) and lines == plain
    assert [lines[i] for i in range(-len(plain), len(plain))] == [plain[i] for i in range(-len(plain), len(plain))]
    assert lines[a:b] == tuple(plain[a:b])
    assert text_length(lines) == sum(map(len, plain))
    assert lines_have_invisible(lines) == has_invisible("\n".join(plain))


@settings(max_examples=200, deadline=None)
@given(st.lists(_PIECE, max_size=5), st.integers(0, 30), st.integers(0, 30))
def test_columns_are_the_lines_cells(pieces: list[Any], a: int, b: int) -> None:
    """Where lines a..b-1 come as columns, prefix + value of each column is each line's cells."""
    lines, plain = _build(pieces)
    got = lines.columns(a, b)
    if got is None:
        return
    prefixes, columns = got
    assert a < b <= len(plain)
    rows = ["\t".join(p + v for p, v in zip(prefixes, row, strict=True)) for row in zip(*columns, strict=True)]
    assert rows == plain[a:b]


def test_a_block_among_rows_is_given_as_columns_only_when_whole() -> None:
    lines = TableLines()
    lines.append("title")
    _extend(lines, ["番号:", "氏名:"], [("8100000001", "8100000002"), ("山田", "佐藤")])
    _extend(lines, ["番号:", "氏名:"], [["8100000003"], ["鈴木"]])
    assert lines.columns(1, 4) == (
        ["番号:", "氏名:"],
        [["8100000001", "8100000002", "8100000003"], ["山田", "佐藤", "鈴木"]],
    )
    assert lines.columns(0, 2) is None  # (the title is a line of its own)
    assert lines[2] == "番号:8100000002\t氏名:佐藤"
    with_other_titles = TableLines()
    _extend(with_other_titles, ["番号:"], [["1"]])
    _extend(with_other_titles, ["No:"], [["2"]])
    assert with_other_titles.columns(0, 2) is None
