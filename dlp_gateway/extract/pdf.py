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

import contextlib
import ctypes
import re
import threading
from collections.abc import Callable, Iterator

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from dlp_gateway.errors import EncryptedError, LimitExceededError
from dlp_gateway.extract.budget import Budget
from dlp_gateway.extract.package import Embedded
from dlp_gateway.extract.table import table_segment
from dlp_gateway.extract.text import lines_segment
from dlp_gateway.model import Segment, UnscannableKind

_CELL_END = re.compile(r"[ \r\n]")
# PDFium is not thread-safe; scans run one per process, but `scan` and tests may share a process.
_LOCK = threading.Lock()
Cell = tuple[float, float, str]  # baseline y, x, text


def pdf_segments(location: str, data: bytes, budget: Budget) -> list[Segment | Embedded]:
    """Each page's text as table rows, then what a viewer shows beside it: annotations (comments,
    sticky notes, free text) and form fields (`契約者名：山田 太郎`), and the files attached to
    the document, handed back to be read like attachments."""
    with _LOCK:
        try:
            doc = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
                raise EncryptedError from exc
            raise
        try:
            with contextlib.suppress(pdfium.PdfiumError):
                doc.init_forms()  # form fields' values are read through the form environment
            out: list[Segment | Embedded] = []
            for number in range(len(doc)):
                budget.check()
                page = doc[number]
                try:
                    rows = [(cells, [""]) for cells in _page_rows(page)]
                    notes = list(_annotations(page, getattr(doc, "formenv", None)))
                finally:
                    page.close()
                out.append(table_segment(f"{location}:page {number + 1}", rows))
                if notes:
                    out.append(lines_segment(f"{location}:page {number + 1} (annotations and form fields)", notes))
            out.extend(_attachments(doc, location, budget))
            return out
        finally:
            doc.close()


def _string(get: Callable[..., int], *args: object) -> str:
    """A UTF-16 string from one of PDFium's two-call getters (ask the size, then fill)."""
    size = get(*args, None, 0)
    if size <= 2:
        return ""
    buffer = (pdfium_c.FPDF_WCHAR * (size // 2))()
    get(*args, buffer, size)
    return bytes(memoryview(buffer).cast("B"))[: size - 2].decode("utf-16-le", "replace")


def _annotations(page: pdfium.PdfPage, form: object) -> Iterator[str]:
    for i in range(pdfium_c.FPDFPage_GetAnnotCount(page.raw)):
        annot = pdfium_c.FPDFPage_GetAnnot(page.raw, i)
        if not annot:
            continue
        try:
            if form is not None and pdfium_c.FPDFAnnot_GetSubtype(annot) == pdfium_c.FPDF_ANNOT_WIDGET:
                name = _string(pdfium_c.FPDFAnnot_GetFormFieldName, form, annot)
                value = _string(pdfium_c.FPDFAnnot_GetFormFieldValue, form, annot)
                if value.strip():
                    yield f"{name}：{value}" if name else value  # the field's name labels its value
            for key in (b"Contents", b"RC"):
                text = _string(pdfium_c.FPDFAnnot_GetStringValue, annot, key)
                if text.strip():
                    yield from text.splitlines()
                    break
        finally:
            pdfium_c.FPDFPage_CloseAnnot(annot)


def _pdf_text_string(name: str) -> str:
    """A file name PDFium handed over still in UTF-16BE with its BOM (as PDF text strings are
    written), read one byte a character; and no control characters in a location."""
    if name.startswith("\xfe\xff"):
        name = name.encode("latin-1", "replace")[2:].decode("utf-16-be", "replace")
    return "".join(ch for ch in name if ch >= " ")


def _attachments(doc: pdfium.PdfDocument, location: str, budget: Budget) -> Iterator[Embedded]:
    limits = budget.limits
    for i in range(pdfium_c.FPDFDoc_GetAttachmentCount(doc.raw)):
        budget.check()
        attachment = doc.get_attachment(i)
        name = _pdf_text_string(attachment.get_name()) or f"attachment {i + 1}"
        size = ctypes.c_ulong()
        pdfium_c.FPDFAttachment_GetFile(attachment.raw, None, 0, size)
        if budget.decompressed + size.value > limits.max_decompressed_bytes:
            raise LimitExceededError(
                f"attached files expand to more than {limits.max_decompressed_bytes} bytes", UnscannableKind.EXPAND
            )
        budget.add_bytes(size.value)
        data = bytes(attachment.get_data()) if size.value else b""
        yield Embedded(f"{location}/{name}", name, data)


def _page_rows(page: pdfium.PdfPage) -> Iterator[list[str]]:
    textpage = page.get_textpage()
    try:
        cells = list(_cells(textpage))
    finally:
        textpage.close()
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
