"""Detection quality on the generated evaluation set, held to the targets of issue 4.

bench/detect_eval.py prints the same figures on a larger set; this test keeps them from
regressing unnoticed.
"""

from __future__ import annotations

from bench.detect_eval import evaluate
from bench.evalset import Generator
from dlp_gateway.pipeline import Pipeline
from tests.helpers import example_config


def test_precision_and_recall_meet_the_targets() -> None:
    gen = Generator(seed=11)
    cases = gen.cases(200)
    res = evaluate(cases, Pipeline(example_config(), gen.registry))
    assert res.numbers.precision >= 0.99, res.misses[:10]
    assert res.numbers.recall >= 0.99, res.misses[:10]
    for context in ("tabular", "record"):
        assert res.names[context].recall >= 0.97, (context, res.misses[:10])
    assert res.names["free"].recall >= 0.90, res.misses[:10]
    assert res.names["free"].precision >= 0.95, res.misses[:10]
    for source in ("registry", "explicit"):
        counts = res.sources[source]
        assert counts["wrong"] == 0, (source, res.misses[:10])
        assert counts["correct"] == counts["expected"] > 0
