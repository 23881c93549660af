"""Plain-text tables: a list pasted into a body with its columns aligned by spaces (or drawn with
box rules) is a table, read row by row like a spreadsheet's.

The header row gives the columns: a line whose cells (split at runs of two or more spaces, a
full-width space, a tab or a box rule) are two column titles at least (detect/labels.py) and hold no
4-digit number. Each following line, up to a blank line, is a row: split the same way when that
gives as many cells as the header has; otherwise each word goes to the column whose title starts
at or before it on screen (full-width characters are two columns wide), so 「山田　太郎」 stays one
name under 氏名. The rows are handed on as tab-separated cells, one line for one line.
"""

from __future__ import annotations

import unicodedata

import regex

from dlp_gateway.extract.table import is_header_row

_BOX = "│┃|｜┆┊╎║"
# A gap between cells: a tab or a box rule (with the spaces around it), two spaces or more; in a
# header row a single full-width space too (a row's may be the one inside 山田　太郎).
_GAP = regex.compile(rf"[ \u3000]*[\t{_BOX}][ \u3000\t{_BOX}]*|[ \u3000]{{2,}}")
_HEADER_GAP = regex.compile(rf"[ \u3000]*[\t{_BOX}][ \u3000\t{_BOX}]*|[ ]{{2,}}[ \u3000]*|\u3000[ \u3000]*")
_RULE = regex.compile(rf"^[\s{_BOX}\-=+─━┼╋┠┨┏┓┗┛┣┫┳┻┯┷┿╂├┤┌┐└┘＝ー－]*$")
_WORD = regex.compile(rf"[^\s\u3000{_BOX}]+")
_ROW_CHARS = 400  # a longer line is prose, not a row


def _maybe_table(text: str) -> bool:
    """Whether the text holds a gap (two spaces, an ideographic space) or a box rule: substring
    tests in C, four times faster than one search for the three over a letter of 30 KB."""
    return "  " in text or "\u3000" in text or any(rule in text for rule in _BOX)


def _cells(line: str, gap: regex.Pattern[str] = _GAP) -> list[str]:
    return [c for c in gap.split(line.strip(f" \u3000\t{_BOX}")) if c]


def _row(line: str, columns: list[int]) -> list[str]:
    """A row's cells: split at its gaps when that gives one cell per column (a row with no wide gap
    at all may be split by single full-width spaces), otherwise by the screen positions of its
    words (an empty cell leaves no gap of its own)."""
    cells = _cells(line)
    if len(cells) == 1:
        cells = _cells(line, _HEADER_GAP)
    return cells if len(cells) == len(columns) else _by_position(line, columns)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _starts(line: str) -> list[tuple[int, str]]:
    """Each word of the line with the screen column it starts at."""
    out, col, at = [], 0, 0
    for m in _WORD.finditer(line):
        col += _width(line[at : m.start()])
        out.append((col, m.group()))
        col += _width(m.group())
        at = m.end()
    return out


def _by_position(line: str, columns: list[int]) -> list[str]:
    cells = [""] * len(columns)
    for start, word in _starts(line):
        j = max((i for i, c in enumerate(columns) if c <= start + 1), default=0)
        cells[j] = f"{cells[j]} {word}" if cells[j] else word
    return cells


def _header(line: str) -> list[int] | None:
    """The screen columns the titles start at, if the line is a header row."""
    if "\t" in line or len(line) > _ROW_CHARS or not _maybe_table(line):
        return None  # (no gap: one cell, never a header; most lines of a letter hold none)
    cells = _cells(line, _HEADER_GAP)
    if not is_header_row(cells):
        return None
    starts = [c for c, _ in _starts(line)]
    words = [w for _, w in _starts(line)]
    # A title of several words ("Policy No") starts where its first word does.
    columns, k = [], 0
    for cell in cells:
        while k < len(words) and not cell.startswith(words[k]):
            k += 1
        if k < len(words):
            columns.append(starts[k])
            k += len(_WORD.findall(cell))
    return columns if len(columns) == len(cells) else None


def align_tables(lines: list[str]) -> list[str]:
    """The lines with each aligned table's rows written as tab-separated cells."""
    if not _maybe_table("\n".join(lines)):
        return lines  # (most letters hold no gap and no rule)
    out = list(lines)
    columns: list[int] | None = None
    for i, line in enumerate(lines):
        if columns is not None and line.strip(" \u3000") and len(line) <= _ROW_CHARS:
            if _RULE.match(line):
                continue
            if len(_WORD.findall(line)) < 2:
                columns = None
            else:
                out[i] = "\t".join(_row(line, columns))
                continue
        columns = None
        header = _header(line)
        if header is not None:
            columns = header
            out[i] = "\t".join(_cells(line, _HEADER_GAP))
    return out
