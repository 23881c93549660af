"""Precision (issue 20): tables, labels and people read the way an agency clerk reads them.

Each class is a table of variants: a clean message to an insurer (that insurer's own customers,
with a structure that used to be misread) must raise no violation, and the dirty twin (a rival's
customer in the same structure) must. End to end over SMTP, the clean one is delivered byte for
byte and the dirty one stripped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from dlp_gateway.detect.labels import LabelKind, classify
from dlp_gateway.extract.aligned import _BOX, _HEADER_GAP, _cells, _header, _maybe_table, align_tables
from dlp_gateway.extract.html import html_to_lines
from dlp_gateway.model import Envelope, Report
from dlp_gateway.pipeline import Pipeline
from dlp_gateway.registry import RegistryIndex
from dlp_gateway.registry.staff import import_staff_csv
from tests.fixtures import multipart
from tests.helpers import HEAD_OFFICE, SOMPO, TOKIO, Sink, example_config, make_message, start_gateway, submit
from tests.processes import cli

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def scan(raw: bytes, to: str, pipeline: Pipeline | None = None) -> Report:
    return (pipeline or Pipeline(example_config())).scan(raw, Envelope(HEAD_OFFICE, (to,)))


def violations(report: Report) -> list[str]:
    return [v.kind for r in report.decision.recipients for v in r.violations]


def csv_mail(rows: list[list[str]], to: str) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return multipart(
        "一覧を添付します。", [("text/csv", 'attachment; filename="list.csv"', buf.getvalue().encode("cp932"))], to=to
    )


def xlsx_mail(rows: list[list[str | None]], to: str, merges: tuple[str, ...] = (), sheet: str | None = None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    if sheet is not None:
        ws.title = sheet
    for row in rows:
        ws.append(row)
    for cells in merges:
        ws.merge_cells(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return multipart("一覧を添付します。", [(XLSX, 'attachment; filename="list.xlsx"', buf.getvalue())], to=to)


def html_mail(html: str, to: str) -> bytes:
    return multipart("", [("text/html; charset=UTF-8", "", html.encode())], subtype="alternative", to=to)


def body_mail(text: str, to: str) -> bytes:
    return make_message(text, to=(to,))


# --- 1. A header cell is never a value -----------------------------------------------------------

# The column after a name label in a header row: any title at all, listed or not.
NEXT_TITLES = ["登録日", "最終連絡日", "趣味", "連絡方法", "郵便番号", "性別", "ご紹介者", "メモ欄", "更新予定"]
NAME_TITLES = ["氏名", "契約者名", "お客様名", "被保険者", "契約者氏名"]


@pytest.mark.parametrize("name_title", NAME_TITLES)
@pytest.mark.parametrize("next_title", NEXT_TITLES)
def test_the_cell_after_a_name_label_in_a_header_row_is_not_a_customer(name_title: str, next_title: str) -> None:
    rows = [["証券番号", name_title, next_title, "引受保険会社"], ["8100000001", "山田 太郎", "", "東京海上日動"]]
    report = scan(csv_mail(rows, TOKIO), TOKIO)
    assert [(r.policy_number, r.name) for r in report.records] == [("8100000001", "山田 太郎")]
    assert violations(report) == []
    rows.append(["30000000001", "佐藤 花子", "", "損保ジャパン"])
    assert violations(scan(csv_mail(rows, TOKIO), TOKIO)) == ["cross_insurer"]


# --- 2. Only an underwriter column or label attributes a row --------------------------------------

OTHER_INSURER_COLUMNS = ["前契約保険会社", "旧保険会社", "乗換元", "他社契約", "備考", "摘要", "前年度引受", "変更前"]


@pytest.mark.parametrize("column", OTHER_INSURER_COLUMNS)
def test_a_previous_insurer_or_remarks_column_never_attributes(column: str) -> None:
    rows = [["証券番号", "契約者名", column], ["8100000001", "山田 太郎", "損保ジャパン"]]
    report = scan(csv_mail(rows, TOKIO), TOKIO)
    [record] = report.records
    assert (record.underwriter, record.attribution) == ("tokio", "pattern")
    assert violations(report) == []
    with_underwriter = [["引受保険会社", *rows[0]], ["東京海上日動", *rows[1]]]
    [record] = scan(csv_mail(with_underwriter, TOKIO), TOKIO).records
    assert (record.underwriter, record.attribution, record.basis) == ("tokio", "explicit", "「引受」 (underwriter)")


@pytest.mark.parametrize(
    "line",
    [
        "証券番号：8100000001　契約者：山田 太郎 様　前契約：損保ジャパン",
        "証券番号：8100000001　契約者：山田 太郎 様（損保ジャパンから切替）",
        "証券番号：8100000001　山田 太郎 様　備考：旧 損保ジャパン",
        "・山田 太郎 様 8100000001 前は損保ジャパンでご契約",
    ],
)
def test_a_mention_of_where_a_customer_came_from_is_not_the_underwriter(line: str) -> None:
    report = scan(body_mail(f"更改のご案内です。\n\n{line}\n", TOKIO), TOKIO)
    assert [(r.underwriter, r.attribution) for r in report.records] == [("tokio", "pattern")]
    assert violations(report) == []


# --- 3. Merged cells, Outlook's cell paragraphs, aligned plain-text tables ------------------------


def test_a_merged_underwriter_cell_labels_every_row_it_spans() -> None:
    rows: list[list[str | None]] = [
        ["引受保険会社", "契約者名", "満期日"],
        ["東京海上日動", "山田 太郎", "2025/04/01"],
        [None, "佐藤 花子", "2025/05/01"],
        [None, "鈴木 一郎", "2025/06/01"],
    ]
    clean = scan(xlsx_mail(rows, TOKIO, merges=("A2:A4",)), TOKIO)
    assert [(r.name, r.underwriter) for r in clean.records] == [
        ("山田 太郎", "tokio"),
        ("佐藤 花子", "tokio"),
        ("鈴木 一郎", "tokio"),
    ]
    assert violations(clean) == []
    dirty = scan(xlsx_mail(rows, SOMPO, merges=("A2:A4",)), SOMPO)
    assert violations(dirty) == ["cross_insurer"]
    [sompo] = dirty.decision.recipients
    assert len(sompo.violations[0].records) == 3


OUTLOOK_TABLE = (
    "<table class=MsoNormalTable border=1><tr><td><p class=MsoNormal>引受保険会社</p></td>"
    "<td><p class=MsoNormal>証券番号</p></td><td><p class=MsoNormal>契約者名<o:p></o:p></p></td></tr>"
    "<tr><td rowspan=2><p class=MsoNormal><span lang=JA>{insurer}</span></p></td>"
    "<td><p class=MsoNormal>{n1}</p></td><td><p class=MsoNormal>山田<br>太郎</p></td></tr>"
    "<tr><td><p class=MsoNormal>{n2}</p></td><td><p class=MsoNormal>佐藤&nbsp;花子</p></td></tr></table>"
)


def test_outlook_cell_paragraphs_and_rowspans_keep_each_row_together() -> None:
    html = OUTLOOK_TABLE.format(insurer="東京海上日動", n1="8100000001", n2="8100000002")
    report = scan(html_mail(html, TOKIO), TOKIO)
    assert [(r.policy_number, r.name, r.attribution) for r in report.records] == [
        ("8100000001", "山田 太郎", "explicit"),
        ("8100000002", "佐藤 花子", "explicit"),
    ]
    assert violations(report) == []


@pytest.mark.parametrize(
    ("html", "rows"),
    [
        (
            "<table><tr><td rowspan=3>A</td><td>1</td></tr><tr><td>2</td></tr><tr><td>3</td></tr></table>",
            ["A\t1", "A\t2", "A\t3"],
        ),
        (
            "<table><tr><td>1</td><td rowspan=2>B</td><td>x</td></tr><tr><td>2</td><td>y</td></tr></table>",
            ["1\tB\tx", "2\tB\ty"],
        ),
        (
            "<table><tr><td colspan=2>AB</td><td>C</td></tr><tr><td>a</td><td>b</td><td>c</td></tr></table>",
            ["AB\t\tC", "a\tb\tc"],
        ),
        ("<table><tr><td><p>山田</p><p>太郎</p></td><td>x<br>y</td></tr></table>", ["山田 太郎\tx y"]),
    ],
)
def test_html_tables_are_read_as_a_grid(html: str, rows: list[str]) -> None:
    assert [line for line in html_to_lines(html) if line] == rows


ALIGNED = [
    (  # columns aligned with spaces, a full-width space inside a name, an empty cell
        "証券番号      契約者名          満期日       引受保険会社\n"
        "8100000001    山田　太郎        2025/04/01   東京海上日動\n"
        "8100000002    佐藤 花子                     東京海上日動\n"
    ),
    (  # full-width spaces between the cells
        "証券番号　契約者名　引受保険会社\n8100000001　山田太郎　東京海上日動\n8100000002　佐藤花子　東京海上日動\n"
    ),
    (  # box-drawing rules
        "│証券番号  │契約者名  │引受        │\n├──────┼─────┼──────┤\n"
        "│8100000001│山田 太郎 │東京海上日動│\n│8100000002│佐藤 花子 │東京海上日動│\n"
    ),
]


@pytest.mark.parametrize("table", ALIGNED)
def test_a_plain_text_table_is_read_row_by_row(table: str) -> None:
    report = scan(body_mail(f"各位\n\n下記の通りです。\n\n{table}\n以上\n", TOKIO), TOKIO)
    assert [
        (r.policy_number, (r.name or "").replace(" ", ""), r.underwriter, r.attribution) for r in report.records
    ] == [
        ("8100000001", "山田太郎", "tokio", "explicit"),
        ("8100000002", "佐藤花子", "tokio", "explicit"),
    ]
    assert violations(report) == []


def test_aligned_rows_keep_one_line_for_one_line() -> None:
    lines = ALIGNED[0].splitlines()
    assert len(align_tables(lines)) == len(lines)
    assert align_tables(["いつも　お世話に　なっております。"]) == ["いつも　お世話に　なっております。"]


# --- 4. Numbers that are something else -----------------------------------------------------------

SOMPO_SHAPED = "31234567890"  # the shape of 損保ジャパン's numbers (3 + ten digits)
LOOKALIKES = [
    f"取引番号：{SOMPO_SHAPED}",
    f"注文No. {SOMPO_SHAPED}",
    f"車台番号 {SOMPO_SHAPED}",
    f"会員ID:{SOMPO_SHAPED}",
    f"お客様番号 {SOMPO_SHAPED}",
    f"管理コード：{SOMPO_SHAPED}",
    f"法人番号 {SOMPO_SHAPED}",
    "ミーティングID: 312 3456 7890",
    "Meeting ID: 312 3456 7890",
    f"参加URL https://zoom.us/j/{SOMPO_SHAPED}?pwd=abc",
    f"UID:{SOMPO_SHAPED}@calendar.example.com",
    f"ご連絡先 {SOMPO_SHAPED}@docomo.ne.jp",
    f"詳細=3D{SOMPO_SHAPED}",
    f"ref{SOMPO_SHAPED}",
    "受付日：2024/3\n1234567890 を記録しました",
    "11月分の件数は 2024-10-3\n1234567890 件でした",
]


@pytest.mark.parametrize("line", LOOKALIKES)
def test_a_number_under_another_identifier_or_inside_one_is_not_a_policy_number(line: str) -> None:
    body = f"鈴木様\n\nいつもお世話になっております。\n{line}\nよろしくお願いいたします。\n"
    report = scan(body_mail(body, TOKIO), TOKIO)
    assert report.records == (), report.records
    assert violations(report) == []


@pytest.mark.parametrize("label", ["証券番号", "契約番号", "証券No.", "ポリシー番号", "Policy No"])
def test_the_same_number_under_a_policy_label_is_one(label: str) -> None:
    report = scan(body_mail(f"{label}：{SOMPO_SHAPED}　契約者名：山田 太郎 様\n", TOKIO), TOKIO)
    assert [r.policy_number for r in report.records] == [SOMPO_SHAPED]
    assert violations(report) == ["cross_insurer"]


def test_a_number_broken_inside_one_token_is_still_joined() -> None:
    report = scan(body_mail("証券番号：8100-\n000001 の件です。\n", SOMPO), SOMPO)
    assert [r.policy_number for r in report.records] == ["8100000001"]


# --- labels: one classification for columns and `label：value` ------------------------------------


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        ("証券番号", LabelKind.POLICY),
        ("保険証券番号", LabelKind.POLICY),
        ("証券コード", LabelKind.OTHER_ID),
        ("取引番号", LabelKind.OTHER_ID),
        ("陸運局登録番号", LabelKind.OTHER_ID),
        ("予約ID", LabelKind.OTHER_ID),
        ("FAX", LabelKind.OTHER_ID),
        ("引受保険会社", LabelKind.UNDERWRITER),
        ("保険会社名", LabelKind.UNDERWRITER),
        ("前契約保険会社", LabelKind.OTHER_INSURER),
        ("乗換元", LabelKind.OTHER_INSURER),
        ("被保険者", LabelKind.NAME),
        ("被保険者名", LabelKind.NAME),
        ("担当者氏名", LabelKind.STAFF),
        ("社員番号", LabelKind.STAFF),
        ("契約者カナ", LabelKind.KANA),
        ("満期日", LabelKind.DATE),
        ("年間保険料", LabelKind.AMOUNT),
        ("備考", LabelKind.FREE),
        ("No.", None),
        ("山田太郎", None),
    ],
)
def test_label_classes(label: str, kind: LabelKind | None) -> None:
    assert classify(label) == kind


# --- 5. 異体字 ----------------------------------------------------------------------------------------

ITAIJI = [
    ("高橋 一郎", "髙橋 一郎"),
    ("山崎 花子", "山﨑 花子"),
    ("渡辺 健", "渡邉 健"),
    ("斎藤 誠", "齋藤 誠"),
    ("浜田 光", "濱田 光"),
]


@pytest.mark.parametrize(("registered", "written"), ITAIJI + [(w, r) for r, w in ITAIJI])
def test_a_variant_spelling_finds_the_registered_customer(registered: str, written: str) -> None:
    registry = RegistryIndex()
    registry.add("8199999999", registered, "tokio")
    pipeline = Pipeline(example_config(), registry)
    body = f"下記のお客様の件です。\n契約者名：{written} 様\n"
    report = scan(body_mail(body, TOKIO), TOKIO, pipeline)
    [record] = report.records
    assert (record.name, record.underwriter, record.attribution) == (written, "tokio", "registry_name")
    assert violations(report) == []
    assert violations(scan(body_mail(body, SOMPO), SOMPO, pipeline)) == ["cross_insurer"]


@pytest.mark.parametrize("written", ["㈱山田商店", "（株）山田商店", "(株)山田商店"])
def test_corporate_forms_fold_to_one(written: str) -> None:
    registry = RegistryIndex()
    registry.add("8199999998", "株式会社山田商店", "tokio")
    report = scan(body_mail(f"{written} 様の件でご連絡します。\n", SOMPO), SOMPO, Pipeline(example_config(), registry))
    assert [(r.underwriter, r.attribution) for r in report.records] == [("tokio", "registry_name")]


# --- 6. Staff are not customers ---------------------------------------------------------------------

ROSTERS = [
    [["氏名", "部署", "内線", "携帯"], ["田中 美咲 様", "営業一課", "1234", "090-1111-2222"]],
    [["社員番号", "氏名", "役職"], ["A001", "佐藤 健太", "課長"]],
    [["担当者", "所属", "メール"], ["高田 直樹", "本店営業部", "takada@mirai-hoken.example.jp"]],
]


@pytest.mark.parametrize("rows", ROSTERS)
def test_a_roster_of_staff_is_not_a_customer_list(rows: list[list[str]]) -> None:
    report = scan(csv_mail(rows, TOKIO), TOKIO)
    assert report.records == ()
    assert violations(report) == []


def test_the_staff_directory_keeps_its_people_out_of_customers(tmp_path: Path) -> None:
    export = tmp_path / "staff.csv"
    export.write_text(
        "姓,名,セイ,メイ,メールアドレス,部署\n田中,美咲,タナカ,ミサキ,tanaka@mirai-hoken.example.jp,営業一課\n", "cp932"
    )
    imported = import_staff_csv(export)
    imported.directory.save(tmp_path / "staff.idx")
    body = "次回の打合せには下記の者が伺います。\n氏名：田中 美咲\n"
    assert violations(scan(body_mail(body, TOKIO), TOKIO)) == ["unattributed"]
    from dlp_gateway.registry.staff import load_staff  # noqa: PLC0415

    pipeline = Pipeline(example_config(), staff=load_staff(tmp_path / "staff.idx"))
    assert violations(scan(body_mail(body, TOKIO), TOKIO, pipeline)) == []
    # A name the registry holds as a customer stays a customer, staff or not.
    registry = RegistryIndex()
    registry.add("30000000009", "田中 美咲", "sompo")
    both = Pipeline(example_config(), registry, staff=load_staff(tmp_path / "staff.idx"))
    assert violations(scan(body_mail(body, TOKIO), TOKIO, both)) == ["cross_insurer"]


def test_the_staff_directory_file_holds_no_names(tmp_path: Path) -> None:
    export = tmp_path / "staff.csv"
    export.write_text("name,kana,email,department\n田中 美咲,タナカ ミサキ,t@x.jp,営業\n", "utf-8")
    import_staff_csv(export).directory.save(tmp_path / "staff.idx")
    data = (tmp_path / "staff.idx").read_bytes()
    assert "田中".encode() not in data and "タナカ".encode() not in data and b"t@x.jp" not in data


# --- end to end: the clean variant delivered byte for byte, the dirty one stripped -----------------

E2E: dict[str, Callable[[str, bool], bytes]] = {
    "header cells": lambda to, dirty: csv_mail(
        [["証券番号", "氏名", "登録日", "引受保険会社"], ["8100000001", "山田 太郎", "", "東京海上日動"]]
        + ([["30000000001", "佐藤 花子", "", "損保ジャパン"]] if dirty else []),
        to,
    ),
    "previous insurer": lambda to, dirty: csv_mail(
        [
            ["証券番号", "契約者名", "前契約保険会社"],
            [SOMPO_SHAPED if dirty else "8100000001", "山田 太郎", "損保ジャパン"],
        ],
        to,
    ),
    "merged cells": lambda to, dirty: xlsx_mail(
        [["引受保険会社", "契約者名"], ["損保ジャパン" if dirty else "東京海上日動", "山田 太郎"], [None, "佐藤 花子"]],
        to,
        merges=("A2:A3",),
    ),
    "outlook table": lambda to, dirty: html_mail(
        OUTLOOK_TABLE.format(insurer="損保ジャパン" if dirty else "東京海上日動", n1="8100000001", n2="8100000002"), to
    ),
    "aligned text": lambda to, dirty: body_mail(
        ALIGNED[0].replace("花子                     東京海上日動", "花子                     損保ジャパン")
        if dirty
        else ALIGNED[0],
        to,
    ),
    "other identifier": lambda to, dirty: body_mail(
        f"{'証券番号' if dirty else '取引番号'}：{SOMPO_SHAPED}\nミーティングID: 312 3456 7890\n", to
    ),
    "roster": lambda to, dirty: csv_mail(
        [["氏名", "部署", "内線"], ["田中 美咲 様", "営業一課", "1234"]]
        + ([["契約者名：佐藤 花子", "証券番号：" + SOMPO_SHAPED, ""]] if dirty else []),
        to,
    ),
}


@pytest.mark.parametrize("case", sorted(E2E))
async def test_end_to_end_clean_delivered_whole_and_dirty_stripped(tmp_path: Path, sink: Sink, case: str) -> None:
    gw = await start_gateway(tmp_path, sink, notices=None)
    try:
        clean = E2E[case](TOKIO, False).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        dirty = E2E[case](TOKIO, True).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        assert (await submit(gw.port, HEAD_OFFICE, [TOKIO], clean))[0] == 250
        assert (await submit(gw.port, HEAD_OFFICE, [HEAD_OFFICE, TOKIO], dirty))[0] == 250
    finally:
        await gw.stop()
    [(_, to_clean, data), (_, to_dirty, _)] = sink.received
    assert to_clean == (TOKIO,) and data == clean
    assert to_dirty == (HEAD_OFFICE,)


@pytest.mark.slow  # runs the CLI in subprocesses
def test_staff_import_through_the_cli_and_check_reads_it(site: Path) -> None:
    export = site / "staff.csv"
    export.write_text("氏名,フリガナ,部署\n田中 美咲,タナカ ミサキ,営業一課\n,,空行\n", "cp932")
    out = cli("staff", "import", "--config", "rules", str(export), cwd=site)
    assert "imported 1" in out.stdout and "skipped: no name" in out.stderr
    assert (site / "var" / "staff.idx").exists()
    assert cli("check", "--config", "rules", cwd=site).returncode == 0
    (site / "var" / "staff.idx").write_bytes(b"garbage")
    bad = cli("check", "--config", "rules", cwd=site, check=False)
    assert bad.returncode != 0 and "staff directory" in bad.stderr


@pytest.mark.parametrize(
    ("sheet", "title", "expected"),
    [
        ("東京海上日動", None, ("tokio", "explicit")),
        ("損保ジャパン分", None, ("sompo", "explicit")),
        ("Sheet1", "損保ジャパン 満期一覧", ("sompo", "explicit")),
        ("損保ジャパン御中", None, (None, "unknown")),  # addressed to, not the insurer of the rows
    ],
)
def test_a_sheet_or_title_row_named_after_an_insurer_is_the_heading_of_its_rows(
    sheet: str, title: str | None, expected: tuple[str | None, str]
) -> None:
    rows: list[list[str | None]] = [["契約者名", "満期日"], ["山田 太郎", "2026/04/01"]]
    report = scan(xlsx_mail([[title], *rows] if title else rows, SOMPO, sheet=sheet), SOMPO)
    assert [(r.underwriter, r.attribution) for r in report.records] == [expected]


@pytest.mark.parametrize(("title", "code"), [("引受保険会社", "SJ"), ("保険会社コード", "sj"), ("引受", "SJ")])
def test_an_underwriter_column_may_hold_the_insurers_code(title: str, code: str) -> None:
    rows = [["証券番号", "契約者名", title], ["8100000001", "山田 太郎", code]]
    [record] = scan(csv_mail(rows, SOMPO), SOMPO).records
    assert (record.underwriter, record.attribution) == ("sompo", "explicit")


def test_a_code_outside_an_underwriter_column_is_just_letters() -> None:
    rows = [["証券番号", "契約者名", "区分"], ["8100000001", "山田 太郎", "SJ"]]
    [record] = scan(csv_mail(rows, SOMPO), SOMPO).records
    assert (record.underwriter, record.attribution) == ("tokio", "pattern")


async def test_end_to_end_a_variant_spelling_is_the_registered_customer(tmp_path: Path, sink: Sink) -> None:
    registry = RegistryIndex()
    registry.add("8199999999", "高橋 一郎", "tokio")
    gw = await start_gateway(tmp_path, sink, Pipeline(example_config(), registry), notices=None)
    mail = (
        body_mail("下記のお客様の件です。\n契約者名：髙橋 一郎 様\n", TOKIO)
        .replace(b"\r\n", b"\n")
        .replace(b"\n", b"\r\n")
    )
    try:
        assert (await submit(gw.port, HEAD_OFFICE, [TOKIO], mail))[0] == 250
        assert (await submit(gw.port, HEAD_OFFICE, [HEAD_OFFICE, SOMPO], mail))[0] == 250
    finally:
        await gw.stop()
    [(_, to_own, data), (_, to_rival, _)] = sink.received
    assert to_own == (TOKIO,) and data == mail  # its underwriter gets it whole
    assert to_rival == (HEAD_OFFICE,)  # the rival insurer is stripped


@pytest.mark.parametrize(
    "row",
    [
        ["佐藤 花子", "担当：鈴木", "満期 4月"],  # a `label：value` cell is a value
        ["佐藤 花子 様", "営業部", "満期日"],  # a name with its honorific is a value
    ],
)
def test_a_row_holding_values_is_not_a_header_row_however_many_titles_it_mentions(row: list[str]) -> None:
    from dlp_gateway.extract.table import is_header_row  # noqa: PLC0415

    assert not is_header_row(row)
    assert is_header_row(["氏名", "担当", "満期日"])


@pytest.mark.parametrize("label", ["保険番号", "証書番号", "旧証券番号", "契約No"])
def test_every_label_that_names_the_contract_is_a_policy_label(label: str) -> None:
    assert classify(label) is LabelKind.POLICY
    assert classify("保険者番号") is LabelKind.OTHER_ID  # a health insurer's number


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="証券番号契約者名山田太郎:：=#＃【[「(（ 　\t、。/_ab12", max_size=40), st.integers(0, 40))
def test_the_backward_label_search_finds_what_a_forward_one_does(line: str, at: int) -> None:
    """labels.py searches backwards for speed; the forward search is the definition."""
    import regex  # noqa: PLC0415

    from dlp_gateway.detect import labels  # noqa: PLC0415

    start = min(at, len(line))
    for backward in (labels._BEFORE, labels._SEPARATED):
        forward = regex.compile(backward.pattern, regex.V1)
        want = forward.search(line, max(0, start - labels.MAX_LABEL - 8), start)
        assert labels.label_before(line, start, backward is labels._SEPARATED) == (
            want.group("label") if want else None
        )


@pytest.mark.parametrize(
    ("line", "numbers"),
    [
        ("証券番号#8100000001", ["8100000001"]),
        ("証券No.＃8100000001", ["8100000001"]),
        ("Order #8100000001", []),
        ("Ticket #8100000001", []),
        ("Invoice: 8100000001", []),
    ],
)
def test_a_hash_sign_is_a_label_separator_not_glue(line: str, numbers: list[str]) -> None:
    report = scan(body_mail(f"{line} 山田 太郎 様\n", SOMPO), SOMPO)
    assert [r.policy_number for r in report.records if r.policy_number] == numbers


@pytest.mark.parametrize("label", ["出席者", "参加者", "同席者", "作成者", "報告者"])
def test_the_people_of_a_meeting_or_a_report_are_not_customers(label: str) -> None:
    report = scan(body_mail(f"打合せの件\n{label}：田中 美咲 様、鈴木 一郎 様\n", TOKIO), TOKIO)
    assert violations(report) == []


@pytest.mark.parametrize("title", ["東京海上日動との比較", "東京海上日動から切替の候補", "東京海上日動 御中"])
def test_a_title_that_says_more_than_the_insurer_of_the_list_is_not_a_heading(title: str) -> None:
    report = scan(xlsx_mail([[title], ["契約者名", "満期日"], ["山田 太郎", "2026/04/01"]], TOKIO), TOKIO)
    assert [(r.underwriter, r.attribution) for r in report.records] == [(None, "unknown")]


@pytest.mark.parametrize(
    "header",
    [["契約者名", "担当者", "満期日"], ["氏名", "担当", "保険会社"], ["お客様名", "所属", "内線"]],
)
def test_a_customer_list_with_a_staff_column_is_not_a_roster(header: list[str]) -> None:
    report = scan(
        csv_mail([header, ["山田 太郎", "鈴木", "損保ジャパン" if "保険会社" in header else "x"]], TOKIO), TOKIO
    )
    assert [r.name for r in report.records] == ["山田 太郎"]


@pytest.mark.parametrize("line", ["No8100000001", "証券No8100000001", "証券NO.8100000001", "証番：8100000001"])
def test_no_glued_to_a_number_labels_it(line: str) -> None:
    report = scan(body_mail(f"{line}　山田 太郎 様\n", SOMPO), SOMPO)
    assert [r.policy_number for r in report.records] == ["8100000001"]


@given(
    st.lists(
        st.sampled_from(
            ["証券番号", "契約者名", "満期日", "引受保険会社", "No", "氏名", " ", "　", "  ", "│", "81000", "山田"]
        ),
        max_size=10,
    ).map("".join)
)
def test_a_line_is_a_header_row_only_where_it_has_a_gap(line: str) -> None:
    """Why aligned._header skips lines with no gap before splitting them: split at _HEADER_GAP such a
    line is one cell, and one cell is never a header row. (_maybe_table is the search for a gap or a
    rule, by substring tests.)"""
    assert _maybe_table(line) == (regex.search(f"  |\u3000|[{_BOX}]", line) is not None)
    if not _maybe_table(line):
        assert len(_cells(line, _HEADER_GAP)) <= 1
        assert _header(line) is None
