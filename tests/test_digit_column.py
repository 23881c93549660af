"""The column form for cells of digits (detect/digit_column.py) against the line form: generated
columns of numbers under many titles, insurers with and without check digits, patterns that match
part of a value or look around it, and a registry; every cell's findings equal what the line form
of every detector finds in it alone, and the template path is the one taken."""

from __future__ import annotations

import dataclasses

import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.evalset import Generator
from dlp_gateway.config.schema import Config
from dlp_gateway.detect.cells import CellReader
from dlp_gateway.detect.detectors import Detectors
from dlp_gateway.detect.digit_column import DigitColumn, ReadOne
from dlp_gateway.detect.pattern_shapes import NEVER, DigitValues, backtracks_little, digit_shape
from dlp_gateway.extract.table import table_segment
from dlp_gateway.model import Detector, Finding, Segment
from tests.cell_oracle import by_cells, labelled_rows
from tests.helpers import example_config

GEN = Generator(seed=23)
CUSTOMERS = [GEN.customer() for _ in range(12)]
REGISTERED = [c.number for c in CUSTOMERS if c.number.isdigit()]


def _with(config: Config, **patterns: tuple[str, str | None]) -> Config:
    """The configuration with insurers' patterns (wrapped as the loader wraps them) and check digits."""
    insurers = dict(config.insurers)
    for insurer, (pattern, check) in patterns.items():
        compiled = regex.compile(rf"(?<![0-9])(?:{pattern})(?![0-9])", regex.V1)
        insurers[insurer] = dataclasses.replace(insurers[insurer], policy_numbers=(compiled,), check_digit=check)
    return dataclasses.replace(config, insurers=insurers)


BASE = example_config()
CONFIGS = {
    "example": BASE,
    "check digits": _with(BASE, tokio=(r"8\d{9}", "luhn"), sompo=(r"3\d{10}", "mod11")),
    # Patterns that match part of a value, overlap another's, or could match nothing.
    "overlapping": _with(
        BASE, tokio=(r"8\d{9}|8\d{3}", "mod10"), msi=(r"\d{4,12}", None), aioi=(r"(?:12)?3\d{3}", None)
    ),
    "letters around": _with(BASE, aioi=(r"A?\d{6}[A-Z]?", None)),
    # Patterns with a column form (pattern_shapes.digit_shape) and one without.
    "shapes": _with(
        BASE, tokio=(r"81\d{8}", None), sompo=(r"\d{11}", None), msi=(r"[0-9]{10}", None), aioi=(r"\d{4}-\d{4}", None)
    ),
}
READERS = {name: Detectors(config, GEN.registry) for name, config in CONFIGS.items()} | {
    f"{name}, no registry": Detectors(config)
    for name, config in CONFIGS.items()  # (keys by length alone)
}
TITLES = [
    "証券番号",
    "契約番号",
    "保険料",
    "電話",
    "TEL",
    "No",
    "証券ＮＯ",  # full-width: the views change the title, the line form reads it
    "Policy no",
    "証券 番号",
    "郵便番号",
    "満期日",
    "2025年",
    "備考",
    "控１２３４５６７８９０１",  # (full-width digits: \d{11} matches in the title itself)
    "控٠١٢٣٤٥٦٧٨٩٠",  # (Arabic-Indic digits, which the views keep: so does \d{11})
]


def numbers() -> st.SearchStrategy[str]:
    lead = st.sampled_from(["8", "3", "12", "0", "20250", "1", "9"])
    return st.one_of(
        st.builds(lambda a, b: a + b, lead, st.text("0123456789", min_size=0, max_size=13)),
        st.sampled_from(REGISTERED or ["8100000001"]),
        st.sampled_from(["20250401", "19991231", "0312345678", "8100000001", "31000000001", "1234"]),
    )


def _table(head: list[str], rows: list[list[str]]) -> Segment:
    body = [head, *rows]
    return table_segment("list.csv", [(cells, (f":line {i + 1}",)) for i, cells in enumerate(body)])


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(sorted(READERS)),
    st.lists(st.sampled_from(TITLES), min_size=2, max_size=4, unique=True),
    st.lists(st.lists(numbers(), min_size=4, max_size=4), min_size=1, max_size=30),
)
def test_a_column_of_digits_reads_as_each_cell_alone(name: str, head: list[str], values: list[list[str]]) -> None:
    detectors = READERS[name]
    seg = _table([*head, "契約者名"], [[*row[: len(head)], "山田 太郎"] for row in values])
    if not seg.headers:
        return  # (a header of look-alike titles only is no header: nothing is read by cells)
    got = dict(detectors.cells.table(seg, 0))
    assert {li for li, found in got.items() if found is not None} == labelled_rows(seg)
    for li, found in got.items():
        if found is not None:
            assert found == by_cells(detectors, seg, 0, li), seg.lines[li]


