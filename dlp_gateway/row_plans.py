"""correlate's column form: labelled rows' records from their shapes (detect/row_shapes.py).

A row read by cells has a shape: each cell's form, which is everything about the cell's findings
but their values. Rows of one shape under one section heading make records that differ only in
values taken from the same findings: which finding is the row's number, name and expiry, which
gives the underwriter and why, and how sure that is — correlate's answer for the row — is worked
out once per shape (a Plan) and each row fills in its values. Correlate reads positions on the line
in one place, the nearest of several names, dates or insurers to the number; the shape settles it
when all of them lie on one side of the number's cell (the nearest is then the closest cell,
whatever the cells' lengths). A mention is the underwriter by its label (「引受保険会社:」),
which lies in its own cell. A shape the cells alone do not settle — no number or several, names
on both sides of the number, a mention without a label (the text beside it decides) — has no
plan, and its rows are placed on the line and take the row path. tests/test_row_plans.py holds
the plans to that path over generated tables.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from itertools import compress, repeat
from operator import itemgetter
from typing import NamedTuple

from dlp_gateway.attribution import attribute, display_name, said_by_label
from dlp_gateway.detect.digit_column import ValueCells
from dlp_gateway.detect.row_shapes import ByValue, CellRows, ColumnRows, Form, TableForms
from dlp_gateway.model import Attribution, Detector, Finding, Record, Segment
from dlp_gateway.registry import Registry

Slot = tuple[int, int]  # (the cell on the row, the finding in the cell)


class Plan(NamedTuple):
    number: Slot
    name: Slot | None
    date: Slot | None
    mention: Slot | None  # the underwriter is this finding's value; else `underwriter`
    underwriter: str | None
    source: Attribution
    confidence: float
    basis: str


_NO_PLAN = None
_NUMBER, _NAME, _DATE, _INSURER = Detector.POLICY_NUMBER, Detector.NAME, Detector.DATE, Detector.INSURER
_new_record = tuple.__new__  # (Record's own __new__ is a Python function)


def plan_for(table: TableForms, shape: int, section: str | None) -> Plan | None:
    """The plan of rows of a shape (None: the row path), worked out once per shape and section
    per table."""
    plans = table.plans
    if (shape, section) not in plans:
        plans[shape, section] = _derive([table.forms[fid] for fid in table.shapes[shape]], section)
    return plans[shape, section]  # type: ignore[return-value]  # (only plans are kept there)


def record(plan: Plan, found: Sequence[tuple[Finding, ...]], seg: Segment, li: int, registry: Registry) -> Record:
    """A row's record by its plan: Record's fields in order, as correlate makes them."""
    k, j = plan.number
    name, date, mention = plan.name, plan.date, plan.mention
    return _new_record(
        Record,
        (
            found[k][j][1],
            display_name(found[name[0]][name[1]][1], registry) if name else None,
            found[date[0]][date[1]][1] if date else None,
            found[mention[0]][mention[1]][1] if mention else plan.underwriter,
            plan.source,
            plan.confidence,
            seg.where_cell(li, k),
            plan.basis,
        ),
    )


def block_records(rows: CellRows, section: str | None, seg: Segment, registry: Registry) -> list[Record] | None:
    """The rows' records when every row's shape has a plan (None otherwise: the rows are taken
    one by one, and one without a plan may be a heading that changes the section of those after
    it). Rows of one shape are made column by column."""
    shapes = rows.shapes
    plans = {shape: plan_for(rows.table, shape, section) for shape in set(shapes)}
    if any(plan is None for plan in plans.values()):
        return None
    if len(set(plans.values())) == 1:  # (one shape, or shapes that differ only where no plan looks)
        plan = next(iter(plans.values()))
        assert plan is not None
        return _records(plan, rows.found, rows.lines, seg, registry)
    # Rows of several shapes (the insurer column's names differ in length): each shape's rows
    # together, then back in line order; picked and put back in C.
    out: list[Record | None] = [None] * len(shapes)
    for shape, plan in plans.items():
        assert plan is not None
        picked = list(compress(range(len(shapes)), map(shape.__eq__, shapes)))
        found = rows.found
        of_shape = found.picked(picked) if isinstance(found, ColumnRows) else list(map(found.__getitem__, picked))
        made = _records(plan, of_shape, list(map(rows.lines.__getitem__, picked)), seg, registry)
        deque(map(out.__setitem__, picked, made), maxlen=0)
    return out  # type: ignore[return-value]  # (every row is set)


def _records(
    plan: Plan, found: Sequence[Sequence[tuple[Finding, ...]]], lines: Sequence[int], seg: Segment, registry: Registry
) -> list[Record]:
    """`record` for many rows of one plan, a field at a time."""
    k = plan.number[0]
    numbers = _values(found, plan.number)
    names: object = repeat(None)
    if plan.name:
        values = _values(found, plan.name)
        shown = {name: display_name(name, registry) for name in set(values)}  # (a list repeats its names)
        # (names written `family given` already are shown as they are: no look-up per row)
        names = values if all(k is v for k, v in shown.items()) else map(shown.__getitem__, values)
    dates: object = repeat(None) if plan.date is None else _values(found, plan.date)
    underwriters: object = repeat(plan.underwriter) if plan.mention is None else _values(found, plan.mention)
    fields = zip(
        numbers,
        names,  # type: ignore[call-overload]
        dates,
        underwriters,
        repeat(plan.source),
        repeat(plan.confidence),
        seg.where_cells(lines, k),
        repeat(plan.basis),
    )
    return list(map(_new_record, repeat(Record), fields))


def _values(found: Sequence[Sequence[tuple[Finding, ...]]], slot: Slot) -> Sequence[str]:
    """The value of the finding in `slot` of each row, picked in C; off the column of rows kept
    as columns, and for a column of policy numbers (ValueCells) its values themselves."""
    k, j = slot
    if isinstance(found, ColumnRows):
        column = found.columns[k]
        if isinstance(column, ValueCells) and j == 0:
            return column.values
        if isinstance(column, ByValue):  # (each distinct cell's value once)
            values = {cell: cell_found[j][1] for cell, cell_found in column.found.items()}
            return list(map(values.__getitem__, column.cells))
        return list(map(_VALUE, map(itemgetter(j), column)))
    return list(map(_VALUE, map(itemgetter(j), map(itemgetter(k), found))))


_VALUE = itemgetter(1)  # (Finding.value)


Placed = tuple[tuple[int, int], Slot, tuple[object, ...]]  # ((cell, offset in it), slot, the form's part)


def _derive(forms: list[Form], section: str | None) -> Plan | None:
    numbers: list[Placed] = []
    names: list[Placed] = []
    dates: list[Placed] = []
    mentions: list[tuple[Placed, str]] = []
    for k, form in enumerate(forms):
        for j, part in enumerate(form):
            placed: Placed = ((k, part[1]), (k, j), part)  # type: ignore[assignment]  # (offsets are ints)
            kind = part[0]
            if kind == _NUMBER:
                numbers.append(placed)
            elif kind == _NAME:
                names.append(placed)
            elif kind == _DATE:
                dates.append(placed)
            else:
                said = said_by_label(str(part[9]))  # (an insurer's label window)
                if said is None:
                    return _NO_PLAN  # (the text around the mention decides, across cells)
                if said[0]:
                    mentions.append((placed, said[1]))
    if len(numbers) != 1:
        return _NO_PLAN  # (no number: a heading, a row of names; several: paired in order)
    number = numbers[0]
    picked = [_nearest(items, number) for items in (names, dates, [m for m, _ in mentions])]
    if any(p is _UNSETTLED for p in picked):
        return _NO_PLAN
    name, date, mention = picked
    basis = next((why for m, why in mentions if m is mention), "")
    underwriter, source, basis, confidence = attribute(
        _finding(number), _finding(name), _MENTION if mention else None, basis, section
    )
    return Plan(
        number[1],
        name[1] if name else None,
        date[1] if date else None,
        mention[1] if mention and underwriter is _MENTION else None,
        None if underwriter is _MENTION else underwriter,
        source,
        confidence,
        basis,
    )


_MENTION = "(the mention's value)"  # what attribute() is told the insurer on the line is


def _finding(placed: Placed | None) -> Finding | None:
    """A finding of the form's part (a value nothing here reads), for attribute()."""
    if placed is None:
        return None
    detector, start, end, confidence, insurers, label, heading, registry, person, _ = placed[2]
    return Finding(detector, "", 0, 0, start, end, confidence, insurers, label, heading, registry, person)  # type: ignore[arg-type]


_UNSETTLED: Placed = ((-1, -1), (-1, -1), ())  # which is nearest depends on the cells' lengths


def _nearest(items: list[Placed], number: Placed) -> Placed | None:
    """correlate._nearest by the shape: the one item, or the nearest when all lie in cells on one
    side of the number's (the closest of them, the first on a tie, as min() over the line's order
    takes it); _UNSETTLED when the cells' lengths would decide."""
    if len(items) <= 1:
        return items[0] if items else None
    cell = number[0][0]
    if all(at[0] > cell for at, _, _ in items):
        return min(items, key=_at)
    if all(at[0] < cell for at, _, _ in items):
        return max(items, key=_at)  # (the last offset; max() keeps the first of equals, as min() of distances)
    return _UNSETTLED


def _at(item: Placed) -> tuple[int, int]:
    return item[0]
