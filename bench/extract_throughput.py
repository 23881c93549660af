"""Extraction throughput: parse + extract on a mixed set of agency mail, against the parsing
libraries alone on the same files, in one run.

    .venv/bin/python bench/extract_throughput.py [--rows 5000] [--repeat 3] [--registry r.idx] [--xlsx-mb 5]
        [--csv-rows 1000000]

Prints, per format: input MB, the time of the parsing library alone on the attachment (calamine,
PDFium, python-docx; for text and CSV just the decode), the gateway's read time (MIME, base64,
charset, sniffing, table building) and its whole scan time (read + detection, correlation, rules),
each as a multiple of the library's; then the mixed-set totals, with --xlsx-mb one large XLSX
(twice: its cells all text, and typed as Excel keeps a list typed into it, numbers and dates), and
with --csv-rows one large CSV scanned once, its time set against the configured scan_timeout.
"""

from __future__ import annotations

import argparse
import base64
import csv
import dataclasses
import datetime as dt
import functools
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import docx
import openpyxl
import pypdf
import pypdfium2
from python_calamine import CalamineWorkbook
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from dlp_gateway.config import load_config
from dlp_gateway.model import Envelope
from dlp_gateway.pipeline import Pipeline, collector_paused
from dlp_gateway.registry import load_registry
from dlp_gateway.scanner import settle_collector

FAMILY = ["山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村", "小林", "加藤"]
GIVEN = ["太郎", "花子", "一郎", "美咲", "健一", "由美", "大輔", "直子", "誠", "陽子"]
INSURERS = ["東京海上日動", "損保ジャパン", "三井住友海上", "あいおいニッセイ同和"]
HEADER = ["証券番号", "契約者名", "満期日", "引受保険会社", "保険種類", "保険料"]


def rows(n: int) -> list[list[str]]:
    return [
        [
            f"8{i:09d}",
            f"{FAMILY[i % 10]} {GIVEN[(i // 10) % 10]}",
            f"2025/{i % 12 + 1:02d}/{i % 28 + 1:02d}",
            INSURERS[i % 4],
            "自動車保険",
            f"{(i * 7919) % 200000 + 10000}",
        ]
        for i in range(n)
    ]


def make_csv(n: int) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows([HEADER, *rows(n)])
    return buf.getvalue().encode("cp932")


def typed(row: list[str]) -> list[object]:
    """A row as Excel keeps a list typed into it: the policy number and the premium as numbers, the
    expiry as a date."""
    number, name, expiry, insurer, product, premium = row
    return [int(number), name, dt.date(*map(int, expiry.split("/"))), insurer, product, int(premium)]


