"""HTML → lines of text, with each table row kept on one line (cells separated by tabs).

A table is read as a grid, the way a mail program draws it: paragraphs and line breaks inside a
cell stay in that cell (Outlook wraps every cell's text in `<p class=MsoNormal>`), a cell with
rowspan is repeated in each row it spans (a merged 引受保険会社 cell labels every row beside it),
and a colspan keeps the columns after it under their own headers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from dlp_gateway.errors import LimitExceededError
from dlp_gateway.model import UnscannableKind

_BREAKS = {"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote"}
_SKIP = {"script", "style"}  # code, not text: a mail program runs no script and shows no CSS
# Attributes a mail program shows: tooltips, image alternatives, form values and placeholders.
_SHOWN_ATTRIBUTES = ("title", "alt", "value", "placeholder", "aria-label")
MAX_SPAN = 1000  # rows or columns one cell may span
# Characters rowspans may repeat, beyond the document's own length: a hostile table (a long cell
# spanning a thousand rows, many times over) stops here with a limit, never a memory blow-up.
MAX_REPEATED = 8_000_000


def _span(attrs: list[tuple[str, str | None]], name: str) -> int:
    value = next((v for k, v in attrs if k == name), None) or "1"
    digits = "".join(ch for ch in value.strip()[:6] if ch.isdigit())
    return max(1, min(int(digits or 1), MAX_SPAN))


@dataclass
class _Span:
    rows: int  # rows below still covered
    text: str


@dataclass
class _Table:
    row_open: bool = False
    col: int = 0
    spans: dict[int, _Span] = field(default_factory=dict)  # column → the cell spanning down into it
    cell_start: int | None = None  # where the open cell's text begins in `out`
    cell_col: int = 0
    rowspan: int = 1
    colspan: int = 1


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.tables: list[_Table] = []
        self.repeated = 0

    # -- the table grid

    def _in_cell(self) -> bool:
        return bool(self.tables) and self.tables[-1].cell_start is not None

    def _spanned(self, t: _Table, upto: int | None) -> None:
        """Write the cells spanned from rows above, from the current column up to `upto` (None:
        every remaining one, at the end of a row)."""
        while t.spans and (upto is None or t.col in t.spans):
            if t.col not in t.spans:
                if upto is None and t.col < max(t.spans):
                    self.out.append("\t")  # a gap before a later spanned column
                    t.col += 1
                    continue
                break
            span = t.spans[t.col]
            self.repeated += len(span.text)
            if self.repeated > MAX_REPEATED:
                raise LimitExceededError(
                    "HTML table: merged cells repeat more text than the limit", UnscannableKind.MORE_THAN
                )
            self.out.append("\t" + span.text)
            span.rows -= 1
            if span.rows <= 0:
                del t.spans[t.col]
            t.col += 1

    def _close_cell(self, t: _Table) -> None:
        if t.cell_start is None:
            return
        text = " ".join("".join(self.out[t.cell_start :]).replace("\xa0", " ").split(" "))
        text = " ".join(text.split()) if "\n" not in text else text  # (a nested table keeps its rows)
        self.out[t.cell_start :] = [text]
        if t.rowspan > 1:
            t.spans[t.cell_col] = _Span(t.rowspan - 1, text)
        t.col = t.cell_col + t.colspan
        self.out.append("\t" * (t.colspan - 1))
        t.cell_start = None

    def _close_row(self, t: _Table) -> None:
        self._close_cell(t)
        if t.row_open:
            self._spanned(t, None)
            self.out.append("\n")
        t.row_open = False

    def _open_row(self, t: _Table) -> None:
        self._close_row(t)
        self.out.append("\n")
        t.row_open, t.col = True, 0

    def _open_cell(self, t: _Table, attrs: list[tuple[str, str | None]]) -> None:
        self._close_cell(t)
        if not t.row_open:
            self._open_row(t)
        self._spanned(t, t.col)
        self.out.append("\t")
        t.cell_start, t.cell_col = len(self.out), t.col
        t.rowspan, t.colspan = _span(attrs, "rowspan"), _span(attrs, "colspan")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
            return
        shown = [v for k, v in attrs if k in _SHOWN_ATTRIBUTES and v and v.strip()]
        if shown and not self.skip:
            # inline, where the image or the tooltip is: a table row stays one line
            self.out.append(" " + " ".join(" ".join(v.split()) for v in shown) + " ")
        if tag == "table":
            self.out.append("\n")
            self.tables.append(_Table())
        elif tag == "tr" and self.tables:
            self._open_row(self.tables[-1])
        elif tag in ("td", "th"):
            if self.tables:
                self._open_cell(self.tables[-1], attrs)
            else:
                self.out.append("\t")
        elif tag in _BREAKS or tag == "title":
            self.out.append(" " if self._in_cell() else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "table" and self.tables:
            self._close_row(self.tables.pop())
            self.out.append("\n")
        elif tag == "tr" and self.tables:
            self._close_row(self.tables[-1])
        elif tag in ("td", "th") and self.tables:
            self._close_cell(self.tables[-1])
        elif tag in _BREAKS or tag == "title":
            self.out.append(" " if self._in_cell() else "\n")

    def handle_comment(self, data: str) -> None:
        # Comments are one "view source" away, and hidden lists have been found in them: each
        # is read on lines of its own (never joined to the table row it sits in). Outlook's
        # conditional comments hold markup; their tags are dropped and their text kept.
        if not self.skip and data.strip():
            text = _Text()
            text.feed(data)
            text.close()
            self.out.append("\n" + "".join(text.out).strip() + "\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(data.replace("\r", " ").replace("\n", " "))


def html_to_lines(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    parser.close()
    while parser.tables:  # tables left open by the end of the document
        parser._close_row(parser.tables.pop())
    lines = "".join(parser.out).split("\n")
    return [" ".join(line.replace("\xa0", " ").split(" ")).strip("\t ") for line in lines]
