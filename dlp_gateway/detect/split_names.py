"""A customer's name split over two columns of a list: the family name under 姓 (契約者姓, 氏, 苗字,
契約者氏名（姓）) and the given name under 名 (契約者名 beside 契約者姓, 契約者氏名（名）).

Read cell by cell, each half alone is no name, or only the given name (契約者名 is a name label), so
the row's record would carry 太郎 where the customer is 山田 太郎. Where a header holds both columns
of one person (the same words before 姓 and 名), the two cells of a row make one name, labelled 氏名.
Reading columns (フリガナ（姓）, セイ) are the kana of the same customer, not a second one: left out.
"""

from __future__ import annotations

from collections.abc import Iterable

import regex

from dlp_gateway.detect.normalize import NAME_RUN, display_name
from dlp_gateway.model import Detector, Finding

_FAMILY = regex.compile(r"(?P<who>.*?)[（(]?(?:姓|氏|苗字|名字)[）)]?")
_GIVEN = regex.compile(r"(?P<who>.*?)[（(]?名[）)]?")
_READING = regex.compile("カナ|かな|フリガナ|ふりがな|読み|ヨミ|よみ|セイ|メイ")
FAMILY_MAX, GIVEN_MAX = 5, 6  # characters of a family name and of a given name
LABEL = "氏名"

Columns = tuple[str, str]  # (family title, given title)


def name_columns(titles: Iterable[str]) -> Columns | None:
    """The family and given name titles of one person in a header row, if it has both."""
    family: dict[str, str] = {}
    given: dict[str, str] = {}
    for title in titles:
        if _READING.search(title):
            continue
        if m := _FAMILY.fullmatch(title):
            family.setdefault(m.group("who"), title)
        elif m := _GIVEN.fullmatch(title):
            given.setdefault(m.group("who"), title)
    who = next((w for w in family if w in given), None)
    return None if who is None else (family[who], given[who])


def joined(found: list[Finding], cells: list[str], columns: Columns, si: int, li: int) -> list[Finding]:
    """A labelled row's findings with its two name cells read as one name (in place of any name
    found in either alone), when both hold name characters only."""
    at, spans = 0, {}
    for cell in cells:
        title, _, value = cell.partition(":")
        if title in columns:
            spans[title] = (at + len(title) + 1, at + len(cell), value)
        at += len(cell) + 1
    if len(spans) != 2:
        return found
    (fs, fe, family), (gs, ge, given) = spans[columns[0]], spans[columns[1]]
    if not (_is_name(family, FAMILY_MAX) and _is_name(given, GIVEN_MAX)) or fs > gs:
        return found
    kept = [f for f in found if f.detector != Detector.NAME or not (fs <= f.start < fe or gs <= f.start < ge)]
    name = display_name(f"{family} {given}")
    return [*kept, Finding(Detector.NAME, name, si, li, fs, ge, confidence=0.8, label=LABEL)]


def _is_name(value: str, longest: int) -> bool:
    value = value.strip()
    return 0 < len(value) <= longest and NAME_RUN.fullmatch(value) is not None
