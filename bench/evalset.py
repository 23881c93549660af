"""A generated evaluation set of agency mail with known answers (Faker ja_JP names).

Each message mixes customer records in one of the shapes agencies really send — labelled body
lines, bullet lists under an insurer heading, CSV and XLSX attachments, free-text sentences —
with everything that must not be taken for a customer: the greeting, the signature, phone and
postal numbers, dates, amounts, stock codes, invoice and order numbers.
"""

from __future__ import annotations

import base64
import csv
import io
import random
from dataclasses import dataclass, field

import openpyxl
from faker import Faker

from dlp_gateway.detect.normalize import name_key
from dlp_gateway.model import Envelope
from dlp_gateway.registry import RegistryIndex

INSURERS = {  # id → (how mail names it, number maker)
    "tokio": (["東京海上日動", "東京海上"], lambda r: f"8{r.randrange(10**9):09d}"),
    "sompo": (["損保ジャパン", "損害保険ジャパン"], lambda r: f"3{r.randrange(10**10):010d}"),
    "msi": (["三井住友海上"], lambda r: f"MS{r.randrange(10**7):07d}"),
    "aioi": (["あいおいニッセイ同和損保", "あいおいニッセイ同和"], lambda r: f"A{r.randrange(10**9):09d}"),
}
DASHES = "-‐－ー−"
FULLWIDTH = str.maketrans(
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ"
)
SHAPES = ("labelled", "bullets", "csv", "xlsx", "free")


@dataclass
class Customer:
    number: str
    family: str
    given: str
    insurer: str
    expiry: str

    @property
    def name(self) -> str:
        return f"{self.family} {self.given}"


@dataclass
class Case:
    raw: bytes
    envelope: Envelope
    shape: str
    numbers: dict[str, str] = field(default_factory=dict)  # canonical number → underwriter
    names: dict[str, str] = field(default_factory=dict)  # name key → context (tabular/record/free)
    sources: dict[str, str] = field(default_factory=dict)  # number or name key → expected attribution


def written(number: str, r: random.Random) -> str:
    """The ways people write a number: as is, full-width, with dashes or spaces inside."""
    style = r.random()
    if style < 0.4:
        return number
    if style < 0.6:
        return number.translate(FULLWIDTH)
    cut = r.randrange(2, len(number) - 2)
    sep = r.choice(DASHES) if style < 0.85 else " "
    return number[:cut] + sep + number[cut:]


