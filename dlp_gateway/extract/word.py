"""DOCX (python-docx): paragraphs and tables in document order; PPTX (python-pptx): each slide's
text frames and tables."""

from __future__ import annotations

import io

import docx
import pptx
from docx.table import Table

from dlp_gateway.extract.budget import Budget
from dlp_gateway.extract.table import table_segment
from dlp_gateway.extract.text import lines_segment
from dlp_gateway.model import Segment


def _table_rows(table: Table, budget: Budget, n: int) -> list[tuple[list[str], list[str]]]:
    rows = []
    for r, row in enumerate(table.rows, start=1):
        budget.check()
        cells = [cell.text for cell in row.cells]
        rows.append((cells, [f"!table {n} row {r}"] * len(cells)))
    return rows


def docx_segments(location: str, data: bytes, budget: Budget) -> list[Segment]:
    document = docx.Document(io.BytesIO(data))
    out: list[Segment] = []
    lines: list[str] = []
    tables = 0
    for block in document.iter_inner_content():
        budget.check()
        if isinstance(block, Table):
            tables += 1
            out.append(table_segment(location, _table_rows(block, budget, tables)))
        else:
            lines.extend(block.text.split("\n"))
    if lines:
        out.insert(0, lines_segment(location, lines))
    return out


def pptx_segments(location: str, data: bytes, budget: Budget) -> list[Segment]:
    deck = pptx.Presentation(io.BytesIO(data))
    out: list[Segment] = []
    for number, slide in enumerate(deck.slides, start=1):
        budget.check()
        where = f"{location}!slide {number}"
        lines: list[str] = []
        for shape in slide.shapes:
            if getattr(shape, "has_table", False):
                rows = [([c.text for c in row.cells], [""] * len(row.cells)) for row in shape.table.rows]
                out.append(table_segment(where, rows))
            elif getattr(shape, "has_text_frame", False):
                lines.extend(shape.text_frame.text.split("\n"))
        if lines:
            out.append(lines_segment(where, lines))
    return out
