"""The parts of a business letter that name the correspondents, not customers: the greeting
(「東京海上日動　鈴木様」「各位」) at the top and the signature at the bottom (DESIGN §6)."""

from __future__ import annotations

import regex

# An addressee line: short, no numbers, ending in an honorific, or naming 御中/各位.
GREETING = regex.compile(r"(?:様|さま|殿|さん|御中|各位|ご担当者?様?)[\s、,。:：へ]*$|御中|各位")
_DIGITS = regex.compile(r"[0-9０-９]{4}")
MAX_GREETING = 40
SIGNATURE_START = regex.compile(r"^\s*(?:--\s*|[-‐―─━=＝_＿*＊~〜・]{4,}.*|以上[。.]?\s*)$")
GREETING_LINES = 3  # the greeting sits in the first non-empty lines


def correspondent_lines(lines: tuple[str, ...]) -> set[int]:
    """Line numbers of the greeting and of the signature block."""
    out: set[int] = set()
    seen = 0
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        seen += 1
        if seen > GREETING_LINES:
            break
        if len(line.strip()) <= MAX_GREETING and not _DIGITS.search(line) and GREETING.search(line):
            out.add(i)
    content = False
    for i, line in enumerate(lines):
        if SIGNATURE_START.match(line) and content:
            out.update(range(i, len(lines)))
            break
        content = content or bool(line.strip())
    return out
