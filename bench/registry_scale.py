"""Registry at agency scale: import a 1,000,000-row contract CSV, then load the index, each in a
fresh process so peak memory (max RSS) is the step's own.

    .venv/bin/python bench/registry_scale.py [--rows 1000000]

Targets (issue 4): import < 60 s; load < 5 s within 300 MB.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAMILY = tuple(
    "山田佐藤鈴木高橋田中伊藤渡辺中村小林加藤吉田山本松本井上木村林斎藤清水山口森"[i : i + 2] for i in range(0, 40, 2)
)
GIVEN = (
    "太郎",
    "花子",
    "一郎",
    "美咲",
    "健一",
    "由美",
    "大輔",
    "直子",
    "誠",
    "陽子",
    "翔太",
    "結衣",
    "蓮",
    "陽菜",
    "大和",
    "さくら",
    "悠真",
    "葵",
    "湊",
    "凛",
)
INSURERS = ["東京海上日動", "損保ジャパン", "三井住友海上", "あいおいニッセイ同和"]
PREFIX = ["8", "3", "MS", "A"]

STEP = """
import resource, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from dlp_gateway.config import load_config
from dlp_gateway.registry import load_registry
from dlp_gateway.registry.importer import import_csv
t = time.perf_counter()
if {step!r} == "import":
    result = import_csv(Path({csv!r}), load_config(Path({root!r}) / "rules"))
    result.index.save(Path({idx!r}))
    n = result.imported
else:
    index = load_registry(Path({idx!r}))
    n = index.rows
    assert index.insurer_for_policy("8000000004") is not None
print(n, time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def make_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="cp932", newline="") as f:
        w = csv.writer(f)
        w.writerow(["policy_number", "name", "name_kana", "insurer", "expiry"])
        for i in range(rows):
            k = i % 4
            number = f"{PREFIX[k]}{i:09d}" if k != 1 else f"3{i:010d}"
            w.writerow(
                [
                    number,
                    f"{FAMILY[i % 20]} {GIVEN[(i // 20) % 20]}{i // 400}",
                    "",
                    INSURERS[k],
                    f"2025-{i % 12 + 1:02d}-01",
                ]
            )


def run(step: str, csv_path: Path, idx: Path) -> tuple[int, float, float]:
    code = STEP.format(root=str(ROOT), step=step, csv=str(csv_path), idx=str(idx))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]), float(out[1]), float(out[2])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv_path, idx = Path(tmp) / "contracts.csv", Path(tmp) / "registry.idx"
        t = time.perf_counter()
        make_csv(csv_path, args.rows)
        size_mb = csv_path.stat().st_size / 1e6
        print(f"generated {args.rows} rows ({size_mb:.0f} MB CSV) in {time.perf_counter() - t:.1f} s")
        n, secs, rss = run("import", csv_path, idx)
        print(
            f"import: {n} rows in {secs:.1f} s, peak RSS {rss:.0f} MB, index {idx.stat().st_size / 1e6:.1f} MB"
            f"   (target < 60 s)"
        )
        n, secs, rss = run("load", csv_path, idx)
        print(f"load:   {n} rows in {secs:.2f} s, peak RSS {rss:.0f} MB   (target < 5 s within 300 MB)")


if __name__ == "__main__":
    main()
