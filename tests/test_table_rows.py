"""extract/table.py labels a row whose every cell is filled with one C-level join; held to the
cell-by-cell labelling every other row gets, over generated rows: blank and white-space cells,
rows shorter and longer than their header, headers with blank titles."""

from __future__ import annotations

from itertools import compress

from hypothesis import given, settings
from hypothesis import strategies as st

from dlp_gateway.extract.table import labelled_by_cell, labelled_cells

cell = st.sampled_from(["8100000001", "山田 太郎", "", "2025/04/01", "東京海上日動"])
title = st.sampled_from(["証券番号:", "契約者名:", "", "満期日:"])


@settings(max_examples=500, deadline=None)
@given(st.lists(cell, max_size=7), st.lists(title, max_size=7))
def test_a_full_row_is_labelled_as_cell_by_cell(values: list[str], prefixes: list[str]) -> None:
    kept = list(compress(range(len(values)), values))
    assert labelled_cells(values, kept, prefixes) == labelled_by_cell(values, kept, prefixes)
