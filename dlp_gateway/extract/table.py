"""Rows of cells → table lines in which each cell carries its column header.

`証券番号:8100000001	契約者名:山田 太郎	引受保険会社:東京海上日動` lets the ordinary line
detectors see a row's policy number, name and insurer together, with the header as the label.
The header row is found wherever it sits (titles above it are normal in Excel lists), and a
later header-like row starts a new table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import regex

from dlp_gateway.model import Segment

HEADER_WORD = regex.compile(
    r"証券|番号|契約者|契約|氏名|名前|お客|顧客|被保険者|満期|保険会社|引受|種目|保険種類|フリガナ|ｶﾅ|カナ|"
    r"住所|電話|生年月日|保険料|始期|終期|代理店|担当|No\.?$|policy|name|insurer|expir",
    regex.IGNORECASE,
)
_DIGITS = regex.compile(r"\d{4}")
SEP = "\t"


def is_header(cells: Sequence[str]) -> bool:
    filled = [c for c in cells if c]
    if len(filled) < 2 or any(len(c) > 24 or _DIGITS.search(c) for c in filled):
        return False
    return sum(1 for c in filled if HEADER_WORD.search(c)) >= 2


def _clean(value: str) -> str:
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


def table_segment(location: str, rows: Iterable[tuple[Sequence[str], Sequence[str]]]) -> Segment:
    """`rows` yields (cells, refs): cell texts and each cell's location suffix (e.g. "!B3")."""
    lines: list[str] = []
    refs: list[tuple[tuple[int, str], ...]] = []
    header: list[str] = []
    for cells, cell_refs in rows:
        values = [_clean(c) for c in cells]
        if is_header(values):
            header = values
        elif not any(values):
            lines.append("")
            refs.append(((0, cell_refs[0] if cell_refs else ""),))
            continue
        parts: list[str] = []
        line_refs: list[tuple[int, str]] = []
        offset = 0
        for i, value in enumerate(values):
            if not value:
                continue
            label = header[i] if header and i < len(header) and header[i] and values is not header else ""
            # An ASCII colon: a full-width one is not NFKC-stable, and every detector would pay
            # for normalising each row.
            text = f"{label}:{value}" if label else value
            line_refs.append((offset, cell_refs[i] if i < len(cell_refs) else ""))
            parts.append(text)
            offset += len(text) + len(SEP)
        lines.append(SEP.join(parts))
        refs.append(tuple(line_refs))
    return Segment(location, tuple(lines), kind="table", refs=tuple(refs))
