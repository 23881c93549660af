"""detect: Segments → Findings. One module per detector; `detect_all` runs them all."""

from __future__ import annotations

from dlp_gateway.config.schema import Config
from dlp_gateway.detect import dates, insurers, names, policy_number
from dlp_gateway.model import Finding, Segment


def detect_all(segments: tuple[Segment, ...], config: Config) -> list[Finding]:
    mentions = insurers.MentionFinder(config.insurers.values())
    numbers = policy_number.PolicyNumberFinder(config.insurers.values())
    out: list[Finding] = []
    for si, seg in enumerate(segments):
        for li, line in enumerate(seg.lines):
            if not line.strip():
                continue
            out += numbers.find(line, si, li)
            out += names.find(line, si, li)
            out += mentions.find(line, si, li)
            out += dates.find(line, si, li)
    return out
