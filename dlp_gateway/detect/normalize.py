"""Text normalisation shared by detectors, keeping a map back to the original offsets.

NFKC turns full-width digits and letters into ASCII but leaves most dash characters and the
katakana prolonged sound mark alone, so separators are handled here explicitly (DESIGN §6).
"""

from __future__ import annotations

import unicodedata

DASHES = frozenset("-‐‑‒–—―−ー－ｰ﹣⁃")
SPACES = frozenset(" \u3000\t\u00a0")
_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def nfkc_upper_map(text: str) -> tuple[str, list[int]]:
    """NFKC + upper-case, with index[i] = offset in `text` of output character i."""
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        if ch in DASHES:
            norm = "-"
        elif ch in SPACES:
            norm = " "
        else:
            norm = unicodedata.normalize("NFKC", ch).upper()
        for c in norm:
            chars.append(c)
            index.append(i)
    return "".join(chars), index


def join_separated(text: str, index: list[int], drop_spaces: bool) -> tuple[str, list[int]]:
    """Remove runs of dashes (and spaces, if asked) that sit between two alphanumerics."""
    seps = {"-", " "} if drop_spaces else {"-"}
    out: list[str] = []
    out_index: list[int] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in seps and out and out[-1] in _ALNUM:
            j = i
            while j < n and text[j] in seps:
                j += 1
            if j < n and text[j] in _ALNUM and (drop_spaces or " " not in text[i:j]):
                i = j
                continue
        out.append(ch)
        out_index.append(index[i])
        i += 1
    return "".join(out), out_index


def canonical_number(text: str) -> str:
    """`MS-1234567` → `MS1234567`: NFKC, upper case, separators removed."""
    norm, _ = nfkc_upper_map(text)
    return "".join(c for c in norm if c not in ("-", " "))


def kana_to_katakana(text: str) -> str:
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)


def name_key(name: str) -> str:
    """The form names are compared in: NFKC, no spaces, katakana, upper-case Latin."""
    norm = unicodedata.normalize("NFKC", name)
    return kana_to_katakana("".join(norm.split())).upper()


def display_name(name: str) -> str:
    """`山田　太郎` → `山田 太郎` (family given, one ASCII space)."""
    return " ".join(unicodedata.normalize("NFKC", name).split())