class Generator:
    def __init__(self, seed: int = 7, registry_share: float = 0.5) -> None:
        self.r = random.Random(seed)
        self.fake = Faker("ja_JP")
        self.fake.seed_instance(seed)
        self.registry = RegistryIndex()
        self.registry_share = registry_share
        self.staff = [self.person() for _ in range(5)]

    def person(self) -> tuple[str, str]:
        return self.fake.last_name_pair()[0], self.fake.first_name_pair()[0]

    def customer(self, insurer: str | None = None) -> Customer:
        insurer = insurer or self.r.choice(list(INSURERS))
        family, given = self.person()
        c = Customer(
            INSURERS[insurer][1](self.r),
            family,
            given,
            insurer,
            f"2025/{self.r.randint(1, 12):02d}/{self.r.randint(1, 28):02d}",
        )
        if self.r.random() < self.registry_share:
            self.registry.add(c.number, c.name, insurer)
        return c

    def alias(self, insurer: str) -> str:
        return self.r.choice(INSURERS[insurer][0])

    def noise(self) -> list[str]:
        r = self.r
        return r.sample(
            [
                f"〒{r.randint(100, 999)}-{r.randint(1000, 9999)} 東京都千代田区丸の内{r.randint(1, 3)}-1",
                f"お問い合わせ：0120-{r.randint(100, 999)}-{r.randint(100, 999)}",
                f"TEL 03-{r.randint(1000, 9999)}-{r.randint(1000, 9999)}",
                f"請求書番号 8{r.randrange(10**9):09d}",
                f"注文番号：MS{r.randrange(10**7):07d}",
                f"合計 {r.randint(1, 9)},{r.randint(100, 999)},{r.randint(100, 999)}円",
                f"証券コード {r.randint(1000, 9999)}",
                f"会議は {r.randint(2024, 2026)}/{r.randint(1, 12)}/{r.randint(1, 28)} 14:00 からです。",
                "ご不明点は担当までお問い合わせください。",
            ],
            3,
        )

    def case(self, shape: str) -> Case:
        r = self.r
        to_insurer = r.choice(list(INSURERS))
        staff_family, staff_given = r.choice(self.staff)
        rcpt_family, _ = self.person()
        greeting = [f"{self.alias(to_insurer)}", f"{rcpt_family}様", "", "いつもお世話になっております。"]
        signature = [
            "",
            "以上",
            "",
            "みらい保険サービス株式会社",
            f"{staff_family} {staff_given}",
            f"TEL 03-{r.randint(1000, 9999)}-{r.randint(1000, 9999)}",
        ]
        insurer = r.choice(list(INSURERS))
        customers = [self.customer(insurer if shape == "bullets" else None) for _ in range(r.randint(1, 6))]
        case = Case(b"", Envelope("honbu@mirai-hoken.example.jp", ("b@mirai-hoken.example.jp",)), shape)
        body: list[str] = []
        attachment: tuple[str, bytes] | None = None
        for c in customers:
            case.numbers[c.number] = c.insurer
            in_registry = self.registry.insurer_for_policy(c.number) is not None
            case.sources[c.number] = "registry" if in_registry else "explicit"
        if shape == "labelled":
            body += [
                f"証券番号：{written(c.number, r)}　契約者名：{c.name} 様　満期日：{c.expiry}　"
                f"引受：{self.alias(c.insurer)}"
                for c in customers
            ]
            ctx = "record"
        elif shape == "bullets":
            body.append(f"■{self.alias(insurer)} ご契約分")
            body += [f"・{c.family}{c.given}様（証券番号 {written(c.number, r)}）満期 {c.expiry}" for c in customers]
            ctx = "record"
        elif shape in ("csv", "xlsx"):
            rows = [["証券番号", "契約者名", "満期日", "引受保険会社"]]
            rows += [[c.number, c.name, c.expiry, self.alias(c.insurer)] for c in customers]
            body.append("満期予定の一覧を添付します。")
            attachment = (f"list.{shape}", self.csv(rows) if shape == "csv" else self.xlsx(rows))
            ctx = "tabular"
        else:  # free text: names with honorifics in sentences, no numbers
            case.numbers.clear()
            case.sources.clear()
            templates = [
                "先日、{n}様より更新のご相談がありました。",
                "{n}さんの件、ご確認をお願いします。",
                "ご契約者の{n}様から住所変更のご連絡がありました。",
                "{n}様は来月満期を迎えられます。",
            ]
            body += [r.choice(templates).format(n=f"{c.family}{c.given}") for c in customers]
            ctx = "free"
            for c in customers:
                holders = self.registry.insurers_for_name(c.name)
                case.sources[name_key(c.name)] = "registry_name" if len(holders) == 1 else "unknown"
        for c in customers:
            case.names[name_key(c.name)] = ctx
        lines = greeting + self.noise()[:1] + body + self.noise()[1:] + signature
        case.raw = self.mail(lines, attachment)
        return case

    @staticmethod
    def csv(rows: list[list[str]]) -> bytes:
        buf = io.StringIO()
        csv.writer(buf).writerows(rows)
        return buf.getvalue().encode("cp932")

    @staticmethod
    def xlsx(rows: list[list[str]]) -> bytes:
        wb = openpyxl.Workbook()
        ws = wb.active
        assert ws is not None
        ws.append(["満期予定一覧"])
        for row in rows:
            ws.append(row)
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    @staticmethod
    def mail(lines: list[str], attachment: tuple[str, bytes] | None) -> bytes:
        named = (attachment[0], "application/octet-stream", attachment[1]) if attachment else None
        return agency_mail("\n".join(lines), named)

    def cases(self, n: int) -> list[Case]:
        return [self.case(SHAPES[i % len(SHAPES)]) for i in range(n)]


def agency_mail(
    body: str,
    attachment: tuple[str, str, bytes] | None = None,
    *,
    to: str = "b@mirai-hoken.example.jp",
    subject: str = "list",
) -> bytes:
    """A head-office message: a UTF-8 text body and at most one attachment (name, type, bytes)."""
    parts = [
        "From: honbu@mirai-hoken.example.jp",
        f"To: {to}",
        f"Subject: {subject}",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="b"',
        "",
        "--b",
        "Content-Type: text/plain; charset=UTF-8",
        "Content-Transfer-Encoding: base64",
        "",
        base64.encodebytes(body.encode()).decode(),
    ]
    if attachment:
        name, ctype, data = attachment
        parts += ["--b", f"Content-Type: {ctype}", f'Content-Disposition: attachment; filename="{name}"']
        parts += ["Content-Transfer-Encoding: base64", "", base64.encodebytes(data).decode()]
    parts.append("--b--")
    return "\r\n".join(parts).encode()
