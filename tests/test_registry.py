"""registry: import from the agency's CSV (UTF-8 with BOM or cp932), hashed, unmapped rows reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlp_gateway.correlate import correlate
from dlp_gateway.detect.detectors import detect_all
from dlp_gateway.errors import RegistryError
from dlp_gateway.model import Segment
from dlp_gateway.registry import load_registry
from dlp_gateway.registry.importer import import_csv
from tests.helpers import RULES, example_config

CONFIG = example_config()
CSV = (
    "policy_number,name,name_kana,insurer,expiry\n"
    "8100000001,山田 太郎,ヤマダ タロウ,東京海上日動,2024-10-01\n"
    "ＭＳ－１０００００１,伊藤 健一,,MSI,2024-09-30\n"
    "A100000001,中村 大輔,,aioi,2024-10-20\n"
    "9999,誰 か,,アクサ損保,2024-10-20\n"
    ",空 欄,,tokio,\n"
)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp932", "utf-8"])
def test_import_maps_insurers_by_id_name_alias_or_code(tmp_path: Path, encoding: str) -> None:
    src = tmp_path / "contracts.csv"
    src.write_bytes(CSV.encode(encoding))
    result = import_csv(src, CONFIG)
    assert result.imported == 3
    assert [line for line, _ in result.unmapped] == [5, 6]
    assert "アクサ損保" in result.unmapped[0][1]
    out = tmp_path / "registry.idx"
    result.index.save(out)
    reg = load_registry(out)
    assert reg.insurer_for_policy("8100000001") == "tokio"
    assert reg.insurer_for_policy("MS1000001") == "msi"
    assert reg.insurer_for_policy("9999") is None
    assert reg.insurers_for_name("山田太郎") == {"tokio"}
    assert reg.insurers_for_name("やまだ たろう") == {"tokio"}  # the kana reading is a key too
    assert reg.family_length("山田太郎") == 2


def test_index_holds_no_plaintext(tmp_path: Path) -> None:
    src = tmp_path / "c.csv"
    src.write_text(CSV, encoding="utf-8")
    out = tmp_path / "registry.idx"
    import_csv(src, CONFIG).index.save(out)
    data = out.read_bytes()
    for secret in ("8100000001", "山田", "ヤマダ", "1000001", "中村", "健一"):
        for encoding in ("utf-8", "cp932", "utf-16-le"):
            assert secret.encode(encoding) not in data


def test_same_data_different_salt_gives_different_hashes(tmp_path: Path) -> None:
    src = tmp_path / "c.csv"
    src.write_text(CSV, encoding="utf-8")
    a, b = import_csv(src, CONFIG).index, import_csv(src, CONFIG).index
    a.save(tmp_path / "a.idx")
    b.save(tmp_path / "b.idx")
    assert len(a.policy_keys) == len(b.policy_keys) == 3
    assert set(a.policy_keys).isdisjoint(b.policy_keys)
    assert load_registry(tmp_path / "b.idx").insurer_for_policy("8100000001") == "tokio"


def test_missing_columns_are_named(tmp_path: Path) -> None:
    src = tmp_path / "c.csv"
    src.write_text("number,name\n1,a\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="missing column"):
        import_csv(src, CONFIG)


def test_sample_registry_imports_cleanly() -> None:
    result = import_csv(RULES / "sample-registry.csv", CONFIG)
    assert result.imported == 10
    assert not result.unmapped


@pytest.mark.parametrize("content", [b"{not json", b"DLPREG2\n{}\n", b'DLPREG2\n{"arrays": [["Q", 9]]}\n'])
def test_corrupt_index_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "r.idx"
    bad.write_bytes(content)
    with pytest.raises(RegistryError, match="cannot read registry index"):
        load_registry(bad)


def test_truncated_index_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "c.csv"
    src.write_text(CSV, encoding="utf-8")
    import_csv(src, CONFIG).index.save(tmp_path / "r.idx")
    data = (tmp_path / "r.idx").read_bytes()
    (tmp_path / "r.idx").write_bytes(data[:-5])
    with pytest.raises(RegistryError, match="truncated"):
        load_registry(tmp_path / "r.idx")


def test_saved_index_keeps_the_prefix_filter(tmp_path: Path) -> None:
    src = tmp_path / "c.csv"
    src.write_text(CSV, encoding="utf-8")
    import_csv(src, CONFIG).index.save(tmp_path / "r.idx")
    loaded = load_registry(tmp_path / "r.idx")
    assert loaded.prefix_bloom
    assert loaded.may_be_name("ヤマダタロウ") and loaded.may_be_name("\x01山田")


def test_a_loaded_index_finds_registered_names_in_free_text(tmp_path: Path) -> None:
    src = tmp_path / "c.csv"
    src.write_text(CSV, encoding="utf-8")
    import_csv(src, CONFIG).index.save(tmp_path / "r.idx")
    segs = (Segment("body", ("先日、伊藤健一さんからお電話がありました。",)),)
    loaded = load_registry(tmp_path / "r.idx")
    records = correlate(segs, detect_all(segs, CONFIG, loaded), loaded)
    assert [(r.name, r.underwriter, r.attribution) for r in records] == [("伊藤 健一", "msi", "registry_name")]


@pytest.mark.parametrize("written", ["松田あすか", "松田　あすか", "松田アスカ", "まつだ あすか"])
def test_a_registered_name_in_hiragana_or_katakana_is_found_either_way(tmp_path: Path, written: str) -> None:
    src = tmp_path / "c.csv"
    src.write_text(CSV + "8100000009,松田 あすか,まつだ あすか,東京海上日動,2024-10-01\n", encoding="utf-8")
    import_csv(src, CONFIG).index.save(tmp_path / "r.idx")
    loaded = load_registry(tmp_path / "r.idx")
    segs = (Segment("body", (f"昨日{written}からお電話があり、更新の件を伺いました。",)),)
    found = [f for f in detect_all(segs, CONFIG, loaded) if f.label == "registry"]
    assert [(f.registry, segs[0].lines[0][f.start : f.end].replace("　", " ")) for f in found] == [
        (("tokio",), written.replace("　", " "))
    ]
