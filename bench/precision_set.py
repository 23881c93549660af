"""Generated clean and dirty variants of the precision classes of issue 20.

Each class is a structure the gateway once misread. A clean variant is mail an insurer may
receive: its own customers (and things that are not customers) in that structure, addressed to
it. Its dirty twin adds a rival insurer's customer in the same structure. The vocabulary is drawn
at random from pools wider than the tests' tables (column titles, identifier labels, staff
columns), with Faker's ja_JP names, so a rule that lists examples instead of stating a principle
shows up here as a refused clean message or a missed dirty one.
"""

from __future__ import annotations

import csv
import io
import random
import unicodedata
from dataclasses import dataclass

import openpyxl
from faker import Faker

from bench.evalset import INSURERS, agency_mail
from dlp_gateway.detect.normalize import name_key
from dlp_gateway.model import Envelope
from dlp_gateway.registry import RegistryIndex

DOMAINS = {
    "tokio": "tokiomarine-nichido.co.jp",
    "sompo": "sompo-japan.co.jp",
    "msi": "ms-ins.com",
    "aioi": "aioinissaydowa.co.jp",
}
CLASSES = ("header_cells", "other_insurer", "merged", "outlook", "aligned", "lookalike", "itaiji", "staff")
POLICY_TITLES = ["証券番号", "証券No.", "契約番号", "保険証券番号", "ポリシー番号"]
NAME_TITLES = ["契約者名", "氏名", "お客様名", "被保険者名", "契約者氏名", "ご契約者"]
UNDERWRITER_TITLES = ["引受保険会社", "保険会社", "引受会社", "保険会社名", "元受会社"]
# Titles that follow a name title in header rows: listed, invented and compound.
OTHER_TITLES = [
    "登録日", "更新予定", "趣味", "紹介者", "連絡方法", "最終面談", "ご家族", "勤務先", "車種", "用途",
    "前回訪問", "次回予定", "地区", "ランク", "DM送付", "同意", "面談者", "区分コード", "郵便番号", "携帯",
]  # fmt: skip
PREVIOUS_TITLES = ["前契約保険会社", "旧保険会社", "乗換元", "他社契約", "備考", "摘要", "前年度引受", "変更前", "メモ"]
ID_HEADS = [
    "受付", "取引", "注文", "管理", "会員", "予約", "問合せ", "伝票", "車台", "登録", "お客様", "口座", "法人", "案件",
]  # fmt: skip
ID_TAILS = ["番号", "No.", "ID", "コード", "No"]
STAFF_TITLES = ["部署", "所属", "内線", "役職", "社員番号", "担当", "所属部署", "内線番号"]
ITAIJI = [  # (common, variant)
    ("高", "髙"), ("崎", "﨑"), ("辺", "邉"), ("辺", "邊"), ("斎", "齋"), ("浜", "濱"), ("沢", "澤"), ("桜", "櫻"),
]  # fmt: skip
ITAIJI_FAMILIES = ["高橋", "山崎", "渡辺", "斎藤", "浜田", "沢井", "桜井", "高田", "岡崎", "田辺", "長浜", "宮崎"]


@dataclass
class ClassCase:
    raw: bytes
    envelope: Envelope
    cls: str
    dirty: bool


