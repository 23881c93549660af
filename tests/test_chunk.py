"""Detection over chunks of lines (detect/chunk.py) finds exactly what reading each line alone finds:
same values, same line numbers, same offsets, same order — on the evaluation set, on the
third-party corpora, and on generated lines built from the pieces that could leak across a line
break (a label at a line's end and a name at the next line's start, split dates, full-width and
half-width forms, characters NFKC expands)."""

from __future__ import annotations

import dataclasses
import json
import unicodedata
from collections.abc import Sequence
from unittest.mock import patch

import pytest
import regex
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bench.evalset import Generator
from bench.extract_throughput import make_text
from dlp_gateway.detect import chunk as chunk_module
from dlp_gateway.detect import names as names_module
from dlp_gateway.detect.chunk import Chunk, chunks
from dlp_gateway.detect.detectors import Detectors
from dlp_gateway.detect.letter import correspondent_lines, signature_lines
from dlp_gateway.detect.names import FIELD_LABELS, HONORIFIC, HONORIFIC_NAME_MAX, HONORIFICS, honorific_matches
from dlp_gateway.detect.normalize import cut_spans, has_digit
from dlp_gateway.detect.policy_number import PolicyNumberFinder, blob_safe
from dlp_gateway.model import Finding, Segment
from dlp_gateway.pipeline import Pipeline
from tests.cell_oracle import by_cells, labelled_rows
from tests.helpers import CORPORA, corpus_files, example_config

GEN = Generator(seed=5)
DETECTORS = Detectors(example_config(), GEN.registry)


def line_by_line(lines: Sequence[str]) -> list[Finding]:
    return [f for i, line in enumerate(lines) for f in DETECTORS.line(line, 0, i)]


def chunked(lines: Sequence[str]) -> list[Finding]:
    return [f for chunk in chunks(lines) for found in DETECTORS.chunk(chunk, 0) for f in found]


def assert_same(lines: Sequence[str]) -> None:
    expected = line_by_line(lines)
    got = chunked(lines)
    assert got == expected, next((g, e) for g, e in zip(got, expected, strict=False) if g != e) if got else expected


def segment_lines(raw: bytes) -> list[Sequence[str]]:
    segments, _ = Pipeline(example_config()).read(raw)
    return [s.lines for s in segments]


def test_the_evaluation_set_reads_the_same() -> None:
    found = 0
    for case in GEN.cases(120):
        for lines in segment_lines(case.raw):
            assert_same(lines)
            found += len(line_by_line(lines))
    assert found > 500  # the set holds customers: the comparison compared something


def test_the_corpora_read_the_same() -> None:
    for path in corpus_files()[::3]:
        for lines in segment_lines(path.read_bytes()):
            assert_same(lines)


def test_prose_with_names_reads_the_same() -> None:
    source = CORPORA / "ja_names" / "stockmark_ner" / "ner_person_and_negative.jsonl"
    texts = [json.loads(row)["text"] for row in source.read_text(encoding="utf-8").splitlines()[:1500]]
    lines = [f"{t} 様" if i % 3 == 0 else t for i, t in enumerate(texts)]
    assert sum(f.detector == "name" for f in line_by_line(lines)) > 100
    assert_same(lines)


PIECES = [
    "契約者名：",
    "契約者名",
    "氏名",
    " ",
    "\u3000",
    "\t",
    "山田 太郎",
    "佐々木クミ子",
    "ﾔﾏﾀﾞ ﾀﾛｳ",
    "様",
    "さん",
    "証券番号",
    "8123456789",
    "８１２３４５６７８９",
    "8123-",
    "456789",
    "MS-1234567",
    "A123456789",
    "2024年",
    "10月1日",
    "2024/10/01",
    "令和6年",
    "㍻",
    "ﬁ",
    "ß",
    "東京海上",
    "日動",
    "損保ジャパン",
    "■",
    "TEL",
    "03-1234-5678",
    "円",
    "、",
    "です。",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(PIECES), max_size=6).map("".join), min_size=1, max_size=8))
def test_generated_lines_read_the_same(lines: list[str]) -> None:
    assert_same(lines)


