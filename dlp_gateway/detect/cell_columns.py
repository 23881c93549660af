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

from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import compress
from typing import TypeVar, cast

from dlp_gateway.detect.digit_column import TableMemo
from dlp_gateway.detect.forms import ColumnForm
from dlp_gateway.detect.row_shapes import ByValue, CellRows, ColumnRows, TableForms
from dlp_gateway.model import Finding

Found = Sequence[tuple[Finding, ...]]


@dataclass
class ColumnBlock:
    """A run's rows (from line `first`) as columns, each its title's prefix (`title:`, or "" when
    the column's cells are whole: column_block) and its values, with the findings and forms of the
    columns the column form read; None for a column the memo reads. `labels`, for each column the
    memo reads: each distinct value and its cell (`title:value`), written once."""

    first: int
    prefixes: list[str]
    columns: list[Sequence[str]]
    found: list[Found | None] = field(init=False)
    forms: list[Sequence[int] | None] = field(init=False)
    labels: list[dict[str, str] | None] = field(init=False)

    def __post_init__(self) -> None:
        self.found = [None] * len(self.columns)
        self.forms = [None] * len(self.columns)
        self.labels = [None] * len(self.columns)

    def memo_cells(self) -> Iterator[str]:
        """The cells left to the memo, each column's distinct ones."""
        for column, labels, found in zip(self.columns, self.labels, self.found, strict=True):
            if found is None:
                yield from column if labels is None else labels.values()

    def _distinct(self, c: int, table: dict[str, _T]) -> dict[str, _T]:
        """Each distinct cell of memo column c (whose cells are written, `labels`) with its entry in
        `table` (the memo or its forms), looked up by the cell."""
        labels = self.labels[c]
        assert labels is not None
        return dict(zip(labels, map(table.__getitem__, labels.values()), strict=True))

    def _forms(self, c: int, forms: dict[str, int]) -> list[int]:
        """The form of each cell of memo column c; a column whose distinct cells all have the same
        one (a product, a branch, a list's dates, names as long as each other) is that one repeated."""
        if self.labels[c] is None:
            return list(map(forms.__getitem__, self.columns[c]))
        by_value = self._distinct(c, forms)
        ids = list(by_value.values())
        if ids.count(ids[0]) == len(ids):
            return [ids[0]] * len(self.columns[c])
        return list(map(by_value.__getitem__, self.columns[c]))

    def _found(self, c: int, memo: dict[str, tuple[Finding, ...]]) -> Sequence[tuple[Finding, ...]]:
        """The findings of memo column c's cells: by its distinct cells when they are written
        (ByValue), else looked up cell by cell."""
        if self.labels[c] is None:
            return list(map(memo.__getitem__, self.columns[c]))
        return ByValue(self.columns[c], self._distinct(c, memo))

    def rows(
        self, memo: dict[str, tuple[Finding, ...]], forms: dict[str, int], shapes: TableForms
    ) -> Iterator[tuple[int, CellRows]]:
        """The rows as CellRows at the first one's line, if any holds a finding; the memo's
        columns looked up in it. A row's shape is told by the columns whose forms vary: most of
        a list's columns have one form all the way down (the policy numbers, the product)."""
        form_columns = [self._forms(c, forms) if f is None else f for c, f in enumerate(self.forms)]
        n = len(form_columns[0])
        at = [c for c, column in enumerate(form_columns) if column.count(column[0]) != n]  # (the varying)
        # Each row's key: the forms of the varying columns; when one column varies (a list's
        # insurers), its forms themselves (no tuple made and hashed per row).
        one = len(at) == 1
        varying: Sequence[Hashable]
        if one:
            varying = form_columns[at[0]]
        elif at:
            varying = list(zip(*(form_columns[c] for c in at), strict=True))
        else:
            varying = [()] * n  # (every row of one shape)
        held: list[bool] = []  # (a row that holds nothing is left out)
        if not any(column[0] for c, column in enumerate(form_columns) if c not in at):  # (else every row holds)
            held = list(map(bool if one else any, varying))  # type: ignore[arg-type]  # (forms, or tuples of them)
            if not any(held):
                return
        found_columns = [self._found(c, memo) if f is None else f for c, f in enumerate(self.found)]
        lines: Sequence[int] = range(self.first, self.first + n)
        found = ColumnRows(found_columns)
        if held and not all(held):
            kept = list(compress(range(n), held))
            varying, lines, found = (
                list(compress(varying, held)),
                list(map(lines.__getitem__, kept)),
                found.picked(kept),
            )
        shape = [column[0] for column in form_columns]
        sids: dict[Hashable, int] = dict.fromkeys(varying, 0)  # (in order met: shapes numbered so)
        for key in sids:
            for c, form in zip(at, cast("tuple[int, ...]", (key,) if one else key), strict=True):
                shape[c] = form
            sids[key] = shapes.shape_id(tuple(shape))
        yield lines[0], CellRows(lines, found, list(map(sids.__getitem__, varying)), shapes)