class PrecisionSet:
    def __init__(self, seed: int = 5) -> None:
        self.r = random.Random(seed)
        self.fake = Faker("ja_JP")
        self.fake.seed_instance(seed)
        self.registry = RegistryIndex()
        self.itaiji_names: set[str] = set()  # name keys the itaiji class has registered

    # -- pieces

    def name(self) -> str:
        """A name the registry does not hold (the itaiji class registers its own)."""
        while True:
            name = f"{self.fake.last_name_pair()[0]} {self.fake.first_name_pair()[0]}"
            if not self.registry.insurers_for_name(name):
                return name

    def given(self) -> str:
        return self.r.choice("健誠光和智浩雅隆俊美恵") + self.r.choice("之太一史") + self.r.choice("介郎助輔")

    def number(self, insurer: str) -> str:
        return str(INSURERS[insurer][1](self.r))

    def alias(self, insurer: str) -> str:
        return self.r.choice(INSURERS[insurer][0])

    def rival(self, insurer: str) -> str:
        return self.r.choice([i for i in INSURERS if i != insurer])

    def id_label(self) -> str:
        return self.r.choice(ID_HEADS) + self.r.choice(ID_TAILS)

    # -- formats

    @staticmethod
    def mail(to: str, body: str, attachment: tuple[str, str, bytes] | None = None) -> bytes:
        return agency_mail(body, attachment, to=to, subject="=?UTF-8?B?44GU6YCj57Wh?=")

    def table(self, to: str, rows: list[list[str]], merges: tuple[str, ...] = ()) -> bytes:
        """The rows as a CSV or XLSX attachment, an HTML table or an aligned text table."""
        kind = "xlsx" if merges else self.r.choice(["csv", "xlsx", "html", "text"])
        letter = "一覧を送付します。\n\nよろしくお願いいたします。"
        if kind == "csv":
            buf = io.StringIO()
            csv.writer(buf).writerows(rows)
            return self.mail(to, letter, ("list.csv", "text/csv", buf.getvalue().encode("cp932")))
        if kind == "xlsx":
            wb = openpyxl.Workbook()
            ws = wb.active
            assert ws is not None
            for row in rows:
                ws.append([c or None for c in row])
            for cells in merges:
                ws.merge_cells(cells)
            buf2 = io.BytesIO()
            wb.save(buf2)
            xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            return self.mail(to, letter, ("list.xlsx", xlsx, buf2.getvalue()))
        if kind == "html":
            cells = "".join(
                "<tr>" + "".join(f"<td><p class=MsoNormal>{c}</p></td>" for c in row) + "</tr>" for row in rows
            )
            html = f"<html><body><p>一覧です。</p><table border=1>{cells}</table></body></html>"
            return self.mail(to, "一覧はHTML版をご覧ください。", ("list.html", "text/html", html.encode()))
        lines = self.aligned_lines(rows, self.r.randint(2, 4))
        return self.mail(to, "各位\n\n下記の通りです。\n\n" + "\n".join(lines) + "\n\n以上")

    @staticmethod
    def aligned_lines(rows: list[list[str]], gap: int) -> list[str]:
        """Rows padded with spaces to screen columns (a full-width character is two wide)."""

        def width(text: str) -> int:
            return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

        widths = [max(width(r[i]) for r in rows) + gap for i in range(len(rows[0]))]
        return ["".join(c + " " * (w - width(c)) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]

    # -- classes: each returns the mail

    def header_cells(self, insurer: str, dirty: bool) -> bytes:
        header = [self.r.choice(POLICY_TITLES), self.r.choice(NAME_TITLES), self.r.choice(OTHER_TITLES)]
        header.append(self.r.choice(UNDERWRITER_TITLES))
        rows = [header] + [[self.number(insurer), self.name(), "", self.alias(insurer)] for _ in range(3)]
        if dirty:
            rival = self.rival(insurer)
            rows.append([self.number(rival), self.name(), "", self.alias(rival)])
        return self.table(f"a@{DOMAINS[insurer]}", rows)

    def other_insurer(self, insurer: str, dirty: bool) -> bytes:
        header = [self.r.choice(POLICY_TITLES), self.r.choice(NAME_TITLES), self.r.choice(PREVIOUS_TITLES)]
        rows = [header]
        for _ in range(3):
            mention = self.alias(self.rival(insurer))
            note = self.r.choice([mention, f"{mention}から切替", f"旧{mention}", f"{mention}より移行"])
            rows.append([self.number(insurer), self.name(), note])
        if dirty:
            rows.append([self.number(self.rival(insurer)), self.name(), self.alias(insurer)])
        return self.table(f"a@{DOMAINS[insurer]}", rows)

    def merged(self, insurer: str, dirty: bool) -> bytes:
        named = self.rival(insurer) if dirty else insurer
        rows = [[self.r.choice(UNDERWRITER_TITLES), self.r.choice(NAME_TITLES), "満期日"]]
        rows += [[self.alias(named) if i == 0 else "", self.name(), f"2026/0{i + 1}/15"] for i in range(3)]
        return self.table(f"a@{DOMAINS[insurer]}", rows, merges=("A2:A4",))

    def outlook(self, insurer: str, dirty: bool) -> bytes:
        named = self.rival(insurer) if dirty else insurer
        span = f"<td rowspan=3><p class=MsoNormal><span lang=JA>{self.alias(named)}</span></p></td>"
        titles = ("引受保険会社", "証券番号", "契約者名")
        head = "".join(f"<td><p class=MsoNormal>{t}<o:p></o:p></p></td>" for t in titles)
        rows = [f"<tr>{head}</tr>"]
        for i in range(3):
            family, given = self.name().split()
            cells = f"<td><p class=MsoNormal>{self.number(insurer)}</p></td>"
            cells += f"<td><p class=MsoNormal>{family}<br>{given}</p></td>"
            rows.append(f"<tr>{span if i == 0 else ''}{cells}</tr>")
        html = f"<html><body><table class=MsoNormalTable>{''.join(rows)}</table></body></html>"
        to = f"a@{DOMAINS[insurer]}"
        return self.mail(to, "一覧です。", ("list.htm", "text/html; charset=UTF-8", html.encode()))

    def aligned(self, insurer: str, dirty: bool) -> bytes:
        rows = [[self.r.choice(POLICY_TITLES), self.r.choice(NAME_TITLES), self.r.choice(UNDERWRITER_TITLES)]]
        rows += [[self.number(insurer), self.name().replace(" ", "\u3000"), self.alias(insurer)] for _ in range(3)]
        if dirty:
            rival = self.rival(insurer)
            rows.append([self.number(rival), self.name(), self.alias(rival)])
        gap = self.r.choice(["  ", "   ", "\u3000", "  \u3000"])
        if gap == "\u3000":
            rows = [[c.replace("\u3000", "") for c in row] for row in rows]
        lines = [gap.join(row) for row in rows]
        if self.r.random() < 0.5:  # aligned to screen columns
            lines = self.aligned_lines(rows, 2)
        return self.mail(f"a@{DOMAINS[insurer]}", "各位\n\n" + "\n".join(lines) + "\n\n以上")

    def lookalike(self, insurer: str, dirty: bool) -> bytes:
        rival_number = self.number(self.rival(insurer))
        spaced = " ".join([rival_number[:3], rival_number[3:7], rival_number[7:]])
        forms = [
            f"{self.id_label()}：{rival_number}",
            f"{self.id_label()} {rival_number}",
            f"ミーティングID: {spaced}",
            f"https://zoom.us/j/{rival_number}?pwd=x{self.r.randrange(10**6)}",
            f"UID:{rival_number}-{self.r.randrange(10**4)}@calendar.example.com",
            f"{rival_number}@docomo.ne.jp",
        ]
        own = f"{self.r.choice(POLICY_TITLES)}：{self.number(insurer)}　{self.r.choice(NAME_TITLES)}：{self.name()} 様"
        lines = ["いつもお世話になっております。", own, self.r.choice(forms)]
        if dirty:
            lines.append(f"{self.r.choice(POLICY_TITLES)}：{rival_number}　契約者名：{self.name()} 様")
        return self.mail(f"a@{DOMAINS[insurer]}", "\n".join(lines))

    def itaiji(self, insurer: str, dirty: bool) -> bytes:
        # Given names of three kanji (健之介, 美和子) that Faker's pool does not hold: a registered
        # customer's name is no one else's in the set. One customer per name (keys fold 異体字).
        family, given = self.r.choice(ITAIJI_FAMILIES), self.given()
        while name_key(f"{family} {given}") in self.itaiji_names:
            family, given = self.r.choice(ITAIJI_FAMILIES), self.given()
        common, variant = next((c, v) for c, v in self.r.sample(ITAIJI, len(ITAIJI)) if c in family)
        written = family.replace(common, variant)
        registered, mailed = (family, written) if self.r.random() < 0.5 else (written, family)
        self.itaiji_names.add(name_key(f"{family} {given}"))
        self.registry.add(self.number(insurer), f"{registered} {given}", insurer)
        to = self.rival(insurer) if dirty else insurer
        body = f"下記のお客様の件でご連絡いたします。\n{self.r.choice(NAME_TITLES)}：{mailed} {given} 様\n"
        return self.mail(f"a@{DOMAINS[to]}", body)

    def staff(self, insurer: str, dirty: bool) -> bytes:
        columns = self.r.sample(STAFF_TITLES, 2)
        rows = [["氏名", *columns]]
        for _ in range(3):
            honorific = self.r.choice(["", " 様"])
            rows.append([self.name() + honorific, "営業一課", str(self.r.randint(1000, 9999))])
        if not dirty:
            return self.table(f"a@{DOMAINS[insurer]}", rows)
        rival = self.rival(insurer)
        body = f"担当者一覧です。\n\n証券番号：{self.number(rival)}　契約者名：{self.name()} 様"
        return self.mail(f"a@{DOMAINS[insurer]}", body)

    def cases(self, per_class: int) -> list[ClassCase]:
        out = []
        for cls in CLASSES:
            for i in range(per_class):
                insurer = self.r.choice(list(INSURERS))
                dirty = i % 2 == 1
                raw = getattr(self, cls)(insurer, dirty)
                to = next(a for a in raw.split(b"\r\n", 2)[1].decode()[4:].split(","))
                out.append(ClassCase(raw, Envelope("honbu@mirai-hoken.example.jp", (to.strip(),)), cls, dirty))
        return out