def test_a_label_ending_one_line_does_not_name_the_next() -> None:
    lines = ["ご契約者名：", "山田 太郎", "山田 太郎", "様", "2024年", "10月1日"]
    assert chunked(lines) == line_by_line(lines)
    assert [f.detector for f in chunked(lines)] == []


def test_a_newline_inside_a_line_stays_inside_it() -> None:
    chunk = Chunk(["件名 山田\n太郎 様", "証券番号 8123456789"])
    assert chunk.lines[0] == "件名 山田 太郎 様"
    assert chunk.locate(chunk.text.index("証券")) == (1, 0)


def test_large_tables_are_cut_into_bounded_chunks() -> None:
    rows = [f"証券番号:8{i:09d}\t契約者名:山田 太郎" for i in range(5000)]
    parts = list(chunks(rows))
    assert len(parts) > 2
    assert all(len(c.text) <= 70_000 for c in parts)
    assert [c.first for c in parts][1:] == [sum(len(p.lines) for p in parts[:k]) for k in range(1, len(parts))]


def test_an_insurer_pattern_that_could_see_a_newline_is_run_line_by_line() -> None:
    config = example_config()
    tokio = config.insurers["tokio"]
    loose = dataclasses.replace(tokio, policy_numbers=(regex.compile(r"(?<![0-9])(?:8\s?\d{9})(?![0-9])"),))
    finder = PolicyNumberFinder([loose])
    assert not blob_safe(loose.policy_numbers[0])
    assert blob_safe(tokio.policy_numbers[0])
    lines = ["証券番号 8", "123456789 です", "8 123456789"]
    by_line = [f for i, line in enumerate(lines) for f in finder.find(Chunk([line], i), 0)]
    assert finder.find(Chunk(lines), 0) == by_line
    assert [(f.line, f.value) for f in by_line] == [(2, "8123456789")]


def test_the_digit_gate_lets_every_digit_through() -> None:
    """Every code point whose NFKC form holds a digit (㋃ is 4月, ㏩ is 10日) opens the gate."""
    digits = [c for c in map(chr, range(0x110000)) if any(d.isdigit() for d in unicodedata.normalize("NFKC", c))]
    assert len(digits) > 800
    assert all(has_digit(f"証券{c}") for c in digits)
    assert not has_digit("本日の会議資料を共有します。") and not has_digit("no digits")


def reference_segments(segments: Sequence[Segment]) -> list[Finding]:
    """Detectors.segments as it read before chunks: every line alone (a labelled table row cell
    by cell), then the greeting and signature filter and numbers broken across two lines."""
    out: list[Finding] = []
    for si, seg in enumerate(segments):
        correspondents = correspondent_lines(seg.lines) if seg.kind == "text" else set()
        rows = labelled_rows(seg)
        for li, line in enumerate(seg.lines):
            if not line.strip():
                continue
            found = by_cells(DETECTORS, seg, si, li) if li in rows else DETECTORS.line(line, si, li)
            if li in correspondents:
                found = [f for f in found if f.detector != "name" or f.label in FIELD_LABELS]
            if seg.kind == "text" and li + 1 < len(seg.lines):
                found += [
                    f
                    for f in DETECTORS.numbers.find_across(line, seg.lines[li + 1], si, li)
                    if not any(g.detector == f.detector and g.end > f.start for g in found)
                ]
            out += found
    return out


BROKEN = [
    "山田様",
    "",
    "証券番号：8123-",
    "456789 の件です。",
    "MS-",
    "1234567",
    "契約者名：佐藤 花子",
    "A12345",
    "6789",
    "以上",
    "--",
    "鈴木 一郎",
]


@pytest.mark.parametrize("max_lines", [1, 2, 3, 2000])
def test_whole_segments_read_the_same_at_any_chunk_size(monkeypatch: pytest.MonkeyPatch, max_lines: int) -> None:
    monkeypatch.setattr(chunk_module, "MAX_LINES", max_lines)
    segments = [Segment("body", tuple(BROKEN)), Segment("t", ("証券番号\t契約者名", "8123456789\t山田 太郎"), "table")]
    for case in GEN.cases(40):
        segments += Pipeline(example_config()).read(case.raw)[0]
    expected = reference_segments(segments)
    assert DETECTORS.segments(tuple(segments)) == expected
    assert {"8123456789", "MS1234567", "A123456789"} <= {f.value for f in expected}


