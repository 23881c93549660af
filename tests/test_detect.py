"""detect: policy numbers, names, insurer mentions and dates, as tables of (text, expected)."""

from __future__ import annotations

import dataclasses

import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from dlp_gateway.detect import dates, morph, names
from dlp_gateway.detect.checkdigits import CHECK_DIGITS
from dlp_gateway.detect.chunk import line_views
from dlp_gateway.detect.insurers import MentionFinder
from dlp_gateway.detect.labels import UNDERWRITER_HINT, has_underwriter_hint
from dlp_gateway.detect.normalize import canonical_number, name_key
from dlp_gateway.detect.policy_number import PolicyNumberFinder
from tests.helpers import example_config

CONFIG = example_config()
NUMBERS = PolicyNumberFinder(CONFIG.insurers.values())
MENTIONS = MentionFinder(CONFIG.insurers.values())


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("証券番号：8123456789", [("8123456789", ("tokio",))]),
        ("証券番号：８１２３４５６７８９", [("8123456789", ("tokio",))]),
        ("証券番号 8123-456-789", [("8123456789", ("tokio",))]),
        ("証券番号 8123‐456789", [("8123456789", ("tokio",))]),
        ("証券番号 ８１２３－４５６７８９", [("8123456789", ("tokio",))]),
        ("証券番号 8123ー456789", [("8123456789", ("tokio",))]),
        ("証券番号 8123 456 789", [("8123456789", ("tokio",))]),
        ("証券番号 8123　456789", [("8123456789", ("tokio",))]),
        ("No.MS-1234567 と 30000000001", [("MS1234567", ("msi",)), ("30000000001", ("sompo",))]),
        ("ｍｓ－１２３４５６７", [("MS1234567", ("msi",))]),
        ("A123456789 様", [("A123456789", ("aioi",))]),
        # look-alikes and boundaries
        ("電話 0120-577-101", []),
        ("〒150-0002 東京都渋谷区", []),
        ("81234567890123", []),  # longer digit run: not a 10-digit number
        ("2024 8123456789", [("8123456789", ("tokio",))]),  # a year before it does not glue on
        ("TEL 8123456789", []),
        ("金額 1,234,567円", []),
    ],
)
def test_policy_numbers(line: str, expected: list[tuple[str, tuple[str, ...]]]) -> None:
    assert [(f.value, f.insurers) for f in NUMBERS.find(line_views(line), 0)] == expected


def test_policy_number_span_points_at_the_original_text() -> None:
    line = "証券番号：８１２３－４５６７８９です"
    (f,) = NUMBERS.find(line_views(line), 0)
    assert line[f.start : f.end] == "８１２３－４５６７８９"
    assert f.confidence > 0.6  # the context word 証券番号 raises it


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("契約者名：山田 太郎", [("山田 太郎", "契約者名")]),
        ("契約者氏名　山田　太郎", [("山田 太郎", "契約者氏名")]),
        ("被保険者: 鈴木一郎様", [("鈴木一郎", "被保険者")]),
        ("お客様名：ヤマダ タロウ", [("ヤマダ タロウ", "お客様名")]),
        ("氏名: YAMADA Taro", [("YAMADA Taro", "氏名")]),
        ("山田 太郎 様", [("山田 太郎", "様")]),
        ("鈴木殿", [("鈴木", "殿")]),
        ("東京海上日動　鈴木様", [("鈴木", "様")]),
        ("氏名欄にご記入ください", []),
        ("名前：佐藤 花子", [("佐藤 花子", "名前")]),
        ("お名前　高橋 一郎", [("高橋 一郎", "お名前")]),
        ("名前変更の件", []),
        # a list's header row: the column after a name label is a column, not a name
        ("氏名\tフリガナ\t住所", []),
        ("名前\t件名\t備考", []),
        ("契約者名\tカナ\t証券番号", []),
        ("契約者\t性別\t年齢", []),
        ("氏名\tタカナシ", [("タカナシ", "氏名")]),
        ("よろしくお願いします", []),
    ],
)
def test_names(line: str, expected: list[tuple[str, str]]) -> None:
    assert [(f.value, f.label) for f in names.find(line_views(line), 0)] == expected


