"""Dates (expiry dates, 満期日): 2024/10/01, 2024年10月1日, 令和6年10月1日 → ISO 8601."""

from __future__ import annotations

import datetime as dt
import unicodedata

import regex

from dlp_gateway.detect.chunk import Chunk
from dlp_gateway.model import Detector, Finding

DETECTOR = Detector.DATE
_SP = r"[^\S\n]"  # white space within a line (detect/chunk.py)
DATE = regex.compile(
    rf"(?:(?P<era>令和|平成|R|H){_SP}*(?P<ey>\d{{1,2}}|元)|(?P<y>(?:19|20)\d{{2}})){_SP}*[/\-.年]{_SP}*"
    rf"(?P<m>\d{{1,2}}){_SP}*[/\-.月]{_SP}*(?P<d>\d{{1,2}}){_SP}*日?"
)
_ERA_BASE = {"令和": 2018, "R": 2018, "平成": 1988, "H": 1988}


def _normalised(chunk: Chunk) -> str:
    """The chunk under NFKC, a line whose length NFKC changes blanked: its offsets would not map
    back (such lines carry compatibility ligatures, not dates)."""
    text = chunk.text
    if unicodedata.is_normalized("NFKC", text):
        return text
    lines = []
    for line in chunk.lines:
        norm = unicodedata.normalize("NFKC", line)
        lines.append(norm if len(norm) == len(line) else " " * len(line))
    return "\n".join(lines)


def find(chunk: Chunk, segment: int) -> list[Finding]:
    if not chunk.has_digit:
        return []
    out: list[Finding] = []
    seen: dict[str, str | None] = {}  # a list repeats its dates; nothing is kept past the chunk
    for m in DATE.finditer(_normalised(chunk), timeout=0.5):  # a timeout fails the scan closed
        text = m.group()
        if text not in seen:
            seen[text] = _iso(m)
        value = seen[text]
        if value is None:
            continue
        k, start = chunk.locate(m.start())
        out.append(Finding(DETECTOR, value, segment, chunk.line_no(k), start, start + len(text), confidence=0.9))
    return out


def _iso(m: regex.Match[str]) -> str | None:
    """The date as ISO 8601, or None if there is no such day."""
    if m.group("era"):
        ey = m.group("ey")
        year = _ERA_BASE[m.group("era")] + (1 if ey == "元" else int(ey))
    else:
        year = int(m.group("y"))
    try:
        return dt.date(year, int(m.group("m")), int(m.group("d"))).isoformat()
    except ValueError:
        return None
