"""Text normalisation shared by detectors, keeping a map back to the original offsets.

NFKC turns full-width digits and letters into ASCII but leaves most dash characters and the
katakana prolonged sound mark alone, so separators are handled here explicitly (DESIGN §6).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from typing import overload

import regex

from dlp_gateway.detect.itaiji import fold

DASHES = frozenset("-‐‑‒–—―−ー－ｰ﹣⁃")
# The same, as the body of a regular expression's character class: every pattern that allows a dash
# inside a number (detection, line joins, redaction) takes this one, so none lacks a dash.
DASH_CLASS = "\\-" + "".join(sorted(DASHES - {"-"}))
SPACES = frozenset(" \u3000\t\u00a0")
_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


_SEPARATORS = {**dict.fromkeys(DASHES - {"-"}, "-"), **dict.fromkeys(SPACES - {" "}, " ")}


def map_separators(text: str) -> str:
    """Every dash to `-` and every space to ` `. str.translate with a table takes a dictionary
    lookup per character of non-ASCII text; `in` and replace() run in C, per separator."""
    for ch, to in _SEPARATORS.items():
        if ch in text:
            text = text.replace(ch, to)
    return text


def nfkc_upper_map(text: str, base: int = 0) -> tuple[str, Sequence[int]]:
    """NFKC + upper-case, with index[i] = base + offset in `text` of output character i."""
    mapped = map_separators(text)
    norm = unicodedata.normalize("NFKC", mapped)
    if len(norm) == len(text) and len(upper := norm.upper()) == len(text):
        # Fast path: no character expanded or merged (the common case), so offsets are unchanged.
        return upper, range(base, base + len(text))
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
            index.append(base + i)
    return "".join(chars), index


_JOINED_DASHES = re.compile("(?<=[0-9A-Z])-+(?=[0-9A-Z])")
_JOINED_SEPARATORS = re.compile("(?<=[0-9A-Z])[- ]+(?=[0-9A-Z])")


def join_separated(text: str, index: Sequence[int], drop_spaces: bool) -> tuple[str, Sequence[int]]:
    """Remove runs of dashes (and spaces, if asked) that sit between two alphanumerics."""
    pattern = _JOINED_SEPARATORS if drop_spaces else _JOINED_DASHES
    return cut_spans(text, index, [m.span() for m in pattern.finditer(text)])


class CutIndex(Sequence[int]):
    """The offset map of a text with spans cut out, worked out per access. A list held one int
    object per character: 600,000 of them for a 20,000-row list whose name view cuts the space
    in every row's name, where detectors then ask for a few offsets per row."""

    __slots__ = ("_base", "_len", "_orig", "_view")

    def __init__(self, base: Sequence[int], spans: list[tuple[int, int]], length: int) -> None:
        self._base = base
        self._view = [0]  # where each kept piece starts in the cut text
        self._orig = [0]  # and in the text before the cut
        at = v = 0
        for s, e in spans:
            v += s - at
            self._view.append(v)
            self._orig.append(e)
            at = e
        self._len = v + length - at

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[int]:  # piece by piece, not one __getitem__ per character
        for start, orig, end in zip(self._view, self._orig, [*self._view[1:], self._len], strict=True):
            yield from self._base[orig : orig + end - start]

    @overload
    def __getitem__(self, i: int) -> int: ...
    @overload
    def __getitem__(self, i: slice) -> list[int]: ...
    def __getitem__(self, i: int | slice) -> int | list[int]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._len))]
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError(i)
        k = bisect_right(self._view, i) - 1
        return self._base[self._orig[k] + i - self._view[k]]


def cut_spans(text: str, index: Sequence[int], spans: list[tuple[int, int]]) -> tuple[str, Sequence[int]]:
    """`text` and its offset map without the given (sorted, disjoint) spans."""
    if not spans:
        return text, index
    ends = [e for _, e in spans]
    kept = [text[a:s] for a, (s, _) in zip([0, *ends], spans, strict=False)]
    kept.append(text[ends[-1] :])
    return "".join(kept), CutIndex(index, spans, len(text))


_DROP_SEPARATORS = str.maketrans("", "", "".join(DASHES | SPACES))
_HIRAGANA_TO_KATAKANA = str.maketrans({chr(c): chr(c + 0x60) for c in range(ord("ぁ"), ord("ゖ") + 1)})


def canonical_number(text: str) -> str:
    """`MS-1234567` → `MS1234567`: NFKC, upper case, separators removed."""
    return unicodedata.normalize("NFKC", text).upper().translate(_DROP_SEPARATORS)


_HIRAGANA = re.compile("[ぁ-ゖ]+")


def _to_katakana(run: re.Match[str]) -> str:
    return run.group().translate(_HIRAGANA_TO_KATAKANA)


def kana_to_katakana(text: str) -> str:
    # translate() looks every character up: only the runs of hiragana are handed to it.
    return _HIRAGANA.sub(_to_katakana, text)