@pytest.mark.parametrize(
    ("line", "expected", "heading"),
    [
        ("引受：東京海上日動", ["tokio"], False),
        ("■東京海上日動 ご契約分", ["tokio"], True),
        ("【損保ジャパン】", ["sompo"], True),
        ("三井住友海上とあいおいニッセイ同和損保の比較", ["msi", "aioi"], False),
        ("tokio marine nichido", ["tokio"], False),
        ("東京都の天気", [], False),
    ],
)
def test_insurer_mentions(line: str, expected: list[str], heading: bool) -> None:
    found = MENTIONS.find(line_views(line), 0)
    assert [f.value for f in found] == expected
    assert all(f.heading == heading for f in found)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("満期日：2024/10/01", ["2024-10-01"]),
        ("満期 ２０２４年１０月１日", ["2024-10-01"]),
        ("令和6年10月1日", ["2024-10-01"]),
        ("2024-13-01", []),
    ],
)
def test_dates(line: str, expected: list[str]) -> None:
    assert [f.value for f in dates.find(line_views(line), 0)] == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("山田 太郎", "山田太郎"),
        ("山田　太郎", "山田太郎"),
        ("やまだ たろう", "ヤマダタロウ"),
        ("yamada taro", "YAMADA TARO"),
    ],
)
def test_name_keys_compare_variants_equal(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


def test_canonical_number() -> None:
    assert canonical_number("ｍｓ－１２３４５６７") == "MS1234567"


@pytest.mark.parametrize(
    ("line", "following", "expected"),
    [
        ("証券番号：8123-", "456789 山田様", ["8123456789"]),
        ("証券番号：８１２３", "４５６７８９", ["8123456789"]),
        ("お問い合わせは 0120", "123 456 まで", []),
        ("証券番号：8123456789", "2024年", []),  # complete on its own line: found by find(), not here
        ("合計 3", "件です", []),
    ],
)
def test_numbers_broken_over_two_lines(line: str, following: str, expected: list[str]) -> None:
    assert [f.value for f in NUMBERS.find_across(line, following, 0, 0)] == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("ご請求書番号 8123456789", []),
        ("注文番号：8123456789", []),
        ("合計 8123456789円", []),
        ("¥8123456789", []),
        ("証券コード 8123456789", []),
        ("8123456789名", []),
        ("8123456789 株", []),
        ("30000000001 人", []),
        # a counter is one: a word that begins with one is not
        ("証券番号:8123456789\t名前:山田 太郎", ["8123456789"]),
        ("証券番号:8123456789\t件名:更改", ["8123456789"]),
        ("8123456789\t人数:3", ["8123456789"]),
        ("証券番号 8123456789 株式会社山田商店", ["8123456789"]),
        ("8123456789 名義変更のお手続き", ["8123456789"]),
        ("8123456789　名前 山田 太郎", ["8123456789"]),
        ("8123456789   名前", ["8123456789"]),
    ],
)
def test_more_lookalikes(line: str, expected: list[str]) -> None:
    assert [f.value for f in NUMBERS.find(line_views(line), 0)] == expected


def test_phone_and_date_shaped_numbers_need_a_context_word() -> None:
    cfg = example_config()
    digits10 = dataclasses.replace(
        cfg.insurers["tokio"],
        policy_numbers=(regex.compile(r"(?<![0-9])\d{10}(?![0-9])"), regex.compile(r"(?<![0-9])\d{8}(?![0-9])")),
    )
    finder = PolicyNumberFinder([digits10])
    assert finder.find(line_views("お電話は 03-1234-5678 まで"), 0) == []
    assert finder.find(line_views("20241001 に更新"), 0) == []
    assert [f.value for f in finder.find(line_views("証券番号 03-1234-5678"), 0)] == ["0312345678"]


@pytest.mark.parametrize(
    ("scheme", "valid", "invalid"),
    [
        ("luhn", "79927398713", "79927398710"),
        ("mod10", "4901234567894", "4901234567890"),
        ("mod11", "123456785", "123456780"),
    ],
)
def test_check_digits(scheme: str, valid: str, invalid: str) -> None:
    check = CHECK_DIGITS[scheme]
    assert check(valid)
    assert not check(invalid)


