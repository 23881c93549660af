"""Dates (expiry dates, 満期日): 2024/10/01, 2024年10月1日, 令和6年10月1日 → ISO 8601."""

from __future__ import annotations

import datetime as dt
import unicodedata

import regex

from dlp_gateway.model import Finding

DETECTOR = "date"
DATE = regex.compile(
    r"(?:(?P<era>令和|平成|R|H)\s*(?P<ey>\d{1,2}|元)|(?P<y>(?:19|20)\d{2}))\s*[/\-.年]\s*"
    r"(?P<m>\d{1,2})\s*[/\-.月]\s*(?P<d>\d{1,2})\s*日?"
)
_ERA_BASE = {"令和": 2018, "R": 2018, "平成": 1988, "H": 1988}


def find(line: str, segment: int, line_no: int) -> list[Finding]:
    text = unicodedata.normalize("NFKC", line)
    if len(text) != len(line):
        return []  # offsets would not map back; such lines carry compatibility ligatures, not dates
    out: list[Finding] = []
    matches = list(DATE.finditer(text, timeout=0.5))  # a timeout fails the scan closed
    for m in matches:
        if m.group("era"):
            ey = m.group("ey")
            year = _ERA_BASE[m.group("era")] + (1 if ey == "元" else int(ey))
        else:
            year = int(m.group("y"))
        try:
            value = dt.date(year, int(m.group("m")), int(m.group("d"))).isoformat()
        except ValueError:
            continue
        out.append(Finding(DETECTOR, value, segment, line_no, m.start(), m.end(), confidence=0.9))
    return out
