"""異体字 folding: a family name written 髙橋, 山﨑, 渡邉, 齋藤 or 濱田 is the customer the registry
holds as 高橋, 山崎, 渡辺, 斎藤, 浜田 (or the other way round). Names in text and in the registry are
folded to one form before they are compared; the report keeps the spelling the mail used.

The variant families come from ja-itaiji (its data file, 16,660 kanji). Its families are loose
(they link 沢 to 途, 浜 to 頻), so they are not merged: a character outside JIS X 0208 level 1 (the
common kanji every system has) folds to the level-1 member of its family that lists it back, and
where several do, to the one whose family is most like its own (濱 → 浜, not 頻). Level-1
characters never fold, so two common characters are never made one. A few folds the families leave
ambiguous are named below from how the names are written in practice. Every fold is one character
for one, so offsets in a folded line are the offsets in the line.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

# Ambiguous in the families (several level-1 members list them back); the surname spelling wins.
_NAMED = {"﨑": "崎", "嵜": "崎", "濱": "浜", "濵": "浜", "澤": "沢"}


def _level1(ch: str) -> bool:
    try:
        code = ch.encode("euc_jp")
    except UnicodeEncodeError:
        return False
    return len(code) == 2 and 0xB0 <= code[0] <= 0xCF


def _likeness(family: list[str], theirs: list[str], t: str) -> tuple[float, int]:
    """How alike two families are (Jaccard), then the earlier in the character's own list."""
    a, b = set(family), set(theirs)
    return len(a & b) / len(a | b), -family.index(t)


@cache
def table() -> dict[int, str]:
    """Code point → the character it folds to."""
    raw = resources.files("ja_itaiji").joinpath("data/term/ja-itaiji.json").read_text("utf-8")
    families: dict[str, list[str]] = json.loads(raw)
    out: dict[int, str] = {}
    for ch, family in families.items():
        if len(ch) != 1 or _level1(ch):
            continue
        candidates = [t for t in family if t != ch and _level1(t) and ch in families.get(t, ())]
        if candidates:
            out[ord(ch)] = max(candidates, key=lambda t, f=family: _likeness(f, families[t], t))  # type: ignore[misc]
    out.update({ord(ch): to for ch, to in _NAMED.items()})
    return out


@cache
def _variants() -> re.Pattern[str]:
    # The standard library's engine: it compiles a class of 5,800 characters into a bitmap and
    # tests a character in constant time; `regex` took 2 µs a character (20 ms for a letter).
    return re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(table())) + "]")


def fold(text: str) -> str:
    """Each variant kanji as its common form; other characters as they are (one for one)."""
    if text.isascii() or not _variants().search(text):
        return text  # most text holds no variant: one search in C instead of a lookup per character
    return text.translate(table())
