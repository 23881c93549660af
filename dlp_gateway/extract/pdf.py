"""PDF text through PDFium (pypdfium2), rebuilt into table rows.

PDFium is the engine Chrome opens untrusted PDFs with; it decodes CID-keyed Japanese fonts with its
own CMaps and reads a page of a list in about a millisecond — pypdf's layout mode took 80 ms a
page (bench/extract_throughput.py). Its text page puts a generated space where one text run ends
and the next begins: those are the cell boundaries (a space inside a cell, 山田 太郎, is the PDF's
own). Cells are placed by the origin of their first character, grouped into rows by baseline and
ordered left to right, so a list drawn column by column still reads row by row. Text laid out in
columns with runs of spaces is cut where a space is followed by a gap wider than half an em.
"""

from __future__ import annotations

import ctypes
import re
import threading
from collections.abc import Iterator

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from dlp_gateway.errors import EncryptedError
from dlp_gateway.extract.budget import Budget
from dlp_gateway.extract.table import table_segment
from dlp_gateway.model import Segment

_CELL_END = re.compile(r"[ \r\n]")
# PDFium is not thread-safe; scans run one per process, but `scan` and tests may share a process.
_LOCK = threading.Lock()
Cell = tuple[float, float, str]  # baseline y, x, text


def pdf_segments(location: str, data: bytes, budget: Budget) -> list[Segment]:
    with _LOCK:
        try:
            doc = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
                raise EncryptedError from exc
            raise
        try:
            out = []
            for number in range(len(doc)):
                budget.check()
                rows = [(cells, [""]) for cells in _page_rows(doc[number])]
                out.append(table_segment(f"{location}:page {number + 1}", rows))
            return out
        finally:
            doc.close()


def _page_rows(page: pdfium.PdfPage) -> Iterator[list[str]]:
    textpage = page.get_textpage()
    try:
        cells = list(_cells(textpage))
    finally:
        textpage.close()
        page.close()
    rows: list[tuple[float, list[tuple[float, str]]]] = []
    for y, x, text in sorted(cells, key=lambda c: (-c[0], c[1])):
        if rows and abs(rows[-1][0] - y) <= 2.0:
            rows[-1][1].append((x, text))
        else:
            rows.append((y, [(x, text)]))
    for _, row in rows:
        yield [text.strip() for _, text in sorted(row)]


def _cells(textpage: pdfium.PdfTextPage) -> Iterator[Cell]:
    """Runs of characters between generated spaces and line breaks, with the origin of each."""
    text = textpage.get_text_range()
    raw = textpage.raw
    one_to_one = pdfium_c.FPDFText_CountChars(raw) == len(text)
    x, y = ctypes.c_double(), ctypes.c_double()
    start = 0
    for m in _CELL_END.finditer(text + "\n"):
        at = m.start()
        if m.group() == " ":
            index = at if one_to_one else pdfium_c.FPDFText_GetCharIndexFromTextIndex(raw, at)
            if index < 0 or not (pdfium_c.FPDFText_IsGenerated(raw, index) or _wide_gap(raw, index)):
                continue  # the PDF's own space, inside a cell
        if at > start and text[start:at].strip():
            first = start if one_to_one else pdfium_c.FPDFText_GetCharIndexFromTextIndex(raw, start)
            pdfium_c.FPDFText_GetCharOrigin(raw, first, x, y)
            yield y.value, x.value, text[start:at]
        start = at + 1


def _wide_gap(raw: object, index: int) -> bool:
    """A space followed by a gap of more than half an em: PDFium keeps one space of a run of spaces
    (text laid out in columns with spaces), and the next character's position tells the rest."""
    left, right, bottom, top, x, y = (ctypes.c_double() for _ in range(6))
    if not pdfium_c.FPDFText_GetCharBox(raw, index, left, right, bottom, top):
        return False
    if not pdfium_c.FPDFText_GetCharOrigin(raw, index + 1, x, y):
        return False
    return bool(x.value - right.value > 0.5 * pdfium_c.FPDFText_GetFontSize(raw, index))
