"""Insurer mentions: configured names and aliases, Japanese or Latin, longest first."""

from __future__ import annotations

from collections.abc import Iterable

import regex

from dlp_gateway.config.schema import Insurer
from dlp_gateway.model import Finding

DETECTOR = "insurer"
REGEX_TIMEOUT = 0.5
# A heading names the insurer of the section below it: 「■東京海上日動 ご契約分」「【損保ジャパン】」.
HEADING = regex.compile(r"^\s*[■□●○◆◇▼▽★☆◎【\[［＜<《〈]")


class MentionFinder:
    def __init__(self, insurers: Iterable[Insurer]) -> None:
        self.by_text: dict[str, str] = {}
        for ins in insurers:
            for mention in ins.mentions:
                if mention.strip():
                    self.by_text[mention.casefold()] = ins.id
        alternatives = sorted(self.by_text, key=len, reverse=True)
        self.pattern = (
            regex.compile("|".join(regex.escape(a) for a in alternatives), regex.IGNORECASE) if alternatives else None
        )

    def find(self, line: str, segment: int, line_no: int) -> list[Finding]:
        if self.pattern is None:
            return []
        matches = list(self.pattern.finditer(line, timeout=REGEX_TIMEOUT))  # a timeout fails the scan closed
        heading = bool(HEADING.match(line)) and len(line.strip()) <= 60
        return [
            Finding(
                DETECTOR,
                self.by_text[m.group(0).casefold()],
                segment,
                line_no,
                m.start(),
                m.end(),
                confidence=0.9,
                heading=heading,
            )
            for m in matches
        ]
