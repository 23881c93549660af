"""A list's labelled rows read a column at a time: cells.py's block of rows, transposed.

Under a header, a list's rows have the same cells (every column filled), so the rows of a run are
columns too. A column of numbers — the policy numbers, the amounts — has a new value in every
row: the memo of cells.py, which reads each distinct cell once, only costs there (each cell
hashed, stored, looked up twice, and dropped). Such a column is read by the column form of
detect/digit_column.py straight into the rows' findings and forms. Every other column goes
through the memo as before. The rows' shapes and findings are then put together from the
columns in C, and are the CellRows cells._block_at makes of the same rows from the memo
(tests/test_row_plans.py and tests/test_cells.py hold both to the row path).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import compress

from dlp_gateway.detect.digit_column import DigitColumn, TableMemo
from dlp_gateway.detect.row_shapes import CellRows, ColumnRows, TableForms
from dlp_gateway.model import Finding

Found = Sequence[tuple[Finding, ...]]


@dataclass
class ColumnBlock:
    """A run's rows (from line `first`) as columns, with the findings and forms of the columns
    the column form read; None for a column the memo reads."""

    first: int
    columns: list[tuple[str, ...]]
    found: list[Found | None]
    forms: list[Sequence[int] | None]

    def memo_cells(self) -> Iterator[str]:
        """The cells left to the memo."""
        for column, found in zip(self.columns, self.found, strict=True):
            if found is None:
                yield from column

    def rows(
        self, memo: dict[str, tuple[Finding, ...]], forms: dict[str, int], shapes: TableForms
    ) -> Iterator[tuple[int, CellRows]]:
        """The rows as CellRows at the first one's line, if any holds a finding; the memo's
        columns looked up in it."""
        form_columns = [
            list(map(forms.__getitem__, column)) if f is None else f
            for column, f in zip(self.columns, self.forms, strict=True)
        ]
        keys = list(zip(*form_columns, strict=True))
        held = list(map(any, keys))  # (a row that holds nothing is left out)
        if not any(held):
            return
        found_columns = [
            list(map(memo.__getitem__, column)) if f is None else f
            for column, f in zip(self.columns, self.found, strict=True)
        ]
        lines = list(range(self.first, self.first + len(keys)))
        found: Sequence[Sequence[tuple[Finding, ...]]] = ColumnRows(found_columns)
        if not all(held):
            keys, lines = list(compress(keys, held)), list(compress(lines, held))
            found = list(compress(found, held))
        sids = list(map(shapes.shape_ids.get, keys))
        if None in sids:
            sids = [shapes.shape_id(key) if sid is None else sid for sid, key in zip(sids, keys, strict=True)]
        yield lines[0], CellRows(lines, found, sids, shapes)  # type: ignore[arg-type]


def column_block(
    first: int, rows: list[list[str]], digits: DigitColumn | None, learnt: TableMemo, shapes: TableForms
) -> ColumnBlock | None:
    """The rows as a ColumnBlock if they are as wide as each other, their columns of digits read
    by the column form; None otherwise (cells._block_at reads them)."""
    if not rows or len(set(map(len, rows))) != 1:
        return None
    columns = list(zip(*rows, strict=True))
    block = ColumnBlock(first, columns, [None] * len(columns), [None] * len(columns))
    if digits is None:
        return block
    for c, column in enumerate(columns):
        value = column[0].partition(":")[2]
        if not (value.isdigit() and value.isascii()):
            continue  # (a cheap look at the first cell: a column of names or dates is the memo's)
        out, tokens = digits.read(column, learnt)
        if None in tokens:
            continue  # (a cell the line form must read: the memo reads the column)
        by_template = shapes.by_template
        used = set(tokens)  # (a handful of templates for a column)
        for token in sorted(used - by_template.keys(), key=tokens.index):  # (in order: forms numbered as met)
            k = tokens.index(token)
            by_template[token] = shapes.form_id(out[k], column[k])  # type: ignore[arg-type,index]  # (its first cell)
        block.found[c] = out  # type: ignore[assignment]  # (every cell read: no None left)
        if len(used) == 1:
            block.forms[c] = [by_template[tokens[0]]] * len(tokens)  # type: ignore[index]
        else:
            block.forms[c] = list(map(by_template.__getitem__, tokens))  # type: ignore[arg-type]
    return block
