"""What an insurer's policy-number pattern is, read as the loader writes it: whether the regular
expression engine can run it without a clock (backtracks_little), and its column form over a
column of `title:digits` cells (digit_shape): for most insurers' patterns (8\\d{9}, 3\\d{10},
MS\\d{7}) whether each value matches is a matter of its length and first digits, or of nothing at
all, and a column of 150,000 numbers is settled by a few passes in C instead of a search whose
cost is the engine's per match (detect/digit_column.py, held to the search by
tests/test_digit_column.py).
"""

from __future__ import annotations

import re
from itertools import repeat
from operator import and_, eq, itemgetter

FENCE = ("(?<![0-9])(?:", ")(?![0-9])")  # how the loader writes each pattern (config/fields.py)

# An insurer's pattern as they are written (8\d{9}, MS\d{7}, [0-9A-Z]{2}-?\d{8}): letters, digits,
# \d and plain classes, each once, optional or a fixed number of times; no group, alternation or
# open repeat. At each place the engine tries at most 2^k ways (k optional atoms, at most four),
# each as long as the pattern: a search is linear in the text, and needs no timeout (any other
# pattern keeps REGEX_TIMEOUT, which fails the scan closed).
_LINEAR = re.compile(r"(?:(?:[A-Za-z0-9_-]|\\d|\[[A-Za-z0-9_-]+\])(?:\{[0-9]{1,2}\}|\?)?)+")
_ATOM = re.compile(r"(\\d|\[([A-Za-z0-9_-]+)\]|[A-Za-z0-9_-])(?:\{([0-9]{1,2})\}|(\?))?")
_RANGE = re.compile(r"(.)-(.)")


def _inner(fenced: str) -> str | None:
    """The pattern inside the loader's fence, if it is fenced and of _LINEAR's kind."""
    if not (fenced.startswith(FENCE[0]) and fenced.endswith(FENCE[1])):
        return None
    inner = fenced[len(FENCE[0]) : -len(FENCE[1])]
    return inner if _LINEAR.fullmatch(inner) else None


def backtracks_little(fenced: str) -> bool:
    inner = _inner(fenced)
    return inner is not None and inner.count("?") <= 4


def _class_digits(members: str) -> bool | None:
    """Whether a class's members are digits only (True), none (False), or both (None)."""
    chars = set(_RANGE.sub(lambda m: "".join(map(chr, range(ord(m[1]), ord(m[2]) + 1))), members))
    digits = {c for c in chars if c.isdigit()}
    return True if digits == chars else False if not digits else None


# A pattern's column form: (length, first digits) — a value matches it iff it has that many
# digits and begins with those; NEVER — no cell matches it anywhere; None — a search must tell.
Shape = tuple[int, str] | bool | None
NEVER = False


def digit_shape(fenced: str) -> Shape:
    """The column form of a pattern over cells `title:value`, every value ASCII digits and no
    digit (\\d) in the title. No atom of such a pattern matches ':' or a line end, so a match lies
    in one title or one value; the fence lets a match in a value be only the whole value; a title
    holds no digit. So a pattern with an atom that takes digits only and one that takes none
    matches nowhere, and one of fixed digits then `\\d`s matches exactly the values as long as it
    that begin with those digits. Any other (an optional atom, a class of some digits) is searched."""
    inner = _inner(fenced)
    if inner is None:
        return None
    prefix, length, any_digit, any_other, in_prefix = "", 0, False, False, True
    for atom, members, times, optional in _ATOM.findall(inner):
        n = int(times) if times else 1
        if optional or not n:
            return None  # (an atom that may match nothing)
        length += n
        if atom == r"\d" or members == "0-9":
            any_digit, in_prefix = True, False
        elif atom.isdigit():
            if not in_prefix:
                return None  # (a fixed digit after a \d)
            any_digit, prefix = True, prefix + atom * n
        elif members and _class_digits(members) is not False:
            return None  # (a class of some digits)
        else:
            any_other = True  # (a letter, '_', '-', or a class of none)
    if any_other:
        return NEVER if any_digit else None
    return length, prefix


class DigitValues:
    """A column's values (ASCII digits each), asked how many match a shape: settled by the set of
    their lengths and of their first digits, each made once, when they are all one or lack the
    shape's; counted value by value (in C) only when they are mixed."""

    def __init__(self, values: list[str]) -> None:
        self.values = values
        self.lengths: set[int] | None = None
        self.heads: dict[int, set[str]] = {}

    def hits(self, shape: tuple[int, str]) -> int:
        length, prefix = shape
        values = self.values
        lengths = self.lengths = set(map(len, values)) if self.lengths is None else self.lengths
        if length not in lengths:
            return 0
        heads = self.heads.get(len(prefix))
        if heads is None:
            heads = self.heads[len(prefix)] = set(map(itemgetter(slice(0, len(prefix))), values))
        if prefix not in heads:
            return 0
        if len(lengths) == 1 and len(heads) == 1:
            return len(values)
        return sum(map(and_, map(eq, map(len, values), repeat(length)), map(str.startswith, values, repeat(prefix))))