def name_key(name: str) -> str:
    """The form names are compared in: NFKC, 異体字 folded (detect/itaiji.py), no spaces,
    katakana, upper-case Latin, corporate forms written out (㈱, (株) → 株式会社)."""
    key = kana_to_katakana(fold("".join(unicodedata.normalize("NFKC", name).split()))).upper()
    return _corporate(key) if "(" in key else key


# NFKC has made ㈱ and （株） into (株); a registry or directory may hold any of the forms.
_CORPORATE = {"(株)": "株式会社", "(有)": "有限会社", "(合)": "合同会社", "(資)": "合資会社", "(名)": "合名会社"}


def _corporate(key: str) -> str:
    for short, full in _CORPORATE.items():
        key = key.replace(short, full)
    return key


def display_name(name: str) -> str:
    """`山田　太郎` → `山田 太郎` (family given, one ASCII space)."""
    return " ".join(unicodedata.normalize("NFKC", name).split())


# What Japanese names are written in: kana (with the prolonged sound mark), Han (with the
# compatibility ideographs) and the iteration marks. One definition, in two forms.
NAME_RANGES = ((0x3040, 0x30FF), (0x3400, 0x9FFF), (0xF900, 0xFAFF))
NAME_MARKS = "々〆ヶ"
_NAME_CHARS = "".join(f"{chr(a)}-{chr(b)}" for a, b in NAME_RANGES) + NAME_MARKS  # as a regex class
NAME_RUN = re.compile(f"[{_NAME_CHARS}]+")


def is_name_char(ch: str) -> bool:
    o = ord(ch)
    return any(a <= o <= b for a, b in NAME_RANGES) or ch in NAME_MARKS


_ASCII_DIGIT = re.compile("[0-9]")


# Every character whose NFKC form holds a digit: those str.isdigit() accepts (①, ², full-width …)
# are in Unicode's Number category, and the squared symbols of Japanese dates and times (㋃ → 4月,
# ㏩ → 10日, ㍘ → 0点) and units (㎡) are listed. The category also holds numerals that are not digits
# (Ⅳ, ½, 〇): a superset, which only lets a line through to the number and date detectors.
# tests/test_chunk.py checks the superset over every code point. Two searches, each in the engine
# that runs it fastest over a 35 KB letter: the category in regex's (0.14 ms; the two Numeric_Type
# properties, the exact isdigit set, took 0.42 ms), the symbols in the standard library's (0.14 ms;
# one class of both, 0.78 ms).
_ANY_DIGIT = regex.compile(r"\p{N}")
_SQUARED_DIGIT = re.compile("[\u32c0-\u32cb\u3358-\u3370\u3378\u3379\u339f-\u33a6\u33a8\u33af\u33e0-\u33fe]")


def has_digit(text: str) -> bool:
    """Whether `text` may hold a digit, searched in C."""
    if text.isascii():
        return _ASCII_DIGIT.search(text) is not None
    return _ANY_DIGIT.search(text) is not None or _SQUARED_DIGIT.search(text) is not None


_NAME_CLASS = _NAME_CHARS + "\uff66-\uff9f"  # and half-width katakana, before NFKC
# `regex` scans this 3x faster than the standard library over Japanese text (measured).
_SPACE_IN_NAME = regex.compile(rf"(?<=[{_NAME_CLASS}])[ \u3000\t\u00a0]+(?=[{_NAME_CLASS}])")


def name_view(line: str, base: int = 0) -> tuple[str, Sequence[int]]:
    """The line as name keys are written, hiragana left as they are (kana_to_katakana maps one
    character to one: the registry converts the runs it looks names up in), with index[i] = base +
    offset in `line` of character i."""
    norm = unicodedata.normalize("NFKC", line)
    if len(norm) == len(line):  # the common case: one character in, one out
        text = fold(norm.upper())
        if len(text) == len(line) and not ("(" in text and any(short in text for short in _CORPORATE)):
            gaps = [m.span() for m in _SPACE_IN_NAME.finditer(line)]
            return cut_spans(text, range(base, base + len(line)), gaps)
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(line):
        if ch in SPACES and chars and is_name_char(chars[-1]) and i + 1 < len(line) and is_name_char(line[i + 1]):
            continue
        for c in fold(unicodedata.normalize("NFKC", ch).upper()):
            chars.append(c)
            index.append(base + i)
    return _corporate_view("".join(chars), index)


def _corporate_view(text: str, index: list[int]) -> tuple[str, list[int]]:
    """The view with corporate forms written out, each added character mapped to the short form."""
    if "(" not in text:
        return text, index
    for short, full in _CORPORATE.items():
        while (at := text.find(short)) >= 0:
            text = text[:at] + full + text[at + len(short) :]
            index = index[:at] + [index[at]] * len(full) + index[at + len(short) :]
    return text, index
