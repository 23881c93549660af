"""PDF text with pypdf's layout mode, which keeps a table row on one line (DESIGN §6); columns
separated by runs of spaces become cells. CID-keyed Japanese fonts are decoded by pypdf's CMaps."""

from __future__ import annotations

import io

import pypdf
import regex

from dlp_gateway.errors import EncryptedError
from dlp_gateway.extract.budget import Budget
from dlp_gateway.extract.table import table_segment
from dlp_gateway.model import Segment

_COLUMN_GAP = regex.compile(r"\s{2,}")


def pdf_segments(location: str, data: bytes, budget: Budget) -> list[Segment]:
    reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted and not reader.decrypt(""):
        raise EncryptedError
    out = []
    for number, page in enumerate(reader.pages, start=1):
        budget.check()
        text = page.extract_text(extraction_mode="layout")
        rows = [(_COLUMN_GAP.split(line.strip()), [""]) for line in text.split("\n") if line.strip()]
        out.append(table_segment(f"{location}:page {number}", rows))
    return out