def test_insurer_check_digit_filters_pattern_matches() -> None:
    msi = dataclasses.replace(CONFIG.insurers["msi"], check_digit="luhn")
    finder = PolicyNumberFinder([msi])
    assert [f.value for f in finder.find(line_views("MS-1234567 / MS-1234566"), 0)] == ["MS1234566"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("先日、佐々木クミ子様より更新のご相談", [("佐々木 クミ子", True)]),
        ("ご契約者の松田あすか様から", [("松田 あすか", True)]),
        ("・橋本くみ子様（証券番号 8561676360）", [("橋本 くみ子", True)]),
        ("山本美加子さんの件", [("山本 美加子", True)]),
        ("林様へ", []),  # one character before 様 needs morphology to call it a family name
        ("山田のお客様", []),
        ("担当の田中一郎が伺います", []),  # no honorific or customer word: not analysed (colleagues)
        ("契約者は田中一郎です", [("田中 一郎", True)]),  # full name near a customer word
    ],
)
def test_names_with_morphology(line: str, expected: list[tuple[str, bool]]) -> None:
    assert [(f.value, f.person) for f in names.find(line_views(line), 0)] == expected


def test_the_honorific_after_a_labelled_name_does_not_wake_morphology(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = morph.person_spans

    def counting(line: str) -> list[morph.PersonSpan]:
        calls.append(line)
        return real(line)

    monkeypatch.setattr(morph, "person_spans", counting)
    row = "証券番号：8100000001　契約者名：山田 太郎 様　満期日：2025/01/01"
    assert [f.value for f in names.find(line_views(row), 0)] == ["山田 太郎"]
    assert calls == []  # a pasted list of 5,000 such rows ran the analyser 5,000 times
    other = "契約者名：山田 太郎 様、ご紹介者は鈴木 一郎 様です"
    assert [f.value for f in names.find(line_views(other), 0)] == ["山田 太郎", "鈴木 一郎"]
    assert calls == [other]


def test_the_name_characters_are_one_set_in_both_forms() -> None:
    """is_name_char (per character) and NAME_RUN (the regex class) come from one definition."""
    from dlp_gateway.detect.normalize import NAME_RUN, is_name_char  # noqa: PLC0415

    assert all(is_name_char(c) == bool(NAME_RUN.fullmatch(c)) for c in map(chr, range(0x10000)))
    assert is_name_char("髙") and is_name_char("ヶ") and not is_name_char("A") and not is_name_char("　")


@given(
    st.lists(
        st.sampled_from(["保険", "会社", "引受", "元受", "保", "険", "INSURER", "inſurer", "CARRIER", "carrıer",
                         "Underwriter", "underwrite", "r", "R", "K", "ſ", "İ", "契約", " ", "\n", "a"]),
        max_size=12,
    ).map("".join)
)  # fmt: skip
def test_the_underwriter_hint_shortcut_answers_as_the_pattern_does(text: str) -> None:
    """Its oracle is UNDERWRITER_HINT itself, over the letters case-insensitive matching folds."""
    assert has_underwriter_hint(text) is (UNDERWRITER_HINT.search(text) is not None)


# Mentions in any case, beside characters whose case folding is not one to one (ß, İ, ﬁ), folds
# only a case-insensitive search knows (ſ, the Kelvin sign, final sigma, full-width letters), and
# the kanji and kana the Japanese names are made of.
_MENTION_PIECES = [
    *MENTIONS.by_text,
    "Tokio Marine",
    "TOKIO MARINE NICHIDO",
    "ｔｏｋｉｏ ｍａｒｉｎｅ",
    "SOMPO JAPAN",
    "ſompo japan",
    "Mitſui Sumitomo",
    "aioi niſſay dowa",
    "ß",
    "İ",
    "ﬁ",
    "K",
    "ς",
    "Σ",
    "東京",
    "海上",
    "損保",
    "あいお",
    " ",
    "\n",
]


@given(st.lists(st.sampled_from(_MENTION_PIECES), max_size=12).map("".join))
def test_mentions_over_folded_text_are_the_case_insensitive_searchs(text: str) -> None:
    """The search over case-folded text (taken where folding keeps every character one character)
    finds exactly what the case-insensitive search over the text finds."""
    assert MENTIONS.pattern is not None
    expected = [(m.span(), m.group().casefold()) for m in MENTIONS.pattern.finditer(text)]
    assert [(m.span(), m.group().casefold()) for m in MENTIONS._mentions(text)] == expected
