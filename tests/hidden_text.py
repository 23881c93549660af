"""Files that hold a customer record where a reader of the body would not look: comments, headers,
footers, text boxes, tracked deletions, speaker notes, grouped shapes, ODF paragraphs, HTML comments
and attributes, file names, zero-width characters. Each builder takes the record's text and returns
(file name, content type, bytes). `crude_text` is the oracle: every text node of every XML part,
by stripping tags, with nothing in common with the gateway's reader."""

from __future__ import annotations

import html
import io
import re
import struct
import tarfile
import zipfile
from collections.abc import Callable

import docx
import openpyxl
import pptx
import py7zr
import pypdf
from openpyxl.comments import Comment
from pptx.util import Inches
from pypdf.annotations import FreeText
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from tests.cfb import msg_bytes

RECORD = "証券番号：8100000077　契約者名：佐々木 花子 様"
NUMBER = "8100000077"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
Built = tuple[str, str, bytes]


def _save(obj: docx.document.Document | openpyxl.Workbook | pptx.presentation.Presentation) -> bytes:
    buf = io.BytesIO()
    obj.save(buf)
    return buf.getvalue()


def _plain_sheet() -> openpyxl.Workbook:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["会議日程", "場所"])
    sheet.append(["11月5日", "本社"])
    return book


def xlsx_comment(text: str) -> Built:
    book = _plain_sheet()
    sheet = book.active
    assert sheet is not None
    sheet["B2"].comment = Comment(text, "担当")
    return "日程.xlsx", XLSX, _save(book)


def xlsx_sheet_name(text: str) -> Built:
    book = _plain_sheet()
    sheet = book.create_sheet("x")
    sheet.title = f"{NUMBER}佐々木花子様"[:31]  # Excel's limit
    sheet.append(["会議日程"])
    return "日程.xlsx", XLSX, _save(book)


def xlsx_header(text: str) -> Built:
    book = _plain_sheet()
    sheet = book.active
    assert sheet is not None
    header = sheet.oddHeader
    assert header is not None
    header.center.text = text
    return "日程.xlsx", XLSX, _save(book)


def docx_header(text: str) -> Built:
    d = docx.Document()
    d.add_paragraph("会議のご案内です。")
    d.sections[0].header.paragraphs[0].text = text
    return "案内.docx", DOCX, _save(d)


def docx_footer(text: str) -> Built:
    d = docx.Document()
    d.add_paragraph("会議のご案内です。")
    d.sections[0].footer.paragraphs[0].text = text
    return "案内.docx", DOCX, _save(d)


def docx_comment(text: str) -> Built:
    d = docx.Document()
    paragraph = d.add_paragraph("会議のご案内です。")
    d.add_comment(paragraph.runs, text=text, author="担当")
    return "案内.docx", DOCX, _save(d)


