"""extract: every format an agency's mail carries, read into segments with provenance."""

from __future__ import annotations

import base64
import io
import shutil
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from dlp_gateway.config import load_config
from dlp_gateway.errors import ConfigError
from dlp_gateway.extract.archive import CHUNK, zip_members
from dlp_gateway.extract.budget import Budget, ExtractLimits
from dlp_gateway.extract.dispatch import extract
from dlp_gateway.extract.package import _sheet_tail, sheet_header_footer
from dlp_gateway.extract.table import _clean_row, table_segment
from dlp_gateway.model import Envelope, Segment, Unscannable, UnscannableKind
from dlp_gateway.parse.mime import MimeLimits, parse_message
from dlp_gateway.pipeline import Pipeline, envelope_from_headers
from dlp_gateway.registry import EMPTY_REGISTRY
from tests import fixtures as fx
from tests.helpers import RULES, b64_word, example_config

OCTET = "application/octet-stream"


def read(
    raw: bytes, limits: ExtractLimits | None = None, mime: MimeLimits | None = None
) -> tuple[tuple[Segment, ...], tuple[Unscannable, ...]]:
    message, problems = parse_message(raw, mime)
    segments, unreadable = extract(message, limits, mime)
    return segments, problems + unreadable


def texts(segments: tuple[Segment, ...]) -> dict[str, str]:
    """location → all its text (several segments at one location are joined)."""
    out: dict[str, str] = {}
    for s in segments:
        out[s.location] = (out.get(s.location, "") + "\n" + "\n".join(s.lines)).strip("\n")
    return out


def records(raw: bytes) -> list[tuple[str | None, str | None, str | None, str]]:
    report = Pipeline(example_config(), EMPTY_REGISTRY).scan(raw, parse_envelope(raw))
    return [(r.policy_number, r.name, r.underwriter, r.location) for r in report.records]


def parse_envelope(raw: bytes) -> Envelope:
    return envelope_from_headers(parse_message(raw)[0])


def attach(ctype: str, disposition: str, payload: bytes) -> bytes:
    return fx.multipart("添付をご確認ください。", [(ctype, disposition, payload)])


ROW_RECORDS = {("8100000001", "山田 太郎", "tokio"), ("MS1000001", "伊藤 健一", "msi")}


def test_csv_cp932_with_rfc2231_japanese_name() -> None:
    raw = attach("text/csv; charset=Shift_JIS", "attachment; filename*=UTF-8''%E6%BA%80%E6%9C%9F.csv", fx.csv_bytes())
    segs, unscannable = read(raw)
    assert unscannable == ()
    table = texts(segs)["attachment[0]:満期.csv"]
    assert "証券番号:8100000001\t契約者名:山田 太郎\t満期日:2024/10/01\t引受保険会社:東京海上日動" in table
    got = records(raw)
    assert {(n, m, u) for n, m, u, _ in got} == ROW_RECORDS
    assert ("8100000001", "山田 太郎", "tokio", "attachment[0]:満期.csv:line 2") in got


@pytest.mark.parametrize(("encoding", "delimiter"), [("utf-8-sig", ","), ("utf-8", "\t"), ("utf-16", "\t")])
def test_csv_utf8_bom_and_tsv(encoding: str, delimiter: str) -> None:
    raw = attach(OCTET, 'attachment; filename="list.tsv"', fx.csv_bytes(encoding, delimiter))
    assert {(n, m, u) for n, m, u, _ in records(raw)} == ROW_RECORDS


def test_a_record_in_a_later_csv_column_keeps_its_line() -> None:
    # A CSV row has one reference for all its cells; a name-only record anchored in the second
    # column once lost it ("…list.csv" instead of "…list.csv:line 3").
    data = "満期日,契約者名\r\n2024/10/01,山田 太郎\r\n2024/10/02,伊藤 健一\r\n".encode("cp932")
    raw = attach("text/csv; charset=Shift_JIS", 'attachment; filename="list.csv"', data)
    assert [(m, where) for _, m, _, where in records(raw)] == [
        ("山田 太郎", "attachment[0]:list.csv:line 2"),
        ("伊藤 健一", "attachment[0]:list.csv:line 3"),
    ]


