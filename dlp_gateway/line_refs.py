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

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, islice
from typing import overload

Refs = tuple[str, ...]


def _labels(rows: range) -> Iterator[Refs]:
    return zip(map(str, rows))


class LineRefs(Sequence[Refs]):
    """Refs given line by line (`append`, `extend`) and blocks of sheet rows (`extend_rows`), in order."""

    __slots__ = ("_pieces", "_size", "_starts")

    def __init__(self) -> None:
        self._pieces: list[list[Refs] | range] = []
        self._starts: list[int] = []  # the first line of each piece
        self._size = 0

    def append(self, refs: Refs) -> None:
        if not self._pieces or isinstance(self._pieces[-1], range):
            self._starts.append(self._size)
            self._pieces.append([])
        self._pieces[-1].append(refs)  # type: ignore[union-attr]  # (a list: tested above)
        self._size += 1

    def extend(self, refs: Iterable[Refs]) -> None:
        if not self._pieces or isinstance(self._pieces[-1], range):
            self._starts.append(self._size)
            self._pieces.append([])
        last = self._pieces[-1]
        assert isinstance(last, list)
        before = len(last)
        last.extend(refs)
        self._size += len(last) - before

    def extend_rows(self, rows: range) -> None:
        """Lines labelled by these sheet rows, one each: line k's refs are `(str(rows[k]),)`."""
        if not rows:
            return
        self._starts.append(self._size)
        self._pieces.append(rows)
        self._size += len(rows)

    def rows(self, start: int, stop: int) -> range | None:
        """The sheet rows of lines start..stop-1 if they all lie in one block of rows; None if not."""
        if not 0 <= start < stop <= self._size:
            return None
        p = bisect_right(self._starts, start) - 1
        piece, at = self._pieces[p], self._starts[p]
        if not isinstance(piece, range) or stop - at > len(piece):
            return None
        return piece[start - at : stop - at]

    def __len__(self) -> int:
        return self._size

    @overload
    def __getitem__(self, i: int) -> Refs: ...

    @overload
    def __getitem__(self, i: slice) -> tuple[Refs, ...]: ...

    def __getitem__(self, i: int | slice) -> Refs | tuple[Refs, ...]:
        if isinstance(i, slice):
            start, stop, step = i.indices(self._size)
            if step != 1:
                return tuple(self)[i]
            return tuple(self._refs(start, stop))
        if i < 0:
            i += self._size
        if not 0 <= i < self._size:
            raise IndexError("line out of range")
        p = bisect_right(self._starts, i) - 1
        piece = self._pieces[p]
        k = i - self._starts[p]
        return (str(piece[k]),) if isinstance(piece, range) else piece[k]

    def _refs(self, start: int, stop: int) -> Iterator[Refs]:
        if start >= stop:
            return iter(())
        first = bisect_right(self._starts, start) - 1
        parts = []
        for p in range(first, len(self._pieces)):
            at = self._starts[p]
            if at >= stop:
                break
            piece = self._pieces[p]
            a, b = max(start - at, 0), min(stop - at, len(piece))
            parts.append(_labels(piece[a:b]) if isinstance(piece, range) else islice(piece, a, b))
        return chain.from_iterable(parts)

    def __iter__(self) -> Iterator[Refs]:
        return self._refs(0, self._size)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LineRefs | tuple | list):
            return len(other) == self._size and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"LineRefs({tuple(self)!r})"
