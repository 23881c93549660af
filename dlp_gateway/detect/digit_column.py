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

import re
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, compress, groupby, repeat
from operator import add, and_, itemgetter
from typing import overload

from dlp_gateway.detect.chunk import Chunk
from dlp_gateway.detect.pattern_shapes import FENCE, NEVER, DigitValues, backtracks_little, digit_shape
from dlp_gateway.detect.policy_number import REGEX_TIMEOUT, PolicyNumberFinder, looks_like_date
from dlp_gateway.detect.registry import RegistryFinder
from dlp_gateway.extract.table_lines import digits_only
from dlp_gateway.model import Detector, Finding

ReadOne = Callable[[str], list[Finding]]  # the line form of every detector on one cell
Key = tuple[object, ...]
Template = tuple[tuple[Finding, ...], tuple[bool, ...]]  # the findings, and which hold the whole value
Out = list[tuple[Finding, ...] | None]  # each cell's findings (None: the line form reads it)
Found = Sequence[tuple[Finding, ...] | None]  # Out, or ValueCells for a column that is a policy number a cell
Tokens = list[int | None]  # each cell's template, by id
Column = tuple[str, Sequence[int], Sequence[str], list[str]]  # a title, its cells' places, the cells, their values


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
        # Patterns that cannot backtrack far (backtracks_little): searched without a timeout, which
        # costs the regex module a clock reading per match, three times the search of a column.
        self.linear = [backtracks_little(p.pattern) for p in self.patterns or ()]
        # Whether every pattern is fenced as the loader writes it: _column_code relies on it.
        self.fenced = self.patterns is not None and all(
            p.pattern.startswith(FENCE[0]) and p.pattern.endswith(FENCE[1]) for p in self.patterns
        )
        self.shapes = [digit_shape(p.pattern) for p in self.patterns or ()]  # (their column forms)

    def read(self, cells: Sequence[str], memo: TableMemo) -> tuple[Found, Tokens]:
        """Each cell's findings, or None for a cell the line form must read; and the template each
        cell was read by (its id, fixed while `memo` lives: the cells of one template differ only
        in the value), None if none. `memo` is the table's, kept while the table is read. Cells
        are taken a column (a title) at a time: one whose cells all agree in every pattern's match
        is settled by a search or two per pattern over the whole column (_column_code) and its
        cells' keys and findings are made in C; any other is read a cell at a time. Cells that are
        all one column and each a policy number alone come as ValueCells."""
        out: Out = [None] * len(cells)
        tokens: Tokens = [None] * len(cells)
        if self.patterns is None:
            return out, tokens  # a pattern that could see a newline: the line form reads it line by line
        return self._read_columns(out, tokens, self._columns(cells, memo), memo)

    def read_values(self, title: str, values: Sequence[str], memo: TableMemo) -> tuple[Found, Tokens]:
        """read for one column of a list given as its title and its values (the cells `title:value`,
        the title without a colon): a cell is written out only where the line form reads it."""
        if self.patterns is None or not digits_only(values):
            return self.read(list(map(f"{title}:".__add__, values)), memo)
        out: Out = [None] * len(values)
        tokens: Tokens = [None] * len(values)
        if not self._stable(title, memo):
            return out, tokens
        values = values if isinstance(values, list) else list(values)
        return self._read_columns(out, tokens, [(title, range(len(values)), Labelled(title, values), values)], memo)

    def _read_columns(self, out: Out, tokens: Tokens, columns: list[Column], memo: TableMemo) -> tuple[Found, Tokens]:
        """read's columns into `out` and `tokens`."""
        for title, picked, column, values in columns:
            code = self._column_code(title, column, values)
            if code is not None:
                if not code & self._part:
                    whole = self._read_column(out, tokens, picked, column, title, values, code, memo)
                    if whole is not None:
                        return whole, tokens
                continue
            codes = self._matches(column, [len(title) + 1] * len(column))
            for i, cell, value, cell_code in zip(picked, column, values, codes, strict=True):
                if not cell_code & self._part:  # (a pattern matches part of the value: the line form)
                    _fill(out, tokens, i, value, self._templates([cell], title, [value], cell_code, memo)[0][0])
        return out, tokens

    def _columns(self, cells: Sequence[str], memo: TableMemo) -> list[Column]:
        """The cells that are `title:digits` under a title the views keep, by title, each title's
        in order: (title, their places in `cells`, the cells, their values); picked in C, then a
        step per title."""
        if cells and (one := self._one_column(cells)) is not None:
            title, values = one
            return [(title, range(len(cells)), list(cells), values)] if self._stable(title, memo) else []
        parts = list(map(str.partition, cells, repeat(":")))
        values = list(map(_VALUE, parts))
        digits = map(and_, map(str.isdigit, values), map(str.isascii, values))
        picked = list(compress(range(len(cells)), map(and_, map(bool, map(_SEP, parts)), digits)))
        if not picked:
            return []
        titles = list(map(_TITLE, map(parts.__getitem__, picked)))
        groups: Iterable[tuple[str, Iterable[int]]]
        if len(set(titles)) == 1:
            groups = [(titles[0], picked)]
        else:
            order = sorted(range(len(picked)), key=titles.__getitem__)  # (a stable sort: each title's in order)
            groups = ((t, map(picked.__getitem__, ks)) for t, ks in groupby(order, key=titles.__getitem__))
        out: list[Column] = []
        for title, indices in groups:
            if self._stable(title, memo):
                at = list(indices)
                out.append((title, at, list(map(cells.__getitem__, at)), list(map(values.__getitem__, at))))
        return out

    def _stable(self, title: str, memo: TableMemo) -> bool:
        stable = memo.stable.get(title)
        if stable is None:
            stable = memo.stable[title] = self._title_stable(title)
        return stable

    @staticmethod
    def _one_column(cells: Sequence[str]) -> tuple[str, list[str]] | None:
        """(title, values) if every cell is `title:digits` under the first one's title (a column
        of a list: cell_columns.py), tested in C; None if not."""
        title, sep, _ = cells[0].partition(":")
        prefix = title + sep
        if not sep or not all(map(str.startswith, cells, repeat(prefix))):
            return None
        values = list(map(itemgetter(slice(len(prefix), None)), cells))
        digits = "".join(values)
        if not (digits.isdigit() and digits.isascii()) or "" in values:
            return None
        return title, values

    def _column_code(self, title: str, column: Sequence[str], values: list[str]) -> int | None:
        """The code (see _matches) every cell of a column has, or None when they may differ. Every
        pattern is fenced by `(?<![0-9])…(?![0-9])` and the title holds no digit, so a match made
        of digits only is one whole value. A pattern that matches nowhere in the column is _NONE
        in every cell; one whose matches take every digit and nothing else, as many matches as
        cells, is _WHOLE in every cell (each match a value, each value one match). A pattern with
        a column form (pattern_shapes.digit_shape) is told so without a search."""
        if not self.fenced or _ASCII_DIGIT.search(title) is not None:
            return None
        shaped = _DIGIT.search(title) is None  # (no digit of any script: the forms hold)
        text = None
        code = 0
        digits = DigitValues(values)
        for j, pattern in enumerate(self.patterns or ()):
            shape = self.shapes[j] if shaped else None
            if shape is NEVER:
                continue
            if isinstance(shape, tuple):
                hits = digits.hits(shape)
                if not hits:
                    continue
                if hits != len(values):
                    return None
                code |= _WHOLE << 2 * j
                continue
            text = _joined(column) if text is None else text
            rest, count = pattern.subn("", text, timeout=None if self.linear[j] else REGEX_TIMEOUT)
            if not count:
                continue
            if count != len(column) or rest != "\n".join(repeat(title + ":", len(column))):
                return None
            code |= _WHOLE << 2 * j
        return code

    def _read_column(
        self,
        out: Out,
        tokens: Tokens,
        picked: Sequence[int],
        column: Sequence[str],
        title: str,
        values: list[str],
        code: int,
        memo: TableMemo,
    ) -> ValueCells | None:
        """The cells of a column that share `code`: each cell's key made in C, and when one
        template reads them all (a policy number alone, or nothing) their findings too; as
        ValueCells if they are the whole batch and each a policy number alone."""
        used, kinds = self._templates(column, title, values, code, memo)
        template = used[0]
        if len(kinds) > 1 and all(t is not None and not t[0] for t in kinds):
            # (amounts of several lengths: no template finds anything; each cell takes its own's
            # empty findings and its id, as _fill gives them, in C)
            if len(picked) == len(out):  # (the whole batch is this column: cell_columns.py)
                # Each cell as read by the first template: they all find nothing, so a cell's
                # findings are any one's, and differ in nothing but the value (a template's terms).
                out[:], tokens[:] = [kinds[0][0]] * len(out), [id(kinds[0])] * len(out)  # type: ignore[index]
            else:
                deque(map(out.__setitem__, picked, map(_FOUND, used)), maxlen=0)  # type: ignore[arg-type]
                deque(map(tokens.__setitem__, picked, map(id, used)), maxlen=0)
            return None
        if len(kinds) > 1 or (template is not None and template[0] and template[1] != (True,)):
            deque(map(_fill, repeat(out), repeat(tokens), picked, values, used), maxlen=0)
            return None
        if template is None:
            return None
        found = template[0]
        made: Sequence[tuple[Finding, ...]] = [found] * len(values)  # (an amount: nothing, one empty tuple)
        if found:  # (the policy number alone: the value's own finding)
            made = ValueCells(found[0], values)
        if len(picked) == len(out):  # (the whole batch is this column: cell_columns.py)
            tokens[:] = repeat(id(template), len(out))
            if isinstance(made, ValueCells):
                return made
            out[:] = made
            return None
        deque(map(out.__setitem__, picked, made), maxlen=0)
        deque(map(tokens.__setitem__, picked, repeat(id(template))), maxlen=0)
        return None

    def _templates(
        self, column: Sequence[str], title: str, values: list[str], code: int, memo: TableMemo
    ) -> tuple[list[Template | None], list[Template | None]]:
        """Each cell's template, by its key, made in C (by its length alone when only that can
        differ), and the templates among them, each once; a key not seen before is learnt from its
        first cell."""
        checks = self._checks(code)
        templates = memo.templates
        if not checks and self.registry is None and 8 not in (distinct := set(map(len, values))):
            # (values of one length, a list's policy numbers: no length per cell, no look-up per cell)
            lengths = None if len(distinct) == 1 else list(map(len, values))
            by_length = {}
            for length in distinct:
                key = (title, length, code, (), None, False)
                if key not in templates:
                    k = 0 if lengths is None else lengths.index(length)
                    templates[key] = self._template(column[k], len(title) + 1, values[k])
                by_length[length] = templates[key]
            kinds = _each_once(by_length.values())
            if lengths is None:
                return kinds * len(values), kinds
            return list(map(by_length.__getitem__, lengths)), kinds
        lengths = list(map(len, values))
        checked: Iterable[tuple[bool, ...]] = (
            zip(*[map(check, values) for check in checks], strict=True) if checks else repeat(())
        )
        insurers = map(self.registry.number_insurer, values) if self.registry is not None else repeat(None)
        dated = map(_looks_like_date8, values) if 8 in lengths else repeat(False)
        keys = list(zip(repeat(title), lengths, repeat(code), checked, insurers, dated))
        firsts = dict(zip(reversed(keys), range(len(keys) - 1, -1, -1), strict=True))  # (each key's first cell)
        for key, k in firsts.items():
            if key not in templates:
                templates[key] = self._template(column[k], len(title) + 1, values[k])
        return list(map(templates.__getitem__, keys)), _each_once(map(templates.__getitem__, firsts))

    def _checks(self, code: int) -> tuple[Callable[[str], bool], ...]:
        checks = self._checks_of.get(code)
        if checks is None:
            checks = self._checks_of[code] = self._checked(code)
        return checks

    def _checked(self, code: int) -> tuple[Callable[[str], bool], ...]:
        """The check-digit functions of the insurers whose pattern is the whole value in a cell of
        this code, in pattern order."""
        return tuple(
            self.checks[ins]
            for j, ins in enumerate(self.insurers)
            if (code >> 2 * j) & 3 == _WHOLE and ins in self.checks
        )

    def _matches(self, texts: Sequence[str], value_at: list[int]) -> list[int]:
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
_TITLE, _SEP, _VALUE = itemgetter(0), itemgetter(1), itemgetter(2)
_ASCII_DIGIT = re.compile("[0-9]")
_DIGIT = re.compile(r"\d")  # (as \d in a pattern: a digit of any script)


