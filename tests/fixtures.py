"""Realistic attachments generated in the tests: the formats agencies really send."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import io
import zipfile
from collections.abc import Sequence

import docx
import msoffcrypto.format.ooxml
import openpyxl
import pptx
import pypdf
import pyzipper
import xlwt
from pptx.util import Inches
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

HEADER = ["証券番号", "契約者名", "満期日", "引受保険会社"]
ROWS = [
    ["8100000001", "山田 太郎", "2024/10/01", "東京海上日動"],
    ["MS1000001", "伊藤 健一", "2024/09/30", "三井住友海上"],
]


def multipart(
    body: str,
    attachments: Sequence[tuple[str, str, bytes]],
    *,
    subtype: str = "mixed",
    to: str = "tanaka@sompo-japan.co.jp",
) -> bytes:
    """attachments: (Content-Type value, Content-Disposition value or "", payload)."""
    out = [
        "From: honbu@mirai-hoken.example.jp",
        f"To: {to}",
        "Subject: =?UTF-8?B?5rqA5pyf5LiA6Kan?=",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/{subtype}; boundary="=_b"',
        "",
        "--=_b",
        "Content-Type: text/plain; charset=UTF-8",
        "Content-Transfer-Encoding: base64",
        "",
        base64.encodebytes(body.encode()).decode().strip(),
    ]
    for ctype, disposition, payload in attachments:
        out += ["--=_b", f"Content-Type: {ctype}", "Content-Transfer-Encoding: base64"]
        if disposition:
            out.append(f"Content-Disposition: {disposition}")
        out += ["", base64.encodebytes(payload).decode().strip()]
    out.append("--=_b--")
    return "\r\n".join(out).encode() + b"\r\n"


def csv_bytes(encoding: str = "cp932", delimiter: str = ",") -> bytes:
    lines = [delimiter.join(HEADER)] + [delimiter.join(r) for r in ROWS]
    return "\r\n".join(lines).encode(encoding) + b"\r\n"


def xlsx_bytes() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "満期一覧"
    ws.append(["2024年10月 満期予定一覧"])  # a title above the header row
    ws.append([])
    ws.append(HEADER)
    ws.append([8100000001, "山田 太郎", dt.datetime(2024, 10, 1), "東京海上日動"])  # a number and a date cell
    ws.append(["MS1000001", "伊藤 健一", dt.datetime(2024, 9, 30), "三井住友海上"])
    hidden = wb.create_sheet("非表示")
    hidden.sheet_state = "hidden"
    hidden.append(HEADER)
    hidden.append(["A100000001", "中村 大輔", "2024/10/20", "あいおいニッセイ同和"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xls_bytes() -> bytes:
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("Sheet1")
    for r, row in enumerate([HEADER, *ROWS]):
        for c, value in enumerate(row):
            ws.write(r, c, value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def docx_bytes() -> bytes:
    d = docx.Document()
    d.add_paragraph("お客様各位の満期のご案内です。証券番号 A100000001 中村 大輔 様")
    table = d.add_table(rows=0, cols=4)
    for row in [HEADER, *ROWS]:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = value
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def pptx_bytes() -> bytes:
    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    assert slide.shapes.title is not None
    slide.shapes.title.text = "会議資料 他社比較"
    shape = slide.shapes.add_table(3, 4, Inches(0.5), Inches(1.5), Inches(9), Inches(1.5))
    for r, row in enumerate([HEADER, *ROWS]):
        for c, value in enumerate(row):
            shape.table.cell(r, c).text = value
    buf = io.BytesIO()
    deck.save(buf)
    return buf.getvalue()


def pdf_bytes(password: str | None = None, *, by_column: bool = False) -> bytes:
    """A cover page, then the list; `by_column` draws it column by column, as some report
    generators do, so the content order is not the reading order."""
    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))  # a CID-keyed Japanese font
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("HeiseiKakuGo-W5", 10)
    c.drawString(50, 800, "ご契約一覧（1ページ目は表紙）")
    c.showPage()
    c.setFont("HeiseiKakuGo-W5", 10)
    cells = [
        (x, y, value)
        for y, row in zip((800, 780, 760), [HEADER, *ROWS], strict=True)
        for x, value in zip((50, 170, 290, 410), row, strict=True)
    ]
    for x, y, value in sorted(cells) if by_column else cells:
        c.drawString(x, y, value)
    c.save()
    data = buf.getvalue()
    if password is None:
        return data
    reader = pypdf.PdfReader(io.BytesIO(data))
    writer = pypdf.PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


class _Cp932Name(zipfile.ZipInfo):
    """A member named as Japanese Windows' Explorer names it: cp932 bytes, no UTF-8 flag."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:
        return self.filename.encode("cp932"), self.flag_bits & ~0x800


def zip_bytes(members: dict[str, bytes], cp932_names: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            info = _Cp932Name(name) if cp932_names else zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buf.getvalue()


def encrypted_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with pyzipper.AESZipFile(buf, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES) as z:
        z.setpassword(b"ppap-password")
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def encrypted_office(data: bytes) -> bytes:
    src, out = io.BytesIO(data), io.BytesIO()
    msoffcrypto.format.ooxml.OOXMLFile(src).encrypt("secret", out)
    return out.getvalue()


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data)
