"""A sequence kept in pieces: runs of items written one by one, and lazy pieces that make their
items only when something asks for them. A table's lines (extract/table_lines.py: a list's block
of rows kept as its columns) and its refs (line_refs.py: a sheet's block of rows kept as the range
of its row numbers) are each one. A Pieced compares equal to the tuple of its items.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, islice
from typing import Protocol, TypeVar, overload

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Lazy(Protocol[T_co]):
    """A piece whose items are made when asked for."""

    def __len__(self) -> int: ...

    def item(self, k: int) -> T_co: ...

    def items(self, a: int, b: int) -> Iterator[T_co]:
        """Items a..b-1."""
        ...


class Pieced(Sequence[T]):
    """Items appended one by one (`append`, `extend`) and lazy pieces (`add_lazy`), in order."""

    __slots__ = ("_pieces", "_size", "_starts")

    def __init__(self) -> None:
        self._pieces: list[list[T] | Lazy[T]] = []
        self._starts: list[int] = []  # the first item of each piece
        self._size = 0

    def _written(self) -> list[T]:
        """The last piece if it holds items written one by one; a new such piece if not."""
        last = self._pieces[-1] if self._pieces else None
        if not isinstance(last, list):
            self._starts.append(self._size)
            last = []
            self._pieces.append(last)
        return last

    def append(self, item: T) -> None:
        self._written().append(item)
        self._size += 1

    def extend(self, items: Iterable[T]) -> None:
        written = self._written()
        before = len(written)
        written.extend(items)
        self._size += len(written) - before

    def add_lazy(self, piece: Lazy[T]) -> None:
        if not len(piece):
            return
        self._starts.append(self._size)
        self._pieces.append(piece)
        self._size += len(piece)

    def _piece_at(self, i: int) -> tuple[list[T] | Lazy[T], int]:
        """The piece item i (0 <= i < len) lies in, and where that piece begins."""
        p = bisect_right(self._starts, i) - 1
        return self._pieces[p], self._starts[p]

    def __len__(self) -> int:
        return self._size

    @overload
    def __getitem__(self, i: int) -> T: ...

    @overload
    def __getitem__(self, i: slice) -> tuple[T, ...]: ...

    def __getitem__(self, i: int | slice) -> T | tuple[T, ...]:
        if isinstance(i, slice):
            start, stop, step = i.indices(self._size)
            if step != 1:
                return tuple(self)[i]
            return tuple(self._items(start, stop))
        if i < 0:
            i += self._size
        if not 0 <= i < self._size:
            raise IndexError(f"{type(self).__name__} index out of range")
        p = bisect_right(self._starts, i) - 1  # (as _piece_at, inline: a line is asked for per row)
        piece, k = self._pieces[p], i - self._starts[p]
        return piece[k] if isinstance(piece, list) else piece.item(k)

    def _items(self, start: int, stop: int) -> Iterator[T]:
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
            parts.append(islice(piece, a, b) if isinstance(piece, list) else piece.items(a, b))
        return chain.from_iterable(parts)

    def __iter__(self) -> Iterator[T]:
        return self._items(0, self._size)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Pieced | tuple | list):
            return len(other) == self._size and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({tuple(self)!r})"
