"""Plain-text and HTML parts → segments. Tab-separated lines (rows pasted from Excel) are read as
table rows, so a pasted list keeps its column headers."""

from __future__ import annotations

from dlp_gateway.extract.aligned import align_tables
from dlp_gateway.extract.html import html_to_lines
from dlp_gateway.extract.table import table_segment
from dlp_gateway.model import Segment


def unflow(text: str, delsp: bool) -> str:
    """RFC 3676 format=flowed: a line ending in a space continues on the next line."""
    out: list[str] = []
    current = ""
    for raw in text.split("\n"):
        line = raw[1:] if raw.startswith(" ") else raw  # space-stuffing
        if line.endswith(" ") and line != "-- ":  # "-- " is the signature separator, not a flow
            current += line[:-1] if delsp else line
            continue
        out.append(current + line)
        current = ""
    if current:
        out.append(current)
    return "\n".join(out)


def lines_segment(location: str, lines: list[str]) -> Segment:
    lines = align_tables(lines)
    if "\t" not in "\n".join(lines):  # one scan in C, not a generator step per line
        return Segment(location, tuple(lines))
    seg = table_segment(location, ((line.split("\t"), [f":line {n + 1}"]) for n, line in enumerate(lines)))
    return Segment(location, seg.lines, headers=seg.headers)  # keep ":line N" provenance for text


def text_segment(location: str, text: str, *, flowed: bool = False, delsp: bool = False) -> Segment:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if flowed:
        text = unflow(text, delsp)
    return lines_segment(location, text.split("\n"))


def html_segment(location: str, html: str) -> Segment:
    return lines_segment(location, html_to_lines(html))
