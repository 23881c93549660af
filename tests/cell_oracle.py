"""The oracle for the column path (detect/cells.py), for the tests that hold the gateway to it:
which rows of a table are read cell by cell, and what reading each of their cells alone gives."""

from __future__ import annotations

from dlp_gateway.detect.detectors import Detectors
from dlp_gateway.detect.insurers import is_heading
from dlp_gateway.detect.split_names import joined, name_columns
from dlp_gateway.model import Detector, Finding, Segment


def labelled_rows(seg: Segment) -> set[int]:
    """A table's rows under a header each of whose cells is `title:value` with a title of that header."""
    out: set[int] = set()
    titles: set[str] | None = None
    for li, line in enumerate(seg.lines):
        if li in seg.headers:
            titles = set(line.split("\t"))
        elif titles is not None and all(c.partition(":")[0] in titles and ":" in c for c in line.split("\t")):
            out.add(li)
    return out if seg.kind == "table" else set()


def by_cells(detectors: Detectors, seg: Segment, si: int, li: int) -> list[Finding]:
    """The line form of every detector on each cell of the row alone, moved to its offset (a
    section heading read off the whole row); and a name split over 姓 and 名 columns joined
    (split_names, tested on its own in tests/test_cells.py)."""
    out, at = [], 0
    line = seg.lines[li]
    for cell in line.split("\t"):
        for f in detectors.line(cell, si, li):
            heading = is_heading(line) if f.detector == Detector.INSURER else f.heading
            out.append(f._replace(start=f.start + at, end=f.end + at, heading=heading))
        at += len(cell) + 1
    header = max(h for h in seg.headers if h < li)
    columns = name_columns(seg.lines[header].split("\t"))
    return out if columns is None else joined(out, line.split("\t"), columns, si, li)