def _docx_with_body_xml(fragment: str) -> bytes:
    """A document whose body gets `fragment` (raw WordprocessingML) before its section settings."""
    d = docx.Document()
    d.add_paragraph("会議のご案内です。")
    src = zipfile.ZipFile(io.BytesIO(_save(d)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "word/document.xml":
                data = data.replace(b"<w:sectPr", fragment.encode() + b"<w:sectPr", 1)
            dst.writestr(info, data)
    return out.getvalue()


def docx_tracked_deletion(text: str) -> Built:
    fragment = (
        '<w:p><w:del w:id="91" w:author="a" w:date="2024-01-01T00:00:00Z"><w:r>'
        f'<w:delText xml:space="preserve">{html.escape(text)}</w:delText></w:r></w:del></w:p>'
    )
    return "案内.docx", DOCX, _docx_with_body_xml(fragment)


def docx_text_box(text: str) -> Built:
    fragment = (
        '<w:p><w:r><w:pict><v:shape style="width:200pt;height:50pt"><v:textbox><w:txbxContent>'
        f"<w:p><w:r><w:t>{html.escape(text)}</w:t></w:r></w:p>"
        "</w:txbxContent></v:textbox></v:shape></w:pict></w:r></w:p>"
    )
    return "案内.docx", DOCX, _docx_with_body_xml(fragment)


def pptx_notes(text: str) -> Built:
    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    assert slide.shapes.title is not None
    slide.shapes.title.text = "会議資料"
    notes = slide.notes_slide.notes_text_frame
    assert notes is not None
    notes.text = text
    return "会議.pptx", PPTX, _save(deck)


def pptx_group(text: str) -> Built:
    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    group = slide.shapes.add_group_shape()
    group.shapes.add_textbox(Inches(1), Inches(1), Inches(6), Inches(1)).text_frame.text = text
    return "会議.pptx", PPTX, _save(deck)


def odt(text: str) -> Built:
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        "<office:body><office:text><text:p>会議のご案内です。</text:p>"
        f"<text:p>{html.escape(text)}</text:p></office:text></office:body></office:document-content>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED)
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return "案内.odt", "application/vnd.oasis.opendocument.text", out.getvalue()


def html_comment(text: str) -> Built:
    page = f"<html><body><p>会議のご案内です。</p><!-- {text} --></body></html>"
    return "案内.html", "text/html; charset=UTF-8", page.encode()


def html_alt(text: str) -> Built:
    page = f'<html><body><p>会議のご案内です。<img src="cid:x" alt="{html.escape(text)}"></p></body></html>'
    return "案内.html", "text/html; charset=UTF-8", page.encode()


def html_hidden(text: str) -> Built:
    """Hidden by CSS: the page does not show it, "view source" or a plain-text view does."""
    page = f'<html><body><p>会議のご案内です。</p><div style="display:none">{html.escape(text)}</div></body></html>'
    return "案内.html", "text/html; charset=UTF-8", page.encode()


def file_name(text: str) -> Built:
    return f"{NUMBER}_佐々木花子様.txt", "text/plain; charset=UTF-8", "会議のご案内です。".encode()


def zero_width(text: str) -> Built:
    hidden = text.replace("81000", "81\u200b000\u2060").replace("佐々木", "佐\u00ad々木")
    return "メモ.txt", "text/plain; charset=UTF-8", hidden.encode()


def _pdf_page(title: str = "会議資料") -> bytes:
    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("HeiseiKakuGo-W5", 12)
    c.drawString(72, 750, title)
    return _finish(c, buf)


def _finish(c: canvas.Canvas, buf: io.BytesIO) -> bytes:
    c.showPage()
    c.save()
    return buf.getvalue()


def _with_pypdf(data: bytes, change: Callable[[pypdf.PdfWriter], object]) -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(data)))
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_annotation(text: str) -> Built:
    note = FreeText(text=text, rect=(50, 600, 400, 650))
    return "資料.pdf", "application/pdf", _with_pypdf(_pdf_page(), lambda w: w.add_annotation(0, note))


def pdf_form_field(text: str) -> Built:
    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("HeiseiKakuGo-W5", 12)
    c.drawString(72, 750, "申込書")
    c.acroForm.textfield(name="policy", value=NUMBER, x=72, y=650, width=200, height=20)
    return "申込書.pdf", "application/pdf", _finish(c, buf)


def pdf_attached_file(text: str) -> Built:
    data = _with_pypdf(_pdf_page(), lambda w: w.add_attachment("名簿.txt", text.encode("utf-8")))
    return "資料.pdf", "application/pdf", data


def rtf(text: str) -> Built:
    """As Japanese Word writes it: 7-bit, non-ASCII as \\'xx cp932 bytes (kana and kanji)."""
    body = "".join(c if ord(c) < 128 else "".join(f"\\'{b:02x}" for b in c.encode("cp932")) for c in text)
    doc = (
        "{\\rtf1\\ansi\\ansicpg932\\deff0{\\fonttbl{\\f0\\fnil\\fcharset128 MS Gothic;}}\\f0 会議\\par "
        + body
        + "\\par}"
    )
    doc = doc.replace("会議", "\\u20250?\\u35696?")  # and \\uN, as newer writers do
    return "メモ.rtf", "application/rtf", doc.encode("ascii")


def vcard(text: str) -> Built:
    """vCard 2.1 with a quoted-printable, Shift_JIS note split by soft line breaks."""
    qp = "".join(f"={b:02X}" for b in text.encode("cp932"))
    folded = "=\r\n".join(qp[i : i + 60] for i in range(0, len(qp), 60))
    card = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=SHIFT_JIS:\r\n"
        f"NOTE;CHARSET=SHIFT_JIS;ENCODING=QUOTED-PRINTABLE:{folded}\r\nEND:VCARD\r\n"
    )
    return "連絡先.vcf", "text/x-vcard", card.encode("ascii")