_T = TypeVar("_T")


def column_block(
    first: int, rows: list[list[str]], digits: ColumnForm | None, learnt: TableMemo, shapes: TableForms
) -> ColumnBlock | None:
    """The rows as a ColumnBlock if they are as wide as each other, their columns of digits read
    by the column form; None otherwise (cells._block_at reads them)."""
    if not rows or len(set(map(len, rows))) != 1:
        return None
    columns: list[Sequence[str]] = list(zip(*rows, strict=True))
    return _read(ColumnBlock(first, [""] * len(columns), columns), digits, learnt, shapes)


def value_block(
    first: int,
    prefixes: list[str],
    columns: list[Sequence[str]],
    digits: ColumnForm | None,
    learnt: TableMemo,
    shapes: TableForms,
) -> ColumnBlock:
    """column_block for rows given as each column's prefix (`title:`, no other colon in it) and
    its values (extract/table_lines.py): a cell is written `title:value` once per distinct value."""
    return _read(ColumnBlock(first, prefixes, columns), digits, learnt, shapes)


def _read(block: ColumnBlock, digits: ColumnForm | None, learnt: TableMemo, shapes: TableForms) -> ColumnBlock:
    """The block with its columns of digits read by the column form, and the distinct cells of
    its other prefixed columns written."""
    for c, (prefix, column) in enumerate(zip(block.prefixes, block.columns, strict=True)):
        if digits is not None and _read_digits(block, c, digits, learnt, shapes):
            continue
        if prefix:
            block.labels[c] = {value: prefix + value for value in dict.fromkeys(column)}
    return block


def _read_digits(block: ColumnBlock, c: int, digits: ColumnForm, learnt: TableMemo, shapes: TableForms) -> bool:
    """Whether column c is read by the column form (its findings and forms then set in the block)."""
    prefix, column = block.prefixes[c], block.columns[c]
    value = column[0] if prefix else column[0].partition(":")[2]
    if not (value.isdigit() and value.isascii()):
        return False  # (a cheap look at the first cell: a column of names or dates is the memo's)
    out, tokens = digits.read_values(prefix[:-1], column, learnt) if prefix else digits.read(column, learnt)
    if None in tokens:
        return False  # (a cell the line form must read: the memo reads the column)
    by_template = shapes.by_template
    used = set(tokens)  # (a handful of templates for a column)
    for token in sorted(used - by_template.keys(), key=tokens.index):  # (in order: forms numbered as met)
        k = tokens.index(token)
        cell = prefix + column[k]
        by_template[token] = shapes.form_id(out[k], cell)  # type: ignore[arg-type,index]  # (its first cell)
    block.found[c] = out  # type: ignore[assignment]  # (every cell read: no None left)
    if len(used) == 1:
        block.forms[c] = [by_template[tokens[0]]] * len(tokens)  # type: ignore[index]
    else:
        block.forms[c] = list(map(by_template.__getitem__, tokens))  # type: ignore[arg-type]
    return True
