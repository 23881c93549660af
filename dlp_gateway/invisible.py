"""Characters a reader does not see: removed from every extracted line before any detector runs
(so `81<ZWSP>0000<ZWSP>0001`, split by zero-width spaces, is the number the recipient sees), and allowed between
the characters of a value when redaction looks for it (so it is masked however it is split).

Unicode's format characters (category Cf: zero-width space and joiners, word joiner, soft hyphen,
bidi marks and embeddings, BOM, invisible operators, Mongolian vowel separator, tag characters),
plus the combining grapheme joiner, the variation selectors (which only pick a glyph: an 異体字
selector after 邉 leaves the family name 邉), and the Hangul fillers, which render as nothing.
"""

from __future__ import annotations

import regex

# One definition, used as a character class by extraction (remove) and redaction (allow).
INVISIBLE_CLASS = r"[\p{Cf}\u034f\ufe00-\ufe0f\U000e0100-\U000e01ef\u115f\u1160\u3164\uffa0]"
_INVISIBLE = regex.compile(INVISIBLE_CLASS + "+")


def has_invisible(text: str) -> bool:
    return _INVISIBLE.search(text) is not None


def strip_invisible(text: str) -> str:
    return _INVISIBLE.sub("", text)