def icalendar(text: str) -> Built:
    """An invitation whose description is folded mid-number and escapes its commas."""
    desc = ("打合せ\\, 本社\\n" + text + "\\; 以上").encode("utf-8")
    lines = [desc[:20], *[b" " + desc[i : i + 20] for i in range(20, len(desc), 20)]]
    folded = b"\r\n".join(lines)
    cal = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:打合せ\r\nDESCRIPTION:".encode()
    cal += folded + b"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    return "invite.ics", "text/calendar; charset=UTF-8", cal


def utf16_text(text: str) -> Built:
    """Excel's "Unicode text" export: UTF-16LE with a BOM, tab-separated."""
    tsv = "証券番号\t契約者名\r\n8100000077\t佐々木 花子\r\n"
    return "一覧.txt", "application/octet-stream", b"\xff\xfe" + tsv.encode("utf-16-le")


def utf16_no_bom(text: str) -> Built:
    return "メモ.dat", "application/octet-stream", text.encode("utf-16-be")


HIDING_PLACES: dict[str, Callable[[str], Built]] = {
    "xlsx cell comment": xlsx_comment,
    "xlsx page header": xlsx_header,
    "xlsx sheet name": xlsx_sheet_name,
    "docx header": docx_header,
    "docx footer": docx_footer,
    "docx comment": docx_comment,
    "docx tracked deletion": docx_tracked_deletion,
    "docx text box": docx_text_box,
    "pptx speaker notes": pptx_notes,
    "pptx grouped shape": pptx_group,
    "odt paragraph": odt,
    "html comment": html_comment,
    "html image alt": html_alt,
    "html hidden element": html_hidden,
    "file name": file_name,
    "zero-width characters": zero_width,
    "pdf annotation": pdf_annotation,
    "pdf form field": pdf_form_field,
    "pdf attached file": pdf_attached_file,
    "rtf escapes": rtf,
    "vcard quoted-printable": vcard,
    "icalendar folding": icalendar,
    "utf-16 with a bom": utf16_text,
    "utf-16 without a bom": utf16_no_bom,
}


def crude_text(data: bytes) -> str:
    """The oracle: every XML part of a ZIP package with its tags stripped and entities decoded,
    the values of its attributes, and the same for every package embedded in it."""
    out = []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            member = z.read(name)
            if member.startswith(b"PK\x03\x04"):
                out.append(crude_text(member))
            elif name.endswith(".xml"):
                raw = member.decode("utf-8", "replace")
                out.append(html.unescape(re.sub(r"<[^>]*>", " ", raw)))
                out += [html.unescape(v) for v in re.findall(r'\b\w+="([^"]*)"', raw)]
    return "\n".join(out)


def _tnef_attr(level: int, name: int, kind: int, data: bytes) -> bytes:
    return struct.pack("<BHHI", level, name, kind, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)


def tnef_bytes(files: list[tuple[str, bytes]], body: str = "添付をご確認ください。") -> bytes:
    """A winmail.dat as Exchange writes one: version, OEM code page 932, body, attachments."""
    out = struct.pack("<IH", 0x223E9F78, 0x1234)
    out += _tnef_attr(1, 0x9006, 0x0008, struct.pack("<I", 0x00010000))
    out += _tnef_attr(1, 0x9007, 0x0006, struct.pack("<II", 932, 0))
    out += _tnef_attr(1, 0x8004, 0x0001, "資料送付".encode("cp932") + b"\x00")
    out += _tnef_attr(1, 0x800C, 0x0002, body.encode("cp932"))
    for name, data in files:
        out += _tnef_attr(2, 0x9002, 0x0006, bytes(14))
        out += _tnef_attr(2, 0x8010, 0x0001, name.encode("cp932") + b"\x00")
        out += _tnef_attr(2, 0x800F, 0x0006, data)
    return out


def tnef_attachment(text: str) -> Built:
    inner = text.encode("cp932")
    return "winmail.dat", "application/ms-tnef", tnef_bytes([("名簿.txt", inner)])


