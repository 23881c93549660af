"""Lines of one segment read together: each detector's regular expressions run once over a chunk of
lines joined by "\\n", not once per line.

A list of 100,000 rows paid every expression's per-call cost (match set-up, the timeout clock)
100,000 times; joined, the regex engine walks the rows in C and Python only sees the matches. No
pattern crosses a line: our own patterns allow spaces as [^\\S\\n], and an insurer's pattern that
could see a newline is run line by line (policy_number.blob_safe). Findings carry line numbers and
offsets within their own line, exactly as if each line had been read alone (tests/test_chunk.py).
The normalised views keep a map back to offsets in the chunk's text.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from itertools import accumulate
from operator import add

from dlp_gateway.detect.normalize import has_digit, join_separated, map_separators, name_view, nfkc_upper_map

MAX_CHARS = 65_536  # per chunk: a pattern's timeout stays meaningful, memory stays flat
MAX_LINES = 2_000

View = tuple[str, Sequence[int]]  # normalised text, index[i] = offset in Chunk.text of character i
# (text, base) → its view, each offset plus base
PerLine = Callable[[str, int], View]


class Chunk:
    """Consecutive lines of one segment; `first` is the number of the first one in its segment."""

    def __init__(self, lines: Sequence[str], first: int = 0) -> None:
        text = "\n".join(lines)
        if text.count("\n") != len(lines) - 1:  # a line holding a newline (a decoded header) is one line
            lines = [line.replace("\n", " ") for line in lines]
            text = "\n".join(lines)
        self.text = text
        self.lines = lines
        self.first = first
        # Where each line starts: the lengths before it plus one newline each (summed in C).
        self.starts: list[int] = list(map(add, accumulate(map(len, lines), initial=0), range(len(lines))))
        self.has_digit = has_digit(text)
        self._base: View | None = None
        self._joined: dict[bool, View] = {}
        self._names: View | None = None

    def locate(self, offset: int) -> tuple[int, int]:
        """(index of the line in this chunk, offset within that line) of an offset in `text`."""
        k = bisect_right(self.starts, offset) - 1
        return k, offset - self.starts[k]

    def line_no(self, k: int) -> int:
        return self.first + k

    def _view(self, per_line: PerLine) -> View:
        """The view of the whole text when it is NFKC-normalised already (every line is then read as
        it would be alone). Otherwise consecutive normalised lines are still read together, and
        each line that is not is read alone (a letter with a few full-width colons would otherwise
        pay for 800 separate lines)."""
        mapped = map_separators(self.text)
        if unicodedata.is_normalized("NFKC", mapped):
            return per_line(self.text, 0)  # no character maps across a newline
        texts: list[str] = []
        index: list[int] = []
        flags = [unicodedata.is_normalized("NFKC", m) for m in mapped.split("\n")]
        k, n = 0, len(self.lines)
        while k < n:
            j = k + 1
            if flags[k]:
                while j < n and flags[j]:
                    j += 1
            view, piece_index = per_line("\n".join(self.lines[k:j]), self.starts[k])
            texts.append(view)
            index.extend(piece_index)
            index.append(self.starts[j - 1] + len(self.lines[j - 1]))  # the newline
            k = j
        return "\n".join(texts), index[:-1]

    @property
    def base(self) -> View:
        """NFKC, upper case, dashes as `-` and spaces as ` `."""
        if self._base is None:
            self._base = self._view(nfkc_upper_map)
        return self._base

    def joined(self, drop_spaces: bool) -> View:
        """Dashes (and spaces, if asked) between alphanumerics removed: where numbers are matched."""
        if drop_spaces not in self._joined:
            self._joined[drop_spaces] = join_separated(*self.base, drop_spaces)
        return self._joined[drop_spaces]

    def number_views(self) -> list[View]:
        """The views numbers are matched in: dash-joined, and also space-joined when that differs
        (most text has no space between two alphanumerics, and needs one pass, not two)."""
        dashes, spaces = self.joined(False), self.joined(True)
        return [dashes] if spaces[0] == dashes[0] else [dashes, spaces]

    @property
    def names(self) -> View:
        """Name keys as written: NFKC, upper case, spaces between name characters removed (hiragana
        stay; the registry turns them into katakana per run it looks up)."""
        if self._names is None:
            self._names = self._view(name_view)
        return self._names


def line_views(line: str) -> Chunk:
    """One line alone, as tests and the detector evaluation read it."""
    return Chunk((line,))


def chunks(lines: Sequence[str], first: int = 0) -> Iterator[Chunk]:
    """A segment's lines in chunks of at most MAX_LINES lines and about MAX_CHARS characters;
    `first` is the number of lines[0] in its segment."""
    start = 0
    if len(lines) <= MAX_LINES and sum(map(len, lines)) + len(lines) <= MAX_CHARS:
        if lines:  # (a letter: one chunk, without sizing it line by line)
            yield Chunk(lines[:], first)
        return
    while start < len(lines):
        end, size = start, 0
        while end < len(lines) and end - start < MAX_LINES and (size < MAX_CHARS or end == start):
            size += len(lines[end]) + 1
            end += 1
        yield Chunk(lines[start:end], first + start)
        start = end
