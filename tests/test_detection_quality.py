"""Detection quality on the generated evaluation set, held to the targets of issue 4.

bench/detect_eval.py prints the same figures on a larger set; this test keeps them from
regressing unnoticed.
"""

from __future__ import annotations

from bench.detect_eval import evaluate, evaluate_classes
from bench.evalset import Generator
from bench.precision_set import CLASSES, PrecisionSet
from dlp_gateway.pipeline import Pipeline
from tests.helpers import example_config


def test_precision_and_recall_meet_the_targets() -> None:
    gen = Generator(seed=11)
    cases = gen.cases(200)
    res = evaluate(cases, Pipeline(example_config(), gen.registry))
    assert res.numbers.precision >= 0.99, res.misses[:10]
    assert res.numbers.recall >= 0.99, res.misses[:10]
    for context in ("tabular", "record"):  # labelled names
        assert res.names[context].precision >= 0.99, (context, res.misses[:10])
        assert res.names[context].recall >= 0.99, (context, res.misses[:10])
    assert res.names["free"].recall >= 0.90, res.misses[:10]
    assert res.names["free"].precision >= 0.95, res.misses[:10]
    for source in ("registry", "explicit"):
        counts = res.sources[source]
        assert counts["wrong"] == 0, (source, res.misses[:10])
        assert counts["correct"] == counts["expected"] > 0


def test_no_clean_message_of_a_precision_class_is_refused_and_every_dirty_one_is_caught() -> None:
    """Issue 20's classes, generated with vocabulary wider than the tests' tables."""
    pset = PrecisionSet(seed=13)
    cases = pset.cases(24)
    scores = evaluate_classes(cases, Pipeline(example_config(), pset.registry))
    assert set(scores) == set(CLASSES)
    for cls, score in scores.items():
        assert score.clean == score.dirty == 12
        assert score.refused == 0, (cls, score.misses[:5])
        assert score.caught == score.dirty, (cls, score.misses[:5])