def make_xlsx(n: int, as_typed: bool = False) -> bytes:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("一覧")
    ws.append(["満期予定一覧"])
    ws.append(HEADER)
    for r in rows(n):
        ws.append(typed(r) if as_typed else r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def make_pdf(n: int) -> bytes:
    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for start in range(0, n, 50):
        c.setFont("HeiseiKakuGo-W5", 8)
        for k, row in enumerate([HEADER, *rows(n)[start : start + 50]]):
            for j, value in enumerate(row):
                c.drawString(30 + j * 90, 800 - k * 15, value)
        c.showPage()
    c.save()
    return buf.getvalue()


def make_docx(n: int) -> bytes:
    d = docx.Document()
    d.add_paragraph("満期のご案内")
    table = d.add_table(rows=0, cols=len(HEADER))
    for r in [HEADER, *rows(n)]:
        for cell, value in zip(table.add_row().cells, r, strict=True):
            cell.text = value
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def make_text(n: int) -> bytes:
    lines = [f"証券番号：{r[0]}　契約者名：{r[1]} 様　満期日：{r[2]}　引受：{r[3]}" for r in rows(n)]
    return ("各位\n\n" + "\n".join(lines) + "\n以上\n").encode("utf-8")


def mail(name: str, ctype: str, payload: bytes) -> bytes:
    head = (
        "From: a@mirai-hoken.example.jp\r\nTo: b@ms-ins.com\r\nSubject: list\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n'
        "添付します。\r\n"
    )
    att = (
        f'--b\r\nContent-Type: {ctype}\r\nContent-Disposition: attachment; filename="{name}"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
    )
    return head.encode() + att.encode() + base64.encodebytes(payload) + b"--b--\r\n"


def lib_csv(data: bytes) -> None:
    list(csv.reader(io.StringIO(data.decode("cp932"))))


def lib_xlsx(data: bytes) -> None:
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    for name in book.sheet_names:
        book.get_sheet_by_name(name).to_python()


def lib_openpyxl(data: bytes) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    for ws in wb.worksheets:
        for _ in ws.iter_rows(values_only=True):
            pass
    wb.close()


def lib_pdf(data: bytes) -> None:
    doc = pypdfium2.PdfDocument(data)
    for page in doc:
        page.get_textpage().get_text_range()
    doc.close()


def lib_pypdf(data: bytes) -> None:
    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        page.extract_text(extraction_mode="layout")


def lib_docx(data: bytes) -> None:
    d = docx.Document(io.BytesIO(data))
    for block in d.iter_inner_content():
        if hasattr(block, "rows"):
            for row in block.rows:
                [c.text for c in row.cells]


def lib_text(data: bytes) -> None:
    data.decode("utf-8").split("\n")


def worker_scan(pipeline: Pipeline, raw: bytes, envelope: Envelope) -> int:
    """One scan as a scan worker runs it (scanner._start_worker): inside collector_paused, the
    report dropped before the collector is back on. The number of records."""
    with collector_paused():
        return len(pipeline.scan(raw, envelope).records)


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def alternating(fns: list[Callable[[], object]], rounds: int) -> list[list[float]]:
    """Seconds of each function in each round, the functions taking turns within a round: a machine
    that slows down mid-run slows the library and the gateway alike, and ratios are taken per round."""
    out = []
    for _ in range(rounds):
        times = []
        for fn in fns:
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        out.append(times)
    return out


def big_xlsx(pipeline: Pipeline, envelope: Envelope, label: str, big: bytes, rows: int, repeat: int) -> None:
    """One large list against calamine's own read of it, in alternating rounds."""
    raw = mail("big.xlsx", "application/octet-stream", big)
    records: list[int] = []
    per_round = alternating(
        [functools.partial(lib_xlsx, big), lambda: records.append(worker_scan(pipeline, raw, envelope))], repeat
    )
    ratio = [sc / lb for lb, sc in per_round]
    library, scan = (statistics.median(r[i] for r in per_round) for i in range(2))
    # The best of each as well: a machine whose speed wanders (a shared VM) only ever adds time,
    # so the fastest rounds of both are the least disturbed (timeit's reasoning).
    fastest = [min(r[i] for r in per_round) for i in range(2)]
    print(
        f"XLSX ({label}) of {len(big) / 1e6:.2f} MB, {rows:,} rows, {records[-1]:,} records: calamine alone "
        f"{library:.2f} s, gateway scan {scan:.2f} s: "
        f"{statistics.median(ratio):.2f}x (median of {len(ratio)} alternating rounds: "
        f"{', '.join(f'{x:.2f}' for x in ratio)}); fastest of each {fastest[0]:.2f} s and {fastest[1]:.2f} s: "
        f"{fastest[1] / fastest[0]:.2f}x"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--registry", type=Path, help="a registry index for the full scans (bench/registry_scale.py)")
    ap.add_argument("--xlsx-mb", type=float, default=0, help="then scan one XLSX of about this many MB")
    ap.add_argument(
        "--csv-rows", type=int, default=0, help="then scan one CSV of this many rows, against scan_timeout (once)"
    )
    args = ap.parse_args()
    config = load_config(Path(__file__).resolve().parent.parent / "rules")
    pipeline = Pipeline(config, load_registry(args.registry)) if args.registry else Pipeline(config)
    envelope = Envelope("honbu@mirai-hoken.example.jp", ("tanaka@ms-ins.com",))
    pipeline.scan(mail("warm.txt", "text/plain", make_text(10)), envelope)
    settle_collector()  # measured as a scan worker runs
    n = args.rows
    cases = [
        ("text body", "text/plain", "list.txt", make_text(n), lib_text),
        ("CSV cp932", "text/csv", "list.csv", make_csv(n), lib_csv),
        ("XLSX", "application/octet-stream", "list.xlsx", make_xlsx(n), lib_xlsx),
        ("DOCX table", "application/octet-stream", "list.docx", make_docx(n // 5), lib_docx),
        ("PDF (CID font)", "application/pdf", "list.pdf", make_pdf(n // 5), lib_pdf),
    ]
    print("read: MIME, transfer and charset decoding, the parsing library and table building;")
    print("scan: read + every detector, correlation and the rules (what a message costs the gateway)")
    print(f"(medians of {args.repeat} alternating rounds: library, read, scan in turn; ratios per round)")
    print(f"{'format':16} {'MB':>6} {'library s':>10} {'read s':>8} {'read/lib':>9} {'scan s':>8} {'scan/lib':>9}")
    totals = [0.0, 0.0, 0.0]
    ratios: list[list[float]] = [[], []]
    for label, ctype, name, payload, lib in cases:
        raw = mail(name, ctype, payload)
        _, unscannable = pipeline.read(raw)
        assert not unscannable, unscannable
        per_round = alternating(
            [
                functools.partial(lib, payload),
                functools.partial(pipeline.read, raw),
                functools.partial(worker_scan, pipeline, raw, envelope),
            ],
            args.repeat,
        )
        lb, rd, sc = (statistics.median(r[i] for r in per_round) for i in range(3))
        mb = len(payload) / 1e6
        for i, v in enumerate((mb, rd, sc)):
            totals[i] += v
        ratios[0].append(statistics.median(r[1] / r[0] for r in per_round))
        ratios[1].append(statistics.median(r[2] / r[0] for r in per_round))
        print(f"{label:16} {mb:6.2f} {lb:10.3f} {rd:8.3f} {ratios[0][-1]:9.2f} {sc:8.3f} {ratios[1][-1]:9.2f}")
    print(
        f"{'mixed set':16} {totals[0]:6.2f} {'':>10} {totals[1]:8.3f} {statistics.geometric_mean(ratios[0]):9.2f} "
        f"{totals[2]:8.3f} {statistics.geometric_mean(ratios[1]):9.2f}  (geometric means)"
    )
    xlsx = make_xlsx(n)
    print(f"(openpyxl alone on the same XLSX: {best(lambda: lib_openpyxl(xlsx), args.repeat):.3f} s)")
    pdf = make_pdf(n // 5)
    print(f"(pypdf's layout mode alone on the same PDF: {best(lambda: lib_pypdf(pdf), args.repeat):.3f} s)")
    if args.xlsx_mb:
        rows = int(args.xlsx_mb * 1e6 / len(xlsx) * n)
        for label, big in (("text cells", make_xlsx(rows)), ("typed cells", make_xlsx(rows, as_typed=True))):
            big_xlsx(pipeline, envelope, label, big, rows, args.repeat)
    if args.csv_rows:
        big = make_csv(args.csv_rows)
        raw = mail("big.csv", "text/csv", big)
        # Such a list is larger than the default max_message_size (refused at DATA) and
        # max_text_chars: the limits are raised here so that the scan itself is measured.
        limits = dataclasses.replace(
            config.limits, max_message_size=2 * len(raw), max_text_chars=2 * len(big), part_time_budget=1e6
        )
        roomy = Pipeline(dataclasses.replace(config, limits=limits), pipeline.registry)
        start = time.perf_counter()
        lib_csv(big)
        library = time.perf_counter() - start
        start = time.perf_counter()
        found = worker_scan(roomy, raw, envelope)
        scan = time.perf_counter() - start
        print(
            f"CSV of {len(big) / 1e6:.1f} MB, {args.csv_rows:,} rows, {found:,} records: csv alone {library:.2f} s, "
            f"gateway scan {scan:.1f} s ({scan / library:.0f}x); scan_timeout {config.limits.scan_timeout:.0f} s, "
            f"max_message_size {config.limits.max_message_size / 2**20:.0f} MiB "
            f"(this message: {len(raw) / 2**20:.0f} MiB)"
        )


if __name__ == "__main__":
    main()