def signature_line_by_line(lines: Sequence[str]) -> set[int]:
    """The signature block as correspondent_lines found it before: one match per line."""
    content = False
    for i, line in enumerate(lines):
        if SIGNATURE_LINE.match(line) and content:
            return set(range(i, len(lines)))
        content = content or bool(line.strip())
    return set()


SIGNATURE_LINE = regex.compile(r"^\s*(?:--\s*|[-‐―─━=＝_＿*＊~〜・]{4,}.*|以上[。.]?\s*)$")
LETTER = [
    "",
    "  ",
    "東京海上日動 鈴木様",
    "お世話になります。",
    "--",
    "-- ",
    "以上",
    "以上。",
    "――――",
    "----- 山田",
    "本文",
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(LETTER), max_size=12))
def test_the_signature_is_found_where_a_line_by_line_search_found_it(lines: list[str]) -> None:
    assert signature_lines(tuple(lines)) == signature_line_by_line(lines)


def _honorific_spans_alone(line: str) -> list[tuple[tuple[int, int], ...]]:
    return [(m.span(), m.span("name"), m.span("label")) for m in HONORIFIC.finditer(line)]


def _honorific_spans_windowed(line: str) -> list[tuple[tuple[int, int], ...]]:
    text = f"前行\n{line}\n次行"  # a line inside a chunk, as find() searches it
    start = 3
    hints = [m.span() for m in regex.finditer("|".join(HONORIFICS), line)]
    found = honorific_matches(text, start, [(s + start, e + start) for s, e in hints])
    return [tuple((s - start, e - start) for s, e in (m.span(), m.span("name"), m.span("label"))) for m in found]


def evaluation_and_corpus_lines() -> list[str]:
    """The lines of 120 generated agency mails and of every third corpus message, as segmented."""
    lines: list[str] = []
    for case in GEN.cases(120):
        for seg_lines in segment_lines(case.raw):
            lines += seg_lines
    for path in corpus_files()[::3]:
        for seg_lines in segment_lines(path.read_bytes()):
            lines += seg_lines
    return lines


def test_honorifics_searched_in_windows_match_the_whole_line() -> None:
    # Windows before each honorific find what one search of the line finds, on real text.
    source = CORPORA / "ja_names" / "stockmark_ner" / "ner_person_and_negative.jsonl"
    texts = [json.loads(row)["text"] for row in source.read_text(encoding="utf-8").splitlines()[:1500]]
    lines = [f"{t} 様" if i % 3 == 0 else t for i, t in enumerate(texts)]
    lines += evaluation_and_corpus_lines()
    checked = 0
    for line in lines:
        expected = _honorific_spans_alone(line)
        assert _honorific_spans_windowed(line) == expected, line
        checked += bool(expected)
    assert checked > 300


NAME_PIECES = [
    "山田",
    "太郎",
    "佐々木",
    "ヤマダ",
    "タロウ",
    "クミ子",
    "あすか",
    "の",
    "お",
    "ご",
    "・",
    " ",
    "\u3000",
    "\t",
    "   ",
    "様",
    "さま",
    "さん",
    "殿",
    "氏",
    "、",
    "です",
    "A",
    "1",
    "ー",
    "々",
    "ｶﾅ",
]


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(NAME_PIECES), max_size=14).map("".join))
def test_honorifics_searched_in_windows_match_generated_lines(line: str) -> None:
    assert _honorific_spans_windowed(line) == _honorific_spans_alone(line)


def test_the_longest_honorific_name_fits_the_window() -> None:
    longest = "アイウエオカキク・アイウエオカキク"  # カタカナ{8}, a separator, カタカナ{8}
    assert len(longest) == HONORIFIC_NAME_MAX
    (m,) = HONORIFIC.finditer(f"前は{longest}   様")
    assert m.group("name") == longest
    assert _honorific_spans_windowed(f"前は{longest}   様") == _honorific_spans_alone(f"前は{longest}   様")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab -\t山田", max_size=40), st.sets(st.integers(0, 40), max_size=12), st.integers(0, 5))