def tnef_body(text: str) -> Built:
    return "winmail.dat", "application/ms-tnef", tnef_bytes([], body="ご確認ください。\r\n" + text)


def tar_member(text: str) -> Built:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = text.encode("utf-8")
        info = tarfile.TarInfo("資料/名簿.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return "資料.tar", "application/x-tar", buf.getvalue()


def sevenzip_member(text: str) -> Built:
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w") as archive:
        archive.writestr(text.encode("utf-8"), "名簿.txt")
    return "資料.7z", "application/x-7z-compressed", buf.getvalue()


def _crc16(data: bytes) -> int:
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def lzh_bytes(name: str, data: bytes) -> bytes:
    """An LZH archive with one stored (-lh0-) member and a level-0 header, as LHA writes one."""
    raw_name = name.encode("cp932")
    body = (
        b"-lh0-"
        + struct.pack("<IIIBB", len(data), len(data), 0x58210000, 0x20, 0)
        + bytes([len(raw_name)])
        + raw_name
        + struct.pack("<H", _crc16(data))
    )
    return bytes([len(body), sum(body) & 0xFF]) + body + data + b"\x00"


def lzh_member(text: str) -> Built:
    return "資料.lzh", "application/octet-stream", lzh_bytes("名簿.txt", text.encode("cp932"))


HIDING_PLACES.update(
    {
        "tnef attachment": tnef_attachment,
        "tnef body": tnef_body,
        "tar member": tar_member,
        "7z member": sevenzip_member,
        "lzh member": lzh_member,
    }
)


def msg_attachment(text: str) -> Built:
    data = msg_bytes("資料送付", "添付をご確認ください。", [("名簿.txt", text.encode("utf-8"))])
    return "資料送付.msg", "application/vnd.ms-outlook", data


def msg_body(text: str) -> Built:
    return "転送.msg", "application/vnd.ms-outlook", msg_bytes("転送", "ご確認ください。\r\n" + text, [])


HIDING_PLACES.update({"outlook item attachment": msg_attachment, "outlook item body": msg_body})


def docx_tracked_insertion(text: str) -> Built:
    fragment = (
        '<w:p><w:ins w:id="92" w:author="a" w:date="2024-01-01T00:00:00Z"><w:r>'
        f'<w:t xml:space="preserve">{html.escape(text)}</w:t></w:r></w:ins></w:p>'
    )
    return "案内.docx", DOCX, _docx_with_body_xml(fragment)


def _with_member(data: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr(name, content)
    return out.getvalue()


def xlsx_pivot_cache(text: str) -> Built:
    """A pivot table's cache keeps the source rows' values, shown when the pivot is refreshed or
    drilled into: here as a cache records part (<s v="…"/>)."""
    records = (
        '<pivotCacheRecords xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1">'
        f'<r><s v="証券番号 {html.escape(NUMBER)}"/><s v="契約者名 佐々木 花子 様"/><n v="1"/></r></pivotCacheRecords>'
    )
    _, ctype, data = _plain_book()
    return "集計.xlsx", ctype, _with_member(data, "xl/pivotCache/pivotCacheRecords1.xml", records.encode())


def _plain_book() -> Built:
    return "日程.xlsx", XLSX, _save(_plain_sheet())


def docx_embedded_workbook(text: str) -> Built:
    """A workbook embedded in a document (an OLE object shown as a table or an icon)."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["証券番号", "契約者名"])
    sheet.append([NUMBER, "佐々木 花子"])
    _, ctype, data = docx_header("会議のご案内")
    return "案内.docx", ctype, _with_member(data, "word/embeddings/Microsoft_Excel_Worksheet.xlsx", _save(book))


def zip_member_name(text: str) -> Built:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"支店別/{NUMBER}_佐々木花子様.txt", "会議のご案内です。".encode())
    return "資料.zip", "application/zip", buf.getvalue()


HIDING_PLACES.update(
    {
        "docx tracked insertion": docx_tracked_insertion,
        "xlsx pivot cache": xlsx_pivot_cache,
        "docx embedded workbook": docx_embedded_workbook,
        "zip member name": zip_member_name,
    }
)
