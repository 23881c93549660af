"""atheris harness for long fuzzing runs of the whole pipeline (parse, extract, detect, decide).

    .venv/bin/pip install atheris
    .venv/bin/python fuzz/fuzz_pipeline.py -max_total_time=3600 -rss_limit_mb=2048 \\
        ../shared/corpora/mime/crispin_torture ../shared/corpora/ja_mail/mikel_mail

Any exception (or a verdict missing) is a finding: every input must get a verdict. The same
`one_input` runs in CI over the corpora without atheris (tests/test_fuzz_harness.py); the
hypothesis properties in tests/test_hardening.py cover random input on every CI run.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

try:  # coverage instrumentation when atheris is there (a fuzzing run); plain imports otherwise (CI)
    import atheris
except ImportError:
    atheris = None

if atheris is not None and __name__ == "__main__":
    with atheris.instrument_imports(include=["dlp_gateway"]):
        from dlp_gateway.config import load_config
        from dlp_gateway.model import Envelope
        from dlp_gateway.pipeline import Pipeline
else:
    from dlp_gateway.config import load_config
    from dlp_gateway.model import Envelope
    from dlp_gateway.pipeline import Pipeline

PIPELINE = Pipeline(load_config(Path(__file__).resolve().parent.parent / "rules"))
ENVELOPE = Envelope("honbu@mirai-hoken.example.jp", ("tanaka@sompo-japan.co.jp", "shiten-a@mirai-hoken.example.jp"))


def one_input(data: bytes) -> None:
    report = PIPELINE.scan(data, ENVELOPE)
    if report.decision.verdict is None:
        raise AssertionError("no verdict")


def main() -> None:
    if atheris is None:
        raise SystemExit("pip install atheris to fuzz")
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
