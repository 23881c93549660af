"""CSV and TSV attachments: BOM sniffing, cp932 (as Excel writes it) or UTF-8, each line a row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from dlp_gateway.extract.budget import Budget
from dlp_gateway.extract.table import table_segment
from dlp_gateway.model import Segment
from dlp_gateway.parse.charsets import decode


def decode_csv(data: bytes, label: str | None) -> str:
    """UTF-8 with a BOM, UTF-16/32 (Excel's "Unicode text"), or what the bytes and label say."""
    return decode(data, label)[0]


def csv_segment(location: str, data: bytes, label: str | None, budget: Budget, text: str | None = None) -> Segment:
    """The rows of a CSV/TSV; `text` when the caller decoded it already (a second reading)."""
    if text is None:
        text = decode_csv(data, label)
    first = text[:4096].split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    csv.field_size_limit(1 << 20)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows() -> Iterator[tuple[list[str], list[str]]]:
        try:
            for row in reader:
                budget.check()
                yield row, [f":line {reader.line_num}"]
        except csv.Error:
            return  # a malformed tail: what was read is still scanned

    return table_segment(location, rows())
