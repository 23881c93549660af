"""Rows of cells → table lines in which each cell carries its column header.

`証券番号:8100000001	契約者名:山田 太郎	引受保険会社:東京海上日動` lets the ordinary line
detectors see a row's policy number, name and insurer together, with the header as the label.
The header row is found wherever it sits (titles above it are normal in Excel lists), and a
later header-like row starts a new table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import regex

from dlp_gateway.model import CELL_SEPARATOR, Segment

HEADER_WORD = regex.compile(
    r"証券|番号|契約者|契約|氏名|名前|お客|顧客|被保険者|満期|保険会社|引受|種目|保険種類|フリガナ|ｶﾅ|カナ|"
    r"住所|電話|生年月日|保険料|始期|終期|代理店|担当|No\.?$|policy|name|insurer|expir",
    regex.IGNORECASE,
)
_DIGITS = regex.compile(r"\d{4}")
SEP = CELL_SEPARATOR


def is_header(cells: Sequence[str]) -> bool:
    filled = [c for c in cells if c]
    if len(filled) < 2 or _DIGITS.search("\t".join(filled)) or any(len(c) > 24 for c in filled):
        return False  # most rows of a list hold a number: one search over the row settles them
    return sum(1 for c in filled if HEADER_WORD.search(c)) >= 2


# What _clean changes: white space other than a space, two spaces, a space at either end of a cell.
_UNCLEAN = re.compile(r"[^\S ]| {2}|^ | $| \x00|\x00 ")


def _clean(value: str) -> str:
    """One line, single ASCII spaces (an ideographic space too: 山田　太郎 → 山田 太郎)."""
    return " ".join(value.split())


def _clean_row(cells: Sequence[str]) -> list[str]:
    # One search over the row: most rows of a list need no cleaning at all.
    return list(cells) if not _UNCLEAN.search("\x00".join(cells)) else [_clean(c) for c in cells]


def table_segment(location: str, rows: Iterable[tuple[Sequence[str], Sequence[str]]]) -> Segment:
    """`rows` yields (cells, refs): cell texts and each cell's location suffix (e.g. "!B3"), or one
    suffix for the whole row (":line 7")."""
    lines: list[str] = []
    refs: list[tuple[str, ...]] = []
    # Each header with an ASCII colon: a full-width one is not NFKC-stable, and every detector
    # would pay for normalising each row.
    prefixes: list[str] = []
    for cells, cell_refs in rows:
        values = _clean_row(cells)
        kept = [i for i, value in enumerate(values) if value]
        if not kept:
            lines.append("")
            refs.append((cell_refs[0] if cell_refs else "",))
            continue
        parts = [values[i] for i in kept]
        if is_header(parts):
            prefixes = [f"{h}:" if h else "" for h in values]
        elif kept[-1] < len(prefixes):  # most rows: every filled cell under a header
            parts = [prefixes[i] + values[i] for i in kept]
        elif prefixes:
            parts = [prefixes[i] + values[i] if i < len(prefixes) else values[i] for i in kept]
        lines.append(SEP.join(parts))
        if len(cell_refs) > 1:
            refs.append(tuple([cell_refs[i] if i < len(cell_refs) else "" for i in kept]))
        else:
            refs.append(tuple(cell_refs))
    return Segment(location, tuple(lines), kind="table", refs=tuple(refs))