class ValueCells(Sequence[tuple[Finding, ...]]):
    """Cells each read as a policy number alone by one template: each cell's findings (its own
    value in the template's finding), made when asked for. Correlate reads only the values of
    most of them (row_plans._values), and 150,000 findings made for it took a tenth of a list's
    detection."""

    __slots__ = ("finding", "values")

    def __init__(self, finding: Finding, values: list[str]) -> None:
        self.finding = finding
        self.values = values

    def __len__(self) -> int:
        return len(self.values)

    @overload
    def __getitem__(self, i: int) -> tuple[Finding, ...]: ...

    @overload
    def __getitem__(self, i: slice) -> list[tuple[Finding, ...]]: ...

    def __getitem__(self, i: int | slice) -> tuple[Finding, ...] | list[tuple[Finding, ...]]:
        if isinstance(i, slice):
            return list(ValueCells(self.finding, self.values[i]))
        f = self.finding
        return (_new_finding(Finding, (f[0], self.values[i], *f[2:])),)

    def picked(self, rows: Sequence[int]) -> ValueCells:
        """The cells at `rows`, in that order."""
        return ValueCells(self.finding, list(map(self.values.__getitem__, rows)))

    def __iter__(self) -> Iterator[tuple[Finding, ...]]:
        head, tail = (self.finding[0],), self.finding[2:]
        return zip(map(_new_finding, repeat(Finding), map(add, map(add, repeat(head), zip(self.values)), repeat(tail))))


