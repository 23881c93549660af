"""Rows of cells → table lines in which each cell carries its column header.

`証券番号:8100000001	契約者名:山田 太郎	引受保険会社:東京海上日動` lets the ordinary line
detectors see a row's policy number, name and insurer together, with the header as the label.
The header row is found wherever it sits (titles above it are normal in Excel lists), and a
later header-like row starts a new table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from itertools import compress

import regex

from dlp_gateway.model import CELL_SEPARATOR, Segment

HEADER_WORD = regex.compile(
    r"証券|番号|契約者|契約|氏名|名前|お客|顧客|被保険者|満期|保険会社|引受|種目|保険種類|フリガナ|ｶﾅ|カナ|"
    r"住所|電話|生年月日|保険料|始期|終期|代理店|担当|No\.?$|policy|name|insurer|expir",
    regex.IGNORECASE,
)
_DIGITS = regex.compile(r"\d{4}")
SEP = CELL_SEPARATOR


def _header_words(filled: Sequence[str]) -> bool:
    """Whether the filled cells of a row without a 4-digit number name columns: two cells at least,
    all short, and two of them header words."""
    return (
        len(filled) >= 2 and all(len(c) <= 24 for c in filled) and sum(1 for c in filled if HEADER_WORD.search(c)) >= 2
    )


# What _clean changes: white space other than a space, two spaces, a space at either end of a cell.
_OTHER_SPACE = re.compile(r"[^\S ]")


def _unclean(text: str) -> bool:
    """Whether cells joined by NULs need _clean. A class search and substring tests: one pattern
    with the alternatives took 2 µs a row, as long as all the rest of the table building."""
    return (
        _OTHER_SPACE.search(text) is not None
        or "  " in text
        or " \x00" in text
        or "\x00 " in text
        or text[:1] == " "
        or text[-1:] == " "
    )


def _clean(value: str) -> str:
    """One line, single ASCII spaces (an ideographic space too: 山田　太郎 → 山田 太郎)."""
    return " ".join(value.split())


def _clean_row(cells: Sequence[str], text: str | None = None) -> Sequence[str]:
    """The cells cleaned; `text` is the cells joined by NULs, if already made. One search over the
    row: most rows of a list need no cleaning at all."""
    return [_clean(c) for c in cells] if _unclean("\x00".join(cells) if text is None else text) else cells


def table_segment(
    location: str, rows: Iterable[tuple[Sequence[str], Sequence[str]]], columns: Sequence[str] = ()
) -> Segment:
    """`rows` yields (cells, refs): cell texts and each cell's location suffix (e.g. "!B3"), or one
    suffix for the whole row (":line 7"). With `columns` (a sheet's "!A", "!B", …), refs is the
    row's label alone ("3"): a cell's suffix ("!B3") is put together only for a record's cell
    (Segment.where); making one for every cell took a third of a spreadsheet's reading time."""
    lines: list[str] = []
    refs: list[tuple[str, ...]] = []
    cells_of: list[tuple[int, ...]] = []  # with `columns`: the column of each cell written
    # Each header with an ASCII colon: a full-width one is not NFKC-stable, and every detector
    # would pay for normalising each row.
    prefixes: list[str] = []
    for cells, cell_refs in rows:
        text = "\x00".join(cells)
        values = _clean_row(cells, text)
        kept = list(compress(range(len(values)), values))  # the filled cells, in C
        if not kept:
            lines.append("")
            refs.append((cell_refs[0] if cell_refs else "",))
            cells_of.append((0,))  # an empty row is told by its first cell
            continue
        parts = [values[i] for i in kept]
        # Most rows of a list hold a number, and one search over the row settles them: not a header.
        # Cleaning changes white space only, so it runs on the text already joined.
        if not _DIGITS.search(text) and _header_words(parts):
            prefixes = [f"{h}:" if h else "" for h in values]
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
        return Segment(location, tuple(lines), "table", tuple(refs), tuple(columns), tuple(cells_of))
    return Segment(location, tuple(lines), kind="table", refs=tuple(refs))