def test_the_template_path_reads_a_column_with_a_handful_of_line_reads() -> None:
    """A thousand policy numbers and amounts under their titles: the line form reads one cell per
    key (title, length, patterns matched, check digits, registry), not a cell per row."""
    for name, detectors in READERS.items():
        read: list[str] = []
        column = detectors.cells.digits
        assert isinstance(column, DigitColumn), name
        line_form = column.read_one

        def counted(cell: str, line_form: ReadOne = line_form, read: list[str] = read) -> list[Finding]:
            read.append(cell)
            return line_form(cell)

        column.read_one = counted
        reader = CellReader(detectors.chunk, digits=column)
        rows = [[f"81{i:08d}", f"{10000 + i * 7}", "山田 太郎"] for i in range(1000)]
        seg = _table(["証券番号", "保険料", "契約者名"], rows)
        found = dict(reader.table(seg, 0))
        column.read_one = line_form
        assert len(read) <= 20, (name, len(read))
        assert all(found[li] == by_cells(detectors, seg, 0, li) for li in range(1, 1001)), name
        if name == "example":
            assert sum(f.detector == Detector.POLICY_NUMBER for li in range(1, 1001) for f in found[li] or ()) == 1000


def test_an_insurer_whose_name_holds_a_digit_turns_the_column_form_off() -> None:
    config = BASE
    insurers = dict(config.insurers)
    insurers["tokio"] = dataclasses.replace(insurers["tokio"], aliases=(*insurers["tokio"].aliases, "TM1"))
    assert Detectors(dataclasses.replace(config, insurers=insurers)).cells.digits is None
    assert Detectors(config).cells.digits is not None


def test_only_patterns_that_cannot_backtrack_far_are_searched_without_a_timeout() -> None:
    """A column's search drops the regex timeout (a clock reading per match) only for patterns
    made of single atoms, fixed repeats and a few optional ones; every other keeps it."""
    fenced = "(?<![0-9])(?:{})(?![0-9])".format
    linear = [r"8\d{9}", r"MS\d{7}", r"[0-9A-Z]{2}-?\d{8}", r"A?\d{6}[A-Z]?"]
    others = [r"(\d+)+", r"\d{4,12}", r"8\d{9}|8\d{3}", r"\d+", r"a?a?a?a?a?", r"(?:12)?3\d{3}", r"\d*"]
    assert all(backtracks_little(fenced(p)) for p in linear)
    assert not any(backtracks_little(fenced(p)) for p in others)
    assert not backtracks_little(r"8\d{9}")  # (not fenced as the loader writes it)
    digits = READERS["example"].cells.digits
    assert isinstance(digits, DigitColumn) and all(digits.linear)


def test_an_eight_digit_date_in_a_column_of_numbers_is_read_as_itself() -> None:
    """Of two eight-digit values under one title, the one that reads as a date has a key (and
    findings) of its own, whichever comes first and with or without a registry: where a pattern
    takes eight digits, 12345678 is a policy number and 20250401 a date, not one."""
    for first, second in (("12345678", "20250401"), ("20250401", "12345678")):
        for name, detectors in READERS.items():
            rows = [[first, "8100000001", "山田 太郎"], [second, "8100000002", "山田 太郎"]]
            seg = _table(["備考", "証券番号", "契約者名"], rows)  # (msi's \d{4,12}: a number, not a date)
            got = dict(detectors.cells.table(seg, 0))
            for li in (1, 2):
                assert got[li] == by_cells(detectors, seg, 0, li), (name, seg.lines[li])


SHAPED = [
    r"8\d{9}",
    r"3\d{10}",
    r"MS\d{7}",
    r"81\d{8}",
    r"\d{11}",
    r"[0-9]{4}",
    r"\d{4}-\d{4}",
    r"[A-Z]{2}\d{3}",
    r"0\d",
]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(SHAPED),
    st.sampled_from(["証券番号", "No", "MS", "備考"]),
    st.one_of(
        st.lists(numbers(), min_size=1),
        # (columns of one length, and of one first digit too: settled by their sets alone)
        st.lists(st.text("0123456789", min_size=10, max_size=10), min_size=1),
        st.lists(st.text("0123456789", min_size=9, max_size=9).map("8".__add__), min_size=1),
    ),
)
def test_a_patterns_column_form_is_its_search(pattern: str, title: str, values: list[str]) -> None:
    # The oracle is the engine: the matches of the fenced pattern over `title:value` cells.
    fenced = _fenced(pattern)
    shape = digit_shape(fenced)
    assert shape is not None, pattern
    found = [regex.findall(fenced, f"{title}:{v}", flags=regex.V1) for v in values if v]
    values = [v for v in values if v]
    if shape is NEVER:
        assert not any(found)
    else:
        assert isinstance(shape, tuple)
        assert DigitValues(values).hits(shape) == sum(m == [v] for m, v in zip(found, values, strict=True))
        assert all(m in ([], [v]) for m, v in zip(found, values, strict=True))  # (a value whole, or nothing)


def _fenced(pattern: str) -> str:
    return rf"(?<![0-9])(?:{pattern})(?![0-9])"


def test_which_patterns_have_a_column_form() -> None:
    fenced = _fenced  # (as the loader writes them)
    assert digit_shape(fenced(r"8\d{9}")) == (10, "8")
    assert digit_shape(fenced(r"[0-9]{10}")) == (10, "")
    assert digit_shape(fenced(r"MS\d{7}")) is NEVER
    for searched in [
        r"TMN",
        r"A?\d{6}",
        r"[1-9]\d{9}",
        r"8\d{3}1",
        r"A{0}8\d{9}",
        r"8\d{9}|8\d{3}",
        r"[0-9A-Z]{2}\d{8}",
    ]:
        assert digit_shape(fenced(searched)) is None, searched
    assert digit_shape(r"8\d{9}") is None  # (not fenced as the loader writes it)
