"""Text the recipient can see but a body reader skips: each hiding place is read (against a crude
oracle), and end to end over SMTP a record hidden there to a rival insurer is stripped while the
same file to its own underwriter is delivered byte for byte."""

from __future__ import annotations

import io
import os
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

import py7zr
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlp_gateway.extract.package import xml_lines
from dlp_gateway.invisible import INVISIBLE_CLASS
from dlp_gateway.model import Envelope
from dlp_gateway.pipeline import Pipeline
from tests.fixtures import multipart
from tests.helpers import BRANCH_A, HEAD_OFFICE, SOMPO, TOKIO, Sink, example_config, start_gateway, submit
from tests.hidden_text import HIDING_PLACES, NUMBER, RECORD, crude_text

PLACES = sorted(HIDING_PLACES)


def message(place: str, to: str) -> bytes:
    name, ctype, data = HIDING_PLACES[place](RECORD)
    raw = multipart("資料を添付します。", [(ctype, f'attachment; filename="{name}"', data)], to=to)
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # SMTP lines end in CRLF


@pytest.mark.parametrize("place", PLACES)
def test_the_hidden_record_is_read(place: str) -> None:
    msg = message(place, SOMPO)
    report = Pipeline(example_config()).scan(msg, Envelope(HEAD_OFFICE, (SOMPO,)))
    name = None if place == "pdf form field" else "佐々木 花子"  # (the form field holds the number only)
    assert [(r.policy_number, r.name) for r in report.records] == [(NUMBER, name)], report.records
    assert not report.unscannable
    [sompo] = report.decision.recipients
    assert [v.kind for v in sompo.violations] == ["cross_insurer"]


@pytest.mark.parametrize("place", [p for p in PLACES if p.startswith(("xlsx", "docx", "pptx", "odt"))])
def test_the_oracle_and_the_gateway_read_the_same_numbers(place: str) -> None:
    """Every policy-number-shaped token the crude oracle finds in the package is in the gateway's
    segments."""
    name, ctype, data = HIDING_PLACES[place](RECORD)
    from dlp_gateway.extract.dispatch import extract  # noqa: PLC0415
    from dlp_gateway.parse.mime import parse_message  # noqa: PLC0415

    parsed, _ = parse_message(multipart("添付", [(ctype, f'attachment; filename="{name}"', data)]))
    segments, _ = extract(parsed)
    read = "\n".join(line for s in segments for line in s.lines)
    oracle = set(re.findall(r"(?<!\d)8\d{9}(?!\d)", crude_text(data)))
    assert oracle == {NUMBER}
    assert all(n in read for n in oracle)


def test_xml_lines_keeps_paragraphs_and_drops_field_codes() -> None:
    xml = (
        b'<w:document xmlns:w="urn:w"><w:body><w:p><w:r><w:t>\xe5\xb1\xb1</w:t></w:r><w:r><w:tab/>'
        b"<w:t>A</w:t></w:r><w:r><w:instrText>HYPERLINK x</w:instrText></w:r></w:p>"
        b"<w:p><w:r><w:t>B</w:t></w:r></w:p></w:body></w:document>"
    )
    assert xml_lines(xml) == ["山 A", "B"]


@pytest.mark.parametrize("place", PLACES)
async def test_end_to_end_stripped_for_a_rival_and_delivered_whole_to_the_underwriter(
    tmp_path: Path, sink: Sink, place: str
) -> None:
    gw = await start_gateway(tmp_path, sink, notices=None)
    try:
        rival = message(place, SOMPO)
        code, reply = await submit(gw.port, HEAD_OFFICE, [BRANCH_A, SOMPO], rival)
        assert code == 250, reply
        own = message(place, TOKIO)
        code, reply = await submit(gw.port, HEAD_OFFICE, [TOKIO], own)
        assert code == 250, reply
    finally:
        await gw.stop()
    [(_, to_rival, _), (_, to_own, data)] = sink.received
    assert to_rival == (BRANCH_A,)  # the rival insurer was stripped
    assert to_own == (TOKIO,) and data == own  # its own underwriter gets it byte for byte


def _sevenzip(content: bytes, password: str | None = None) -> bytes:
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w", password=password) as archive:
        archive.writestr(content, "名簿.txt")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "build", "reason"),
    [
        ("資料.7z", lambda: _sevenzip(RECORD.encode(), password="secret"), "encrypted"),
        pytest.param(
            "爆弾.7z",
            lambda: _sevenzip(b"0" * (210 * 1024 * 1024)),
            "expand to more than",
            marks=pytest.mark.slow,  # compresses 210 MB to build the bomb
        ),
        ("資料.rar", lambda: b"Rar!\x1a\x07\x00" + bytes(64), "unsupported content (archive"),
    ],
)
def test_an_archive_that_cannot_be_read_is_unscannable_with_its_reason(
    name: str, build: Callable[[], bytes], reason: str
) -> None:
    msg = multipart("資料です。", [("application/octet-stream", f'attachment; filename="{name}"', build())])
    report = Pipeline(example_config()).scan(msg, Envelope(HEAD_OFFICE, (SOMPO,)))
    [u] = report.unscannable
    assert reason in u.reason and u.location.endswith(name)
    [sompo] = report.decision.recipients
    assert [v.kind for v in sompo.violations] == ["unscannable"]


def test_the_invisible_characters_are_every_format_character_and_no_visible_one() -> None:
    """invisible.py spells Unicode's category Cf out for speed: this is its check."""
    pattern = re.compile(INVISIBLE_CLASS)
    listed = {chr(c) for c in range(0x110000) if pattern.fullmatch(chr(c))}
    format_characters = {chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"}
    assert format_characters <= listed
    assert all(unicodedata.category(c) in ("Cf", "Mn", "Lo") for c in listed)  # joiners, selectors, fillers
    assert not any(c.isalnum() and unicodedata.category(c) != "Lo" for c in listed)
    assert {c for c in listed if unicodedata.category(c) == "Lo"} == {"\u115f", "\u1160", "\u3164", "\uffa0"}


# Builders that hide the text they are given (the others hide a fixed number).
TEXT_PLACES = sorted(
    set(PLACES)
    - {
        "file name",
        "pdf form field",
        "xlsx pivot cache",
        "docx embedded workbook",
        "zip member name",
        "xlsx sheet name",
        "utf-16 with a bom",
    }
)
NAMES = ["佐々木 花子", "高橋 一郎", "渡辺 恵子", "伊藤 健一", "中村 大輔"]


@settings(max_examples=int(os.environ.get("DLP_HIDDEN_EXAMPLES", "25")), deadline=None)
@given(
    places=st.lists(st.sampled_from(TEXT_PLACES), min_size=1, max_size=4, unique=True),
    numbers=st.lists(st.integers(0, 99_999_999), min_size=4, max_size=4, unique=True),
    name=st.sampled_from(NAMES),
)
def test_records_hidden_anywhere_at_once_are_all_read(places: list[str], numbers: list[int], name: str) -> None:
    """Several hiding places in one message, each with its own customer: every one is found."""
    planted = {}
    files = []
    for place, n in zip(places, numbers, strict=False):
        number = f"81{n:08d}"
        planted[number] = place
        file_name, ctype, data = HIDING_PLACES[place](f"証券番号：{number}　契約者名：{name} 様")
        files.append((ctype, f'attachment; filename="{file_name}"', data))
    msg = multipart("資料を添付します。", files)
    report = Pipeline(example_config()).scan(msg, Envelope(HEAD_OFFICE, (SOMPO,)))
    found = {r.policy_number for r in report.records}
    assert set(planted) <= found, {n: p for n, p in planted.items() if n not in found}
