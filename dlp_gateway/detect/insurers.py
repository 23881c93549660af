"""Insurer mentions: configured names and aliases, Japanese or Latin, longest first; and an
insurer's `codes` (TMN, SJ: what the agency system exports) where an underwriter label or column
holds one as its whole value — a short code anywhere else is just letters."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import regex

from dlp_gateway.config.schema import Insurer
from dlp_gateway.detect.chunk import Chunk
from dlp_gateway.detect.labels import LabelKind, has_underwriter_hint, label_at
from dlp_gateway.model import Detector, Finding

DETECTOR = Detector.INSURER
REGEX_TIMEOUT = 0.5
# A heading names the insurer of the section below it: 「■東京海上日動 ご契約分」「【損保ジャパン】」.
HEADING = regex.compile(r"^\s*[■□●○◆◇▼▽★☆◎【\[［＜<《〈]")


def is_heading(line: str) -> bool:
    """Whether a line is a section heading: a mark at its start, and short."""
    return bool(HEADING.match(line)) and len(line.strip()) <= 60


class MentionFinder:
    def __init__(self, insurers: Iterable[Insurer]) -> None:
        insurers = tuple(insurers)
        self.by_text: dict[str, str] = {}
        for ins in insurers:
            for mention in ins.mentions:
                if mention.strip():
                    self.by_text[mention.casefold()] = ins.id
        alternatives = sorted(self.by_text, key=len, reverse=True)
        self.pattern = (
            regex.compile("|".join(regex.escape(a) for a in alternatives), regex.IGNORECASE) if alternatives else None
        )
        # The same alternatives over case-folded text, by the standard library's engine: a third
        # of a scan worker's time on a letter went to the case-insensitive search above (220 µs
        # against 55 µs for 6 KB). Literals only: no backtracking for a timeout to bound.
        self.folded = re.compile("|".join(re.escape(a) for a in alternatives)) if alternatives else None
        self.by_code = {code.casefold(): ins.id for ins in insurers for code in ins.codes if code.strip()}
        codes = sorted(self.by_code, key=len, reverse=True)
        # A whole cell or value: after a label separator, ended by the cell or the line.
        self.codes = (
            regex.compile(
                rf"(?<=[:：\s]|^)(?:{'|'.join(regex.escape(c) for c in codes)})(?=[\t\n]|$)", regex.I | regex.M
            )
            if codes
            else None
        )

    def _mentions(self, text: str) -> Iterator[re.Match[str] | regex.Match[str]]:
        """The case-insensitive search for the mentions, the same matches either way: over the
        case-folded text where folding keeps every character one character (offsets stay put, and
        a character's full and simple folds are then the same: tests/test_detect.py holds the two to
        each other), else over the text itself (ß, İ and the like fold to two)."""
        folded = text.casefold()
        if self.folded is not None and len(folded) == len(text):
            return self.folded.finditer(folded)
        if self.pattern is None:
            return iter(())
        return self.pattern.finditer(text, timeout=REGEX_TIMEOUT)  # a timeout fails the scan closed

    def find(self, chunk: Chunk, segment: int) -> list[Finding]:
        if self.pattern is None:
            return []
        out: list[Finding] = []
        headings: dict[int, bool] = {}
        for m in self._mentions(chunk.text):
            k, start = chunk.locate(m.start())
            if k not in headings:
                headings[k] = is_heading(chunk.lines[k])
            out.append(
                Finding(
                    DETECTOR,
                    self.by_text[m.group(0).casefold()],
                    segment,
                    chunk.line_no(k),
                    start,
                    start + len(m.group()),
                    confidence=0.9,
                    heading=headings[k],
                )
            )
        if self.codes is not None and has_underwriter_hint(chunk.text):  # no underwriter label, no code
            for m in self.codes.finditer(chunk.text, timeout=REGEX_TIMEOUT):
                k, start = chunk.locate(m.start())
                label = label_at(chunk.lines[k], start)
                if label is not None and label.kind is LabelKind.UNDERWRITER:
                    found = Finding(DETECTOR, self.by_code[m.group().casefold()], segment, chunk.line_no(k), start,
                                    start + len(m.group()), confidence=0.9)  # fmt: skip
                    out.append(found)
        return out
