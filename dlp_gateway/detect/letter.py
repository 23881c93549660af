"""The parts of a business letter that name the correspondents, not customers: the greeting
(「東京海上日動　鈴木様」「各位」) at the top and the signature at the bottom (DESIGN §6)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import regex

# An addressee line: short, no numbers, ending in an honorific, or naming 御中/各位.
GREETING = regex.compile(r"(?:様|さま|殿|さん|御中|各位|ご担当者?様?)[\s、,。:：へ]*$|御中|各位")
_DIGITS = regex.compile(r"[0-9０-９]{4}")
MAX_GREETING = 40
# The standard library's engine runs this 3x faster than `regex` over a letter; [^\S\n\x1c-\x1f] is
# `regex`'s [^\S\n] in it (its \s also takes the separators \x1c-\x1f, which `regex` does not).
_SP = r"[^\S\n\x1c-\x1f]"
SIGNATURE_START = re.compile(rf"^{_SP}*(?:--{_SP}*|[-‐―─━=＝_＿*＊~〜・]{{4,}}.*|以上[。.]?{_SP}*)$", re.MULTILINE)
GREETING_LINES = 3  # the greeting sits in the first non-empty lines


def correspondent_lines(lines: Sequence[str]) -> set[int]:
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
    return out | signature_lines(lines)


def signature_lines(lines: Sequence[str]) -> set[int]:
    """From the first signature line below some content to the end: one search over the text, not
    one per line."""
    first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    text = "\n".join(lines)
    for m in SIGNATURE_START.finditer(text):
        i = text.count("\n", 0, m.start())
        if i > first:
            return set(range(i, len(lines)))
    return set()