def test_cell_refs_follow_the_cell_a_record_is_anchored_in() -> None:
    rows = [
        ["", "証券番号", "", "契約者名"],
        ["x", "8100000001", "", "山田 太郎"],
        ["", "", "", ""],
        ["", "", "", "伊藤 健一"],
    ]
    seg = table_segment("s", ((r, [f"!{c}{n}" for c in "ABCD"]) for n, r in enumerate(rows, start=1)))
    assert seg.lines[1] == "x\t証券番号:8100000001\t契約者名:山田 太郎"
    assert [seg.where(1, o) for o in (0, 2, len("x\t証券番号:8100000001\t"))] == ["s!A2", "s!B2", "s!D2"]
    assert seg.where(2) == "s!A3"  # an empty row keeps its first reference
    assert seg.where(3, 0) == "s!D4"

    # A sheet's suffixes are joined from the column and the row only for the cell asked about.
    sheet = table_segment("s", ((r, (str(n),)) for n, r in enumerate(rows, start=1)), ["!A", "!B", "!C", "!D"])
    assert sheet.lines == seg.lines
    for line in range(len(rows)):
        for offset in range(len(seg.lines[line]) + 1):
            assert sheet.where(line, offset) == seg.where(line, offset)


def test_xlsx_sent_as_octet_stream_with_rfc2047_name_every_sheet_and_cell_refs() -> None:
    name = b64_word("満期一覧.xlsx", "ISO-2022-JP")
    raw = attach(OCTET, f'attachment; filename="{name}"', fx.xlsx_bytes())
    segs, unscannable = read(raw)
    assert unscannable == ()
    by_loc = texts(segs)
    assert set(by_loc) >= {"attachment[0]:満期一覧.xlsx!満期一覧", "attachment[0]:満期一覧.xlsx!非表示"}
    got = records(raw)
    assert ("8100000001", "山田 太郎", "tokio", "attachment[0]:満期一覧.xlsx!満期一覧!A4") in got
    assert ("A100000001", "中村 大輔", "aioi", "attachment[0]:満期一覧.xlsx!非表示!A2") in got  # hidden sheet
    assert "満期日:2024-10-01" in by_loc["attachment[0]:満期一覧.xlsx!満期一覧"]  # a date cell


def test_legacy_xls() -> None:
    raw = attach("application/vnd.ms-excel", 'attachment; filename="list.xls"', fx.xls_bytes())
    assert {(n, m, u) for n, m, u, _ in records(raw)} == ROW_RECORDS


def test_docx_paragraphs_and_tables() -> None:
    raw = attach(OCTET, 'attachment; filename="annai.docx"', fx.docx_bytes())
    got = {(n, m, u) for n, m, u, _ in records(raw)}
    assert got >= ROW_RECORDS
    assert ("A100000001", "中村 大輔", "aioi") in got


def test_pptx_tables() -> None:
    raw = attach(OCTET, 'attachment; filename="shiryo.pptx"', fx.pptx_bytes())
    assert {(n, m, u) for n, m, u, _ in records(raw)} == ROW_RECORDS


@pytest.mark.parametrize("by_column", [False, True])
def test_pdf_cid_font_table_rows_with_page_provenance(by_column: bool) -> None:
    raw = attach("application/pdf", 'attachment; filename="list.pdf"', fx.pdf_bytes(by_column=by_column))
    got = records(raw)
    assert {(n, m, u) for n, m, u, _ in got} == ROW_RECORDS
    assert {loc for *_, loc in got} == {"attachment[0]:list.pdf:page 2"}
    table = texts(read(raw)[0])["attachment[0]:list.pdf:page 2"]
    assert "証券番号:8100000001\t契約者名:山田 太郎\t満期日:2024/10/01\t引受保険会社:東京海上日動" in table


def test_pdf_text_laid_out_with_spaces_splits_into_columns() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("HeiseiKakuGo-W5", 10)
    c.drawString(50, 800, "証券番号      契約者名      満期日")
    c.drawString(50, 780, "8100000001    山田 太郎     2024/10/01")
    c.save()
    segs, unscannable = read(attach("application/pdf", 'attachment; filename="a.pdf"', buf.getvalue()))
    assert unscannable == ()
    assert "証券番号:8100000001\t契約者名:山田 太郎\t満期日:2024/10/01" in texts(segs)["attachment[0]:a.pdf:page 1"]


def test_forwarded_message_is_read_recursively() -> None:
    inner = fx.multipart(
        "転送元の本文 証券番号 A100000001 中村 大輔 様",
        [("text/csv", 'attachment; filename="a.csv"', fx.csv_bytes("utf-8"))],
    )
    raw = attach("message/rfc822", 'attachment; filename="fwd.eml"', inner)
    segs, unscannable = read(raw)
    assert unscannable == ()
    by_loc = texts(segs)
    assert "attachment[0]:fwd.eml/body" in by_loc
    assert "attachment[0]:fwd.eml/attachment[0]:a.csv" in by_loc
    assert by_loc["attachment[0]:fwd.eml/header:Subject"] == "満期一覧"


