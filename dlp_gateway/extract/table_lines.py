"""A table's lines, its list's blocks of rows kept as the columns they were read in.

Under a header, a list's rows are written `title:value<TAB>…` (extract/table.py). Made for every
row, those lines cost a large list a %-format each, and cell-by-cell detection then split each one
back into its cells and turned the rows into columns again (detect/cells.py, cell_columns.py):
a fifth of a 156,000-row list's scan beyond the spreadsheet reader. A block of such rows is kept
here as its titles and its columns of values, and a line of it is written only when something
asks for that line (a record's row placed on its line, a row read whole); detection takes the
columns as they are (`columns`). What a reader sees is the same sequence of lines either way:
TableLines compares equal to the tuple of its lines.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from itertools import chain

from dlp_gateway.invisible import has_invisible
from dlp_gateway.model import CELL_SEPARATOR
from dlp_gateway.pieced import Pieced


class CleanTexts(list[str]):
    """A column's texts that are each filled and clean by how they were made (numbers and dates
    written by the reader): extract/table.py does not test them again."""


class JoinedTexts(list[str]):
    """A column's texts as the reader found them, with the cells joined by JOIN: the join that told
    the reader they are all text is the one extract/table.py tests the column by."""

    __slots__ = ("joined",)

    def __init__(self, texts: Sequence[str], joined: str) -> None:
        super().__init__(texts)
        self.joined = joined


# (printable, so a joined column's str.isprintable is its cells'; rare beside a space)
JOIN = "`"


class DigitTexts(CleanTexts):
    """CleanTexts of ASCII digits only (whole numbers, none negative): neither the table nor the
    column form of detection tests them for that again."""


def digits_only(values: Sequence[str]) -> bool:
    """Whether every value is ASCII digits, none empty: a DigitTexts by how it was made, any
    other column joined once (after a look at its first value)."""
    if type(values) is DigitTexts:
        return True
    if not values or not (values[0].isdigit() and values[0].isascii()):
        return False
    digits = "".join(values)
    return digits.isdigit() and digits.isascii() and "" not in values


class _Block:
    """Rows written `prefix value` for each column, the prefixes `title:`; all columns as long."""

    __slots__ = ("chars", "columns", "form", "invisible", "prefixes", "size")

    def __init__(self, prefixes: Sequence[str], columns: Sequence[Sequence[str]], chars: int, invisible: bool) -> None:
        self.prefixes = list(prefixes)
        self.columns = list(columns)
        self.size = len(columns[0])
        self.form = CELL_SEPARATOR.join(p.replace("%", "%%") + "%s" for p in prefixes)
        self.chars = chars  # (the values' characters, and whether any is invisible: the writer's)
        self.invisible = invisible

    def __len__(self) -> int:
        return self.size

    def item(self, k: int) -> str:
        return self.form % tuple(column[k] for column in self.columns)

    def items(self, a: int, b: int) -> Iterator[str]:
        """Lines a..b-1 of the block, each by one %-format."""
        columns = self.columns if (a, b) == (0, self.size) else [column[a:b] for column in self.columns]
        return map(self.form.__mod__, zip(*columns, strict=True))

    def text_length(self) -> int:
        fixed = sum(map(len, self.prefixes)) + len(self.prefixes) - 1  # (titles and tabs)
        return fixed * self.size + self.chars

    def has_invisible(self) -> bool:
        return self.invisible or has_invisible("".join(self.prefixes))


class TableLines(Pieced[str]):
    """Lines written one by one (`append`) and blocks of rows as columns (`extend_columns`), in
    order (pieced.py: indexing, slices and iteration write a block's lines as they go)."""

    __slots__ = ()

    def extend_columns(
        self, prefixes: Sequence[str], columns: Sequence[Sequence[str]], chars: int, invisible: bool
    ) -> None:
        """Rows of one cell per column, each cell `prefix value` (the prefixes as many as the
        columns); `chars` and `invisible`, which the writer learnt testing the columns
        (extract/table._kept): the values' characters, and whether any of them is one
        invisible.py removes."""
        self.add_lazy(_Block(prefixes, columns, chars, invisible))

    def text_length(self) -> int:
        """The characters of every line, without writing them."""
        return sum(sum(map(len, p)) if isinstance(p, list) else _block(p).text_length() for p in self._pieces)

    def has_invisible(self) -> bool:
        """Whether any line holds a character invisible.py removes: each block searched a column
        at a time (a column of one script is searched without widening)."""
        return any(
            has_invisible("\n".join(p)) if isinstance(p, list) else _block(p).has_invisible() for p in self._pieces
        )

    def block_starts(self) -> list[int]:
        """The first line of each block kept as columns, and of the lines after it."""
        out = []
        for p, piece in enumerate(self._pieces):
            if isinstance(piece, _Block):
                out += [self._starts[p], self._starts[p] + piece.size]
        return [line for line in out if line < self._size]

    def columns(self, start: int, stop: int) -> tuple[list[str], list[Sequence[str]]] | None:
        """(the prefixes, the columns of values) of lines start..stop-1 if they are all rows of
        blocks with the same prefixes; None if not."""
        if not 0 <= start < stop <= self._size:
            return None
        first = bisect_right(self._starts, start) - 1
        prefixes: list[str] | None = None
        parts: list[list[Sequence[str]]] = []
        for p in range(first, len(self._pieces)):
            at = self._starts[p]
            if at >= stop:
                break
            piece = self._pieces[p]
            if not isinstance(piece, _Block) or (prefixes is not None and piece.prefixes != prefixes):
                return None
            prefixes = piece.prefixes
            a, b = max(start - at, 0), min(stop - at, piece.size)
            parts.append(piece.columns if (a, b) == (0, piece.size) else [column[a:b] for column in piece.columns])
        if prefixes is None:
            return None
        if len(parts) == 1:
            return prefixes, parts[0]
        return prefixes, [list(chain.from_iterable(pieces)) for pieces in zip(*parts, strict=True)]


def _block(piece: object) -> _Block:
    """A lazy piece of TableLines: only blocks are."""
    assert isinstance(piece, _Block)
    return piece


def text_length(lines: Sequence[str]) -> int:
    return lines.text_length() if isinstance(lines, TableLines) else sum(map(len, lines))


def lines_have_invisible(lines: Sequence[str]) -> bool:
    return lines.has_invisible() if isinstance(lines, TableLines) else has_invisible("\n".join(lines))