class Labelled(Sequence[str]):
    """A column's cells `title:value`, each written when it is asked for (read_values)."""

    __slots__ = ("prefix", "values")

    def __init__(self, title: str, values: Sequence[str]) -> None:
        self.prefix = f"{title}:"
        self.values = values

    def __len__(self) -> int:
        return len(self.values)

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return list(map(self.prefix.__add__, self.values[i]))
        return self.prefix + self.values[i]

    def __iter__(self) -> Iterator[str]:
        return map(self.prefix.__add__, self.values)


def _joined(column: Sequence[str]) -> str:
    """The cells joined by newlines; a Labelled column's without writing each cell."""
    if isinstance(column, Labelled):
        return column.prefix + f"\n{column.prefix}".join(column.values) if len(column) else ""
    return "\n".join(column)


def _looks_like_date8(value: str) -> bool:
    return len(value) == 8 and looks_like_date(value)


def _each_once(templates: Iterable[Template | None]) -> list[Template | None]:
    return list({id(t): t for t in templates}.values())


_FOUND = itemgetter(0)  # a template's findings


def _fill(out: Out, tokens: Tokens, i: int, value: str, template: Template | None) -> None:
    """Cell i's findings by its template, with its own value in those that hold the whole value."""
    if template is None:
        return
    tokens[i] = id(template)
    found, whole = template
    if not found:
        out[i] = found  # (an amount, a count: nothing, the same empty tuple for each)
    elif whole == (True,):  # (the policy number, and nothing in the title)
        out[i] = (_new_finding(Finding, (found[0][0], value, *found[0][2:])),)
    else:
        out[i] = tuple(
            _new_finding(Finding, (f[0], value, *f[2:])) if w else f for f, w in zip(found, whole, strict=True)
        )