def test_nested_zip_with_cp932_names_and_gzip() -> None:
    inner = fx.zip_bytes({"満期一覧.csv": fx.csv_bytes()}, cp932_names=True)
    outer = fx.zip_bytes({"支店別/inner.zip": inner, "memo.txt.gz": fx.gzip_bytes("証券番号 A100000001".encode())})
    raw = attach("application/zip", 'attachment; filename="資料.zip"', outer)
    segs, unscannable = read(raw)
    assert unscannable == ()
    by_loc = texts(segs)
    assert "attachment[0]:資料.zip/支店別/inner.zip/満期一覧.csv" in by_loc
    assert "A100000001" in by_loc["attachment[0]:資料.zip/memo.txt.gz/memo.txt"]


@pytest.mark.parametrize(
    ("payload", "name"),
    [
        (fx.encrypted_zip({"list.csv": fx.csv_bytes()}), "ppap.zip"),
        (fx.encrypted_office(fx.xlsx_bytes()), "list.xlsx"),
        (fx.pdf_bytes(password="secret"), "list.pdf"),
    ],
)
def test_encrypted_content_is_unscannable_encrypted(payload: bytes, name: str) -> None:
    _, unscannable = read(attach(OCTET, f'attachment; filename="{name}"', payload))
    assert [(u.kind, u.reason) for u in unscannable] == [(UnscannableKind.ENCRYPTED, "encrypted")]
    assert unscannable[0].location.startswith(f"attachment[0]:{name}")


def test_html_table_and_multipart_alternative_both_scanned() -> None:
    html = (
        "<html><body><p>一覧&amp;ご案内<br>以下</p><table><tr><th>証券番号</th><th>契約者名</th></tr>"
        "<tr><td>8100000001</td><td>山田&nbsp;太郎</td></tr></table></body></html>"
    )
    raw = fx.multipart(
        "証券番号 MS1000001 伊藤 健一 様", [("text/html; charset=UTF-8", "", html.encode())], subtype="alternative"
    )
    segs, _ = read(raw)
    by_loc = texts(segs)
    assert "証券番号:8100000001\t契約者名:山田 太郎" in by_loc["body[1]"]
    assert "一覧&ご案内" in by_loc["body[1]"]
    assert {(n, m) for n, m, _, _ in records(raw)} == {("8100000001", "山田 太郎"), ("MS1000001", "伊藤 健一")}


def test_quoted_printable_and_format_flowed() -> None:
    body = "証券番号 8100000001 山田 太郎 様".encode()
    qp = "".join(f"={b:02X}" for b in body)
    raw = (
        "From: a@mirai-hoken.example.jp\r\nTo: b@ms-ins.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=UTF-8; format=flowed; delsp=yes\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        f"{qp[:60]}=\r\n{qp[60:]}\r\nflowed line one \r\ncontinues here\r\n"
    ).encode()
    segs, _ = read(raw)
    lines = texts(segs)["body"].split("\n")
    assert lines[0] == "証券番号 8100000001 山田 太郎 様"
    assert lines[1] == "flowed line onecontinues here"  # delsp=yes removes the flowing space


def test_zip_bomb_is_unscannable_not_expanded() -> None:
    bomb = fx.zip_bytes({"zeros.csv": b"0" * (60 * 1024 * 1024)})
    assert len(bomb) < 200_000
    _, unscannable = read(attach("application/zip", 'attachment; filename="bomb.zip"', bomb))
    assert len(unscannable) == 1
    assert "compression ratio" in unscannable[0].reason
    assert unscannable[0].kind == UnscannableKind.COMPRESSION_RATIO


def test_decompressed_size_limit_stops_reading() -> None:
    members = {f"f{i}.txt": bytes(range(256)) * 4096 for i in range(4)}  # 1 MiB each, incompressible-ish
    limits = ExtractLimits(max_decompressed_bytes=2 * 1024 * 1024)
    _, unscannable = read(attach("application/zip", 'attachment; filename="big.zip"', fx.zip_bytes(members)), limits)
    assert any("expand to more than" in u.reason and u.kind == UnscannableKind.EXPAND for u in unscannable)


def test_archive_depth_members_text_and_time_limits() -> None:
    nested = fx.csv_bytes()
    for _ in range(4):
        nested = fx.zip_bytes({"x.zip" if nested[:2] == b"PK" else "a.csv": nested})
    _, u = read(attach("application/zip", 'attachment; filename="deep.zip"', nested))
    assert any("nested deeper than 3" in x.reason and x.kind == UnscannableKind.NESTED for x in u)

    many = fx.zip_bytes({f"{i}.txt": b"x" for i in range(20)})
    _, u = read(attach("application/zip", 'attachment; filename="m.zip"', many), ExtractLimits(max_archive_members=5))
    assert any("more than 5 members" in x.reason and x.kind == UnscannableKind.MORE_THAN for x in u)

    _, u = read(attach("text/plain", "", "あ".encode() * 5000), ExtractLimits(max_text_chars=1000))
    assert any("characters of text" in x.reason for x in u)

    _, u = read(
        attach(OCTET, 'attachment; filename="list.xlsx"', fx.xlsx_bytes()), ExtractLimits(part_time_budget=1e-9)
    )
    assert any("took longer than" in x.reason for x in u)


