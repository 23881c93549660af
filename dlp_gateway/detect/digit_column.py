"""The column form of the detectors for cells of digits: `証券番号:8100000001` read by template.

A list's policy-number column is the one column whose cells are all distinct, so the memo of
detect/cells.py cannot help it, and the line form pays about 20 µs a cell for work that is the same
in every cell of the column: the label before the value, the context words, the look-alike tests
on the text around it. Only a few things about a value of ASCII digits under a given title change
what the detectors find in the cell: where each insurer's pattern matches in it, whether the check
digits pass, whether the registry holds it, its length, and whether it reads as a date (the
look-alike test for an unlabelled number). Those make the cell's key. The first cell with a key is
read by the line form; its findings become the key's template when each of them either lies in the
title (the same for every cell of the column) or is the whole value (the same but for the value);
every later cell with that key gets the template with its own value. A template that fits neither
way, a pattern that matches part of a value, a title the normalised views would change: those
cells go to the line form as before. tests/test_digit_column.py holds this to the line form.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from operator import add

from dlp_gateway.detect.chunk import Chunk
from dlp_gateway.detect.policy_number import REGEX_TIMEOUT, PolicyNumberFinder, looks_like_date
from dlp_gateway.detect.registry import RegistryFinder
from dlp_gateway.model import Detector, Finding

ReadOne = Callable[[str], list[Finding]]  # the line form of every detector on one cell
Key = tuple[object, ...]
Template = tuple[tuple[Finding, ...], tuple[bool, ...]]  # the findings, and which hold the whole value


@dataclass
class TableMemo:
    """What the column form learns while one table is read; none of it outlives the table."""

    templates: dict[Key, Template | None] = field(default_factory=dict)  # None: the line form
    stable: dict[str, bool] = field(default_factory=dict)  # title → whether the views keep it


class DigitColumn:
    """Reads the cells of digits among a batch of a table's new cells (CellReader)."""

    def __init__(self, numbers: PolicyNumberFinder, registry: RegistryFinder | None, read_one: ReadOne) -> None:
        self.patterns = [pattern for _, pattern in numbers.patterns] if numbers.in_chunk else None
        self.insurers = [insurer for insurer, _ in numbers.patterns]
        self.checks = numbers.checks
        self.registry = registry
        self.read_one = read_one
        self._part = sum(_PART << 2 * j for j in range(len(self.insurers)))  # a _PART in any pattern
        self._checks_of: dict[int, tuple[Callable[[str], bool], ...]] = {}

    def read(self, cells: Sequence[str], memo: TableMemo) -> tuple[list[tuple[Finding, ...] | None], list[int | None]]:
        """Each cell's findings, or None for a cell the line form must read; and the template each
        cell was read by (its id, fixed while `memo` lives: the cells of one template differ only
        in the value), None if none. `memo` is the table's, kept while the table is read."""
        out: list[tuple[Finding, ...] | None] = [None] * len(cells)
        tokens: list[int | None] = [None] * len(cells)
        if self.patterns is None:
            return out, tokens  # a pattern that could see a newline: the line form reads it line by line
        picked = self._picked(cells, memo)
        if not picked:
            return out, tokens
        codes = self._matches([cells[i] for i, _, _ in picked], [len(t) + 1 for _, t, _ in picked])
        registry, templates, checks_of, new = self.registry, memo.templates, self._checks_of, _new_finding
        for (i, title, value), code in zip(picked, codes, strict=True):
            if code & self._part:
                continue  # a pattern matches part of the value: the line form settles the overlaps
            checks = checks_of.get(code)
            if checks is None:
                checks = checks_of[code] = self._checked(code)
            key = (
                title,
                len(value),
                code,
                tuple(check(value) for check in checks) if checks else (),
                registry.number_insurer(value) if registry is not None else None,
                len(value) == 8 and looks_like_date(value),
            )
            if key not in templates:
                templates[key] = self._template(cells[i], len(title) + 1, value)
            template = templates[key]
            if template is None:
                continue
            tokens[i] = id(template)
            found, whole = template
            if not found:
                out[i] = found  # (an amount, a count: nothing, the same empty tuple for each)
            elif whole == (True,):  # (the policy number, and nothing in the title)
                out[i] = (new(Finding, (found[0][0], value, *found[0][2:])),)
            else:
                out[i] = tuple(
                    new(Finding, (f[0], value, *f[2:])) if w else f for f, w in zip(found, whole, strict=True)
                )
        return out, tokens

    def _picked(self, cells: Sequence[str], memo: TableMemo) -> list[tuple[int, str, str]]:
        """(index, title, value) of each cell that is `title:digits` under a title the views keep."""
        picked = []
        known = memo.stable
        for i, cell in enumerate(cells):
            title, sep, value = cell.partition(":")
            if sep and value.isdigit() and value.isascii():
                stable = known.get(title)
                if stable is None:
                    stable = known[title] = self._title_stable(title)
                if stable:
                    picked.append((i, title, value))
        return picked

    def _checked(self, code: int) -> tuple[Callable[[str], bool], ...]:
        """The check-digit functions of the insurers whose pattern is the whole value in a cell of
        this code, in pattern order."""
        return tuple(
            self.checks[ins]
            for j, ins in enumerate(self.insurers)
            if (code >> 2 * j) & 3 == _WHOLE and ins in self.checks
        )

    def _matches(self, texts: list[str], value_at: list[int]) -> list[int]:
        """Per cell, two bits per pattern: _NONE, _WHOLE (one match, the whole value) or _PART.
        The cells are searched joined by newlines, one search and one timeout per pattern (no
        pattern sees a newline: PolicyNumberFinder.in_chunk), as the line form reads a chunk."""
        text = "\n".join(texts)
        starts = list(map(add, accumulate(map(len, texts), initial=0), range(len(texts))))
        codes = [0] * len(texts)
        for j, pattern in enumerate(self.patterns or ()):
            shift = 2 * j
            for m in pattern.finditer(text, timeout=REGEX_TIMEOUT):  # a timeout fails the scan closed
                a, b = m.span()
                k = bisect_right(starts, a) - 1
                whole = b == starts[k] + len(texts[k]) and a == starts[k] + value_at[k] and a < b
                seen = (codes[k] >> shift) & 3
                codes[k] |= (_WHOLE if whole and seen == _NONE else _PART) << shift
        return codes

    @staticmethod
    def _title_stable(title: str) -> bool:
        """Whether the numbers' normalised views leave `title:` and a number after it as they are
        (no full-width or lower-case letter, no dash or space): the patterns then see the cell."""
        probe = f"{title}:0123456789"
        views = Chunk((probe,)).number_views()
        return len(views) == 1 and views[0][0] == probe

    def _template(self, cell: str, start: int, value: str) -> Template | None:
        """The cell's findings as a template: each one in the title, or the whole value. A name
        makes none (whether it is a customer is asked of each cell: cells.Customers)."""
        found = tuple(self.read_one(cell))
        whole = tuple(f.start == start and f.end == len(cell) and f.value == value for f in found)
        if all(w or (f.end < start and f.detector != Detector.NAME) for f, w in zip(found, whole, strict=True)) and all(
            f.detector == Detector.POLICY_NUMBER for f, w in zip(found, whole, strict=True) if w
        ):
            return found, whole
        return None


_NONE, _WHOLE, _PART = 0, 1, 2
_new_finding = tuple.__new__  # Finding's own __new__ is a Python function
