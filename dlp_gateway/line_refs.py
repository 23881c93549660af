"""A table's refs (Segment.refs), a list's blocks of sheet rows kept as the run of row numbers
they are.

A sheet's line is labelled by its row number alone, `("17",)`: the column's `!B` is joined to it
for a record's cell only (Segment.where_cell). Made for every row of a 156,000-row list, those
labels were a string and a tuple per row, made, kept and freed: 2% of its scan. The rows of a
block (extract/table_lines.py) are consecutive rows of the sheet and are kept here as a range; a
row's label is written when something asks for it, and a block's record locations are written
from the row numbers straight (Segment.where_cells). What a reader sees is the same sequence of
tuples either way: LineRefs compares equal to the tuple of them.
"""

from __future__ import annotations

from collections.abc import Iterator

from dlp_gateway.pieced import Pieced

Refs = tuple[str, ...]


class _Rows:
    """A block of sheet rows: line k's refs are `(str(rows[k]),)`."""

    __slots__ = ("rows",)

    def __init__(self, rows: range) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def item(self, k: int) -> Refs:
        return (str(self.rows[k]),)

    def items(self, a: int, b: int) -> Iterator[Refs]:
        return zip(map(str, self.rows[a:b]))


class LineRefs(Pieced[Refs]):
    """Refs given line by line (`append`, `extend`) and blocks of sheet rows (`extend_rows`), in
    order (pieced.py)."""

    __slots__ = ()

    def extend_rows(self, rows: range) -> None:
        """Lines labelled by these sheet rows, one each: line k's refs are `(str(rows[k]),)`."""
        self.add_lazy(_Rows(rows))

    def rows(self, start: int, stop: int) -> range | None:
        """The sheet rows of lines start..stop-1 if they all lie in one block of rows; None if not."""
        if not 0 <= start < stop <= self._size:
            return None
        piece, at = self._piece_at(start)
        if not isinstance(piece, _Rows) or stop - at > len(piece):
            return None
        return piece.rows[start - at : stop - at]
