"""extract/table.py builds a row whose every cell is filled with C-level joins; held to the
per-cell construction it replaced (kept here as the oracle) over generated tables: header rows
anywhere, blank and white-space cells, rows shorter and longer than their header, sheet columns."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import compress

from hypothesis import given, settings
from hypothesis import strategies as st

from dlp_gateway.extract.table import _DIGITS, SEP, _clean_row, is_header_row, table_segment
from dlp_gateway.model import Segment


def per_cell(
    location: str, rows: Iterable[tuple[Sequence[str], Sequence[str]]], columns: Sequence[str] = ()
) -> Segment:
    """The construction before: every row's parts made cell by cell."""
    lines: list[str] = []
    refs: list[tuple[str, ...]] = []
    cells_of: list[tuple[int, ...]] = []
    prefixes: list[str] = []
    headers: set[int] = set()
    for cells, cell_refs in rows:
        text = "\x00".join(cells)
        values = _clean_row(cells, text)
        kept = list(compress(range(len(values)), values))
        if not kept:
            lines.append("")
            refs.append((cell_refs[0] if cell_refs else "",))
            cells_of.append((0,))
            continue
        parts = [values[i] for i in kept]
        if not _DIGITS.search(text) and is_header_row(parts):
            prefixes = [f"{h}:" if h else "" for h in values]
            headers.add(len(lines))
        elif prefixes:
            parts = [prefixes[i] + values[i] if i < len(prefixes) else values[i] for i in kept]
        lines.append(SEP.join(parts))
        if columns:
            refs.append(tuple(cell_refs))
            cells_of.append(tuple(kept))
        elif len(cell_refs) > 1:
            refs.append(tuple([cell_refs[i] if i < len(cell_refs) else "" for i in kept]))
        else:
            refs.append(tuple(cell_refs))
    if columns:
        return Segment(
            location, tuple(lines), "table", tuple(refs), tuple(columns), tuple(cells_of), frozenset(headers)
        )
    return Segment(location, tuple(lines), kind="table", refs=tuple(refs), headers=frozenset(headers))


cell = st.sampled_from(
    [
        "証券番号",
        "契約者名",
        "満期日",
        "",
        " ",
        "　山田　太郎 ",
        "8100000001",
        "2025/04/01",
        "東京海上日動",
        "備考",
        "a\tb",
    ]
)
rows = st.lists(st.lists(cell, max_size=7), max_size=12)


@settings(max_examples=500, deadline=None)
@given(rows, st.booleans())
def test_rows_read_as_cell_by_cell(body: list[list[str]], sheet: bool) -> None:
    given_rows: list[tuple[list[str], tuple[str, ...]]]
    if sheet:
        columns = [f"!{chr(65 + i)}" for i in range(7)]
        given_rows = [(cells, (str(r + 1),)) for r, cells in enumerate(body)]
        assert table_segment("a.xlsx!S", given_rows, columns) == per_cell("a.xlsx!S", given_rows, columns)
    else:  # a reference per cell, as an HTML table gives them
        given_rows = [(cells, tuple(f"[{r}][{c}]" for c in range(len(cells))) or ("",)) for r, cells in enumerate(body)]
        assert table_segment("a.html", given_rows) == per_cell("a.html", given_rows)