def test_mime_depth_and_part_count_limits() -> None:
    raw = attach("text/plain", "", b"x")
    _, u = read(raw, mime=MimeLimits(max_depth=0))
    assert any("MIME nesting deeper than 0" in x.reason for x in u)
    _, u = read(fx.multipart("b", [("text/plain", "", b"x")] * 10), mime=MimeLimits(max_parts=3))
    assert any("more than 3 MIME parts" in x.reason for x in u)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"PK\x03\x04garbage" * 10, "corrupt"),
        (b"%PDF-1.4 garbage", "corrupt pdf"),
        (b"\x00\x01\x02\x03" * 100, "unsupported content"),
    ],
)
def test_corrupt_and_unknown_attachments_are_unscannable(payload: bytes, reason: str) -> None:
    _, u = read(attach(OCTET, 'attachment; filename="x.bin"', payload))
    assert len(u) == 1
    assert reason in u[0].reason


def test_images_are_not_text_and_not_unscannable() -> None:
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
    )
    segs, u = read(attach("image/png", 'inline; filename="logo.png"', png))
    assert u == ()
    assert "attachment[0]:logo.png" not in texts(segs)


def test_limits_are_configurable_in_yaml(tmp_path: Path) -> None:
    site = tmp_path / "rules"
    shutil.copytree(RULES, site)
    text = (site / "gateway.yaml").read_text(encoding="utf-8")
    for old, new in (
        ("max_archive_depth: 3", "max_archive_depth: 1"),
        ("max_parts: 1000", "max_parts: 50"),
        ("part_time_budget: 20", "part_time_budget: 2.5"),
    ):
        assert old in text
        text = text.replace(old, new)
    (site / "gateway.yaml").write_text(text, encoding="utf-8")
    cfg = load_config(site)
    assert cfg.limits.extract == ExtractLimits(max_archive_depth=1, part_time_budget=2.5)
    assert cfg.limits.mime == MimeLimits(max_parts=50)
    nested = fx.zip_bytes({"inner.zip": fx.zip_bytes({"a.csv": fx.csv_bytes()})})
    report = Pipeline(cfg).scan(
        attach("application/zip", 'attachment; filename="n.zip"', nested),
        Envelope("a@mirai-hoken.example.jp", ("b@ms-ins.com",)),
    )
    assert [u.reason for u in report.unscannable] == ["archives nested deeper than 1"]
    assert report.decision.verdict.label == "quarantine"  # unscannable content to an insurer is held
    (site / "gateway.yaml").write_text(text.replace("max_parts: 50", "max_parts: 0"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"limits\.max_parts: must be greater than 0"):
        load_config(site)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(alphabet=" \u3000\t\n\r\x1f\x00\x85\u2028a山", max_size=6), max_size=5))
def test_row_cleaning_equals_cleaning_each_cell(cells: list[str]) -> None:
    # The row-at-once test must agree with splitting every cell on white space.
    assert _clean_row(cells) == [" ".join(c.split()) for c in cells]


@pytest.mark.parametrize(("prefix", "decoy"), [("", False), ("x:", False), ("x:", True)])
def test_a_sheets_page_header_is_read_from_its_tail_wherever_the_chunks_fall(prefix: str, decoy: bool) -> None:
    """Of a worksheet only the part from the headerFooter element on is kept (archive.TAIL_MARGIN
    before it): the header read so equals the one read from the whole part, with the element at
    every offset across a chunk boundary, under a namespace prefix, or after a cell that holds its name."""
    head = (
        f"<{prefix}headerFooter><{prefix}oddHeader>&amp;C証券番号 8100000001 山田 太郎"
        f"</{prefix}oddHeader></{prefix}headerFooter>"
    )
    cell = "<c><is><t>headerFooter</t></is></c>" if decoy else ""
    for pad in range(40):
        filler = "<row/>" * ((CHUNK - 60) // 6) + " " * pad
        sheet = f"<worksheet><sheetData>{cell}{filler}</sheetData>{head}</worksheet>".encode()
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("xl/worksheets/sheet1.xml", sheet)
        (member,) = zip_members(buf.getvalue(), Budget(ExtractLimits()), tail=_sheet_tail)
        assert member.data is not None
        assert decoy or len(member.data) < 300  # (a cell that holds the name keeps all after it)
        assert sheet_header_footer(member.data) == sheet_header_footer(sheet) == ["証券番号 8100000001 山田 太郎"], pad