def test_a_cut_index_is_the_list_of_kept_offsets(text: str, cuts: set[int], base: int) -> None:
    bounds = sorted(c for c in cuts if c <= len(text))
    spans = [(s, e) for s, e in zip(bounds[::2], bounds[1::2], strict=False) if s < e]
    original = range(base, base + len(text))
    kept_text, index = cut_spans(text, original, spans)
    expected = [original[i] for i in range(len(text)) if not any(s <= i < e for s, e in spans)]
    assert kept_text == "".join(text[i - base] for i in expected)
    assert len(index) == len(expected) and list(index) == expected
    assert [index[i] for i in range(len(expected))] == expected
    assert list(index[1:-1]) == expected[1:-1]
    if expected:
        assert index[-1] == expected[-1]
    with pytest.raises(IndexError):
        index[len(expected)]


def _sized_line_by_line(lines: Sequence[str], first: int) -> list[tuple[int, tuple[str, ...]]]:
    """The chunking as it was, sizing every line (the whole-segment shortcut must agree)."""
    out, start = [], 0
    while start < len(lines):
        end, size = start, 0
        while (
            end < len(lines)
            and end - start < chunk_module.MAX_LINES
            and (size < chunk_module.MAX_CHARS or end == start)
        ):
            size += len(lines[end]) + 1
            end += 1
        out.append((first + start, tuple(lines[start:end])))
        start = end
    return out


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.integers(0, 70), max_size=30), st.integers(0, 5), st.sampled_from([(8, 60), (3, 1000), (2000, 65536)])
)
def test_chunk_boundaries_with_and_without_the_shortcut(
    lengths: list[int], first: int, limits: tuple[int, int]
) -> None:
    lines = ["x" * n for n in lengths]
    saved = chunk_module.MAX_LINES, chunk_module.MAX_CHARS
    chunk_module.MAX_LINES, chunk_module.MAX_CHARS = limits
    try:
        got = [(c.first, tuple(c.lines)) for c in chunk_module.chunks(lines, first)]
        assert got == _sized_line_by_line(lines, first)
    finally:
        chunk_module.MAX_LINES, chunk_module.MAX_CHARS = saved


def _names_searching_every_window(chunk: Chunk) -> list[Finding]:
    """names.find with HONORIFIC searched over each whole line, whatever the labelled names took."""

    def searched(text: str, start: int, hints: list[tuple[int, int]], within: object = ()) -> list[regex.Match[str]]:
        end = text.find("\n", start)
        return list(HONORIFIC.finditer(text, start, len(text) if end < 0 else end))

    with patch.object(names_module, "honorific_matches", searched):
        return names_module.find(chunk, 0)


NAME_TOKENS = [
    "契約者名：", "氏名：", "氏名", "お客様名：", "被保険者 ", "山田", "太郎", "花子", "ヤマダ", "タロウ", "・",
    " ", "　", "様", "さま", "さん", "殿", "氏", "渋谷区", "\t", "証券番号：8123456789", "満期日：2025/04/01",
    "各位", "ご担当", "弊社", "鈴木", "林", "**",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.sampled_from(NAME_TOKENS), max_size=14).map("".join), min_size=1, max_size=4))
@example(["山田 氏名：鈴木 太郎"])  # (氏 starts the label's span: the name before it is still found)
@example(["渋谷区\t氏名：鈴木 太郎 様", "契約者名：ヤマダ タロウ さま　満期日：2025/04/01"])
def test_windows_inside_labelled_names_are_skipped_without_changing_the_names(lines: list[str]) -> None:
    chunk = Chunk(tuple(lines))
    assert names_module.find(chunk, 0) == _names_searching_every_window(chunk)


def test_skipping_windows_inside_labelled_names_changes_no_name_in_real_text() -> None:
    lines = make_text(300).decode().splitlines()  # (a list in a letter: 証券番号：… 契約者名：山田 太郎 様 …)
    lines += evaluation_and_corpus_lines()
    found = 0
    for k in range(0, len(lines), 8):
        chunk = Chunk(tuple(lines[k : k + 8]))
        expected = _names_searching_every_window(chunk)
        assert names_module.find(chunk, 0) == expected, lines[k : k + 8]
        found += len(expected)
    assert found > 100
