"""A longer differential MIME run than CI's: many more corrupted messages, each read by the gateway
and by nodemailer's mailparser; prints every message where mailparser read customer text or an
attachment the gateway did not inspect (and did not mark unscannable), and exits 1 if any.

    ./dev test tests/test_mime_differential.py      # installs the oracle (tests/oracle) once
    .venv/bin/python fuzz/differential_mime.py --seeds 20000 [--start 400]

CI runs seeds 0–399 (tests/test_mime_differential.py); start above them for new ground.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.mime_oracle import gateway_view, missed, mutated, run_oracle


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--seeds", type=int, default=5000)
    ap.add_argument("--start", type=int, default=400)
    args = ap.parse_args()
    found = 0
    with tempfile.TemporaryDirectory() as tmp:
        for batch in range(args.start, args.start + args.seeds, 500):
            seeds = range(batch, min(batch + 500, args.start + args.seeds))
            files = []
            for seed in seeds:
                path = Path(tmp) / f"{seed}.eml"
                path.write_bytes(mutated(seed))
                files.append(path)
            docs = run_oracle(files)
            for seed, path in zip(seeds, files, strict=True):
                gaps = missed(docs[str(path)], gateway_view(path.read_bytes()), charset="utf-8")
                if gaps:
                    found += 1
                    print(f"seed {seed}: {gaps[:4]}")
            print(f"seeds {seeds.start}-{seeds.stop - 1}: {found} difference(s) so far", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
