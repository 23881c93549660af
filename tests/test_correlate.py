"""correlate: grouping findings into records and attributing underwriters in DESIGN §3 order."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlp_gateway.correlate import _Line, _numbered, correlate, paired_in_order
from dlp_gateway.detect.detectors import detect_all
from dlp_gateway.detect.letter import correspondent_lines
from dlp_gateway.extract.table import table_segment
from dlp_gateway.model import Detector, Finding, Record, Segment
from dlp_gateway.registry import EMPTY_REGISTRY, Registry, RegistryIndex
from tests.helpers import example_config

CONFIG = example_config()


def records(text: str, registry: Registry = EMPTY_REGISTRY) -> list[Record]:
    segs = (Segment("body", tuple(text.split("\n"))),)
    return correlate(segs, detect_all(segs, CONFIG, registry), registry)


def brief(rs: list[Record]) -> list[tuple[str | None, str | None, str | None, str]]:
    return [(r.policy_number, r.name, r.underwriter, r.attribution) for r in rs]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # pattern only: the number's format belongs to one insurer
        ("証券番号 8123456789 山田 太郎 様", [("8123456789", "山田 太郎", "tokio", "pattern")]),
        # explicit mention in the same line beats the pattern
        ("証券番号 8123456789 山田 太郎 様 引受：損保ジャパン", [("8123456789", "山田 太郎", "sompo", "explicit")]),
        # section heading above the records
        ("■三井住友海上 ご契約分\n証券番号 8123456789 山田 太郎 様", [("8123456789", "山田 太郎", "msi", "explicit")]),
        # several numbers on a line pair with names and insurers in order
        (
            "8123456789 山田 太郎 様 東京海上日動 / MS1234567 鈴木 一郎 様 三井住友海上",
            [("8123456789", "山田 太郎", "tokio", "explicit"), ("MS1234567", "鈴木 一郎", "msi", "explicit")],
        ),
        # fields on the following lines of a block join the number above
        (
            "証券番号：8123456789\n契約者名：山田 太郎\n引受保険会社：あいおいニッセイ同和損保\n満期日：2024/10/01",
            [("8123456789", "山田 太郎", "aioi", "explicit")],
        ),
        # name-first blocks
        (
            "契約者名：山田 太郎\n証券番号：8123456789\n契約者名：鈴木 一郎\n証券番号：8123456790",
            [("8123456789", "山田 太郎", "tokio", "pattern"), ("8123456790", "鈴木 一郎", "tokio", "pattern")],
        ),
        # a labelled name with no number is still a customer record
        ("契約者名：山田 太郎", [(None, "山田 太郎", None, "unknown")]),
        # the greeting's honorific name alone is not a record
        ("東京海上日動　鈴木様\n\nいつもお世話になっております。", []),
        # an insurer mentioned in prose nearby is not an attribution
        ("証券番号 9999 の件\n\n契約者名：山田 太郎", [(None, "山田 太郎", None, "unknown")]),
    ],
)
def test_records(text: str, expected: list[tuple[str | None, str | None, str | None, str]]) -> None:
    assert brief(records(text)) == expected


def test_registry_wins_over_every_other_source() -> None:
    reg = RegistryIndex()
    reg.add("8123456789", "山田 太郎", "aioi")
    reg.add("", "鈴木 一郎", "msi")
    got = records("証券番号 8123456789 山田 太郎 様 引受：損保ジャパン\n\n契約者名：鈴木一郎", reg)
    assert brief(got) == [("8123456789", "山田 太郎", "aioi", "registry"), (None, "鈴木 一郎", "msi", "registry_name")]
    assert got[0].confidence > got[1].confidence
    assert got[0].location == "body:line 1"
    assert got[1].location == "body:line 3"


def test_name_held_by_two_insurers_is_not_attributed_by_name() -> None:
    reg = RegistryIndex()
    reg.add("", "山田 太郎", "aioi")
    reg.add("", "山田 太郎", "tokio")
    assert brief(records("契約者名：山田 太郎", reg)) == [(None, "山田 太郎", None, "unknown")]


def test_expiry_joins_its_record() -> None:
    (r,) = records("証券番号：8123456789 契約者名：山田 太郎 満期日：2024/10/01")
    assert r.expiry == "2024-10-01"


def sample_registry() -> RegistryIndex:
    reg = RegistryIndex()
    reg.add("ZX-99887766", "高橋 次郎", "msi", "タカハシ ジロウ")  # a number no insurer pattern knows
    reg.add("8100000001", "山田 太郎", "tokio", "ヤマダ タロウ")
    reg.add("", "佐藤 花子", "sompo")
    return reg


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a registered number in a format no pattern knows, written with full-width and a dash
        ("お問い合わせの件（ＺＸ－９９８８７７６６）について", [("ZX99887766", None, "msi", "registry")]),
        # registered names in free text, with or without spaces, in kana, without any label
        ("先日、山田太郎様よりお電話がありました。", [(None, "山田 太郎", "tokio", "registry_name")]),
        ("佐藤　花子さんの更新について", [(None, "佐藤 花子", "sompo", "registry_name")]),
        ("本日タカハシジロウ様より", [(None, "タカハシ ジロウ", "msi", "registry_name")]),  # split from the registry
        ("本日たかはし じろう 様より", [(None, "たかはし じろう", "msi", "registry_name")]),
        # a registered number confirms the pattern finding and carries the registry's insurer
        ("証券番号 8100000001", [("8100000001", None, "tokio", "registry")]),
        # an unregistered full name with an honorific is a customer of unknown underwriter
        ("先日、田中一郎様よりお電話がありました。", [(None, "田中 一郎", None, "unknown")]),
        # a family name alone with an honorific (a greeting) or a colleague's full name is not a record
        ("鈴木様、お世話になっております。", []),
        ("担当の田中一郎が伺います。", []),
    ],
)
def test_registry_matches_anywhere_in_the_text(text: str, expected: list[tuple[str | None, ...]]) -> None:
    assert brief(records(text, sample_registry())) == expected


def test_staff_names_are_never_customers() -> None:
    org = dataclasses.replace(CONFIG.organization, staff_names=("山田 太郎",))
    cfg = dataclasses.replace(CONFIG, organization=org)
    segs = (Segment("body", ("契約者名：山田太郎", "担当 山田太郎様", "契約者名：鈴木 一郎")),)
    got = correlate(segs, detect_all(segs, cfg, sample_registry()), sample_registry())
    assert [r.name for r in got] == ["鈴木 一郎"]


def test_greeting_and_signature_name_correspondents_not_customers() -> None:
    reg = sample_registry()
    text = "\n".join(
        [
            "東京海上日動火災保険株式会社",
            "山田太郎様",  # the recipient, even though the registry knows the name
            "",
            "いつもお世話になっております。田中一郎様の件でご連絡します。",
            "",
            "以上",
            "みらい保険サービス 佐藤花子",
            "TEL 03-1234-5678",
        ]
    )
    assert brief(records(text, reg)) == [(None, "田中 一郎", None, "unknown")]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (("各位", "", "本文"), {0}),
        (("三井住友海上 御中", "木村様", "本文です。"), {0, 1}),
        (("本文です。", "-- ", "山田 太郎", "TEL"), {1, 2, 3}),
        (("本文です。", "━━━━━━", "署名"), {1, 2}),
        (("証券番号 8100000001 山田太郎様", "以下の通り"), set()),  # a record, not an addressee
    ],
)
def test_correspondent_lines(lines: tuple[str, ...], expected: set[int]) -> None:
    assert correspondent_lines(lines) == expected


def test_list_columns_next_to_a_policy_number_are_not_read_as_its_unit() -> None:
    # 名前 (the commonest name header) after a policy number column once read as "8100000001 名"
    # (a counter), and the whole list passed without a record.
    rows = [
        ["証券番号", "名前", "件名", "引受保険会社"],
        ["8100000001", "山田 太郎", "更改", "東京海上日動"],
        ["30000000001", "鈴木 一郎", "新規", "損保ジャパン"],
    ]
    segs = (table_segment("attachment[0]:list.xlsx!一覧", ((r, []) for r in rows)),)
    got = correlate(segs, detect_all(segs, CONFIG), EMPTY_REGISTRY)
    assert brief(got) == [
        ("8100000001", "山田 太郎", "tokio", "explicit"),
        ("30000000001", "鈴木 一郎", "sompo", "explicit"),
    ]


def _found(detector: Detector, starts: list[int]) -> list[Finding]:
    return [Finding(detector, f"{detector}{s}", 0, 0, s, s + 1, 0.9) for s in sorted(starts)]


offsets = st.lists(st.integers(0, 40), max_size=4, unique=True)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 40), offsets, offsets, offsets, st.one_of(st.none(), st.just("tokio")))
def test_one_number_pairs_as_the_loop_pairs(
    number: int, names: list[int], dates: list[int], mentions: list[int], section: str | None
) -> None:
    """A list row's one number takes the nearest name, date and insurer, as the general loop does."""
    found_mentions = _found(Detector.INSURER, mentions)
    line = _Line(
        _found(Detector.POLICY_NUMBER, [number]),
        _found(Detector.NAME, names),
        _found(Detector.DATE, dates),
        found_mentions,
        {id(m): f"basis {m.start}" for m in found_mentions},
    )
    assert _numbered(0, 3, line, section) == paired_in_order(0, 3, line, section)
