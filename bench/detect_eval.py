"""Detection quality and speed on the generated evaluation set (bench/evalset.py).

    .venv/bin/python bench/detect_eval.py [--messages 1000] [--seed 7]

Prints precision and recall for policy numbers and for names by context (tabular, record line,
free text), the underwriter accuracy per attribution source, and detector speed in MB/s of text.
Targets (issue 4): policy numbers P ≥ 0.99 and R ≥ 0.99; labelled/tabular names R ≥ 0.97;
free-text names R ≥ 0.90 at P ≥ 0.95.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.evalset import Case, Generator
from bench.precision_set import CLASSES, ClassCase, PrecisionSet
from dlp_gateway.config import load_config
from dlp_gateway.detect import dates, names
from dlp_gateway.detect.chunk import line_views
from dlp_gateway.detect.detectors import Detectors
from dlp_gateway.detect.normalize import name_key
from dlp_gateway.pipeline import Pipeline

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class Result:
    numbers: Score = field(default_factory=Score)
    names: dict[str, Score] = field(default_factory=lambda: defaultdict(Score))
    sources: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    misses: list[str] = field(default_factory=list)


def evaluate(cases: list[Case], pipeline: Pipeline) -> Result:
    res = Result()
    registry = pipeline.registry
    for case in cases:
        report = pipeline.scan(case.raw, case.envelope)
        got_numbers = {r.policy_number: r for r in report.records if r.policy_number}
        for number, underwriter in case.numbers.items():
            if number in got_numbers:
                res.numbers.tp += 1
                rec = got_numbers[number]
                expected = "registry" if registry.insurer_for_policy(number) else "explicit"
                ok = rec.underwriter == underwriter and rec.attribution == expected
                res.sources[rec.attribution]["correct" if rec.underwriter == underwriter else "wrong"] += 1
                res.sources[expected]["expected"] += 1
                if not ok:
                    res.misses.append(f"{case.shape}: {number} → {rec.underwriter}/{rec.attribution}")
            else:
                res.numbers.fn += 1
                res.misses.append(f"{case.shape}: missed number {number}")
        res.numbers.fp += len(set(got_numbers) - set(case.numbers))
        res.misses += [f"{case.shape}: false number {n}" for n in set(got_numbers) - set(case.numbers)]
        got_names = {name_key(r.name): r for r in report.records if r.name}
        context = next(iter(case.names.values()), "free")
        score = res.names[context]
        for key in case.names:
            if key in got_names:
                score.tp += 1
                if context == "free":
                    holders = registry.insurers_for_name(key)
                    expected = "registry_name" if len(holders) == 1 else "unknown"
                    res.sources[expected]["expected"] += 1
                    rec = got_names[key]
                    res.sources[rec.attribution]["correct" if rec.attribution == expected else "wrong"] += 1
            else:
                score.fn += 1
                res.misses.append(f"{case.shape}: missed name {key}")
        false = set(got_names) - set(case.names)
        score.fp += len(false)
        res.misses += [f"{case.shape}: false name {n}" for n in false]
    return res


@dataclass
class ClassScore:
    clean: int = 0
    refused: int = 0  # clean messages that lost their insurer recipient
    dirty: int = 0
    caught: int = 0  # dirty messages whose insurer recipient got a violation
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        """Clean messages delivered to their insurer, as a share of all clean messages."""
        return 1 - self.refused / self.clean if self.clean else 1.0

    @property
    def recall(self) -> float:
        return self.caught / self.dirty if self.dirty else 1.0


def evaluate_classes(cases: list[ClassCase], pipeline: Pipeline) -> dict[str, ClassScore]:
    """Per precision class: clean variants must reach their insurer, dirty ones must not."""
    out: dict[str, ClassScore] = defaultdict(ClassScore)
    for case in cases:
        report = pipeline.scan(case.raw, case.envelope)
        kinds = [v.kind for r in report.decision.recipients for v in r.violations]
        score = out[case.cls]
        if case.dirty:
            score.dirty += 1
            score.caught += bool(kinds)
        else:
            score.clean += 1
            score.refused += bool(kinds)
        if bool(kinds) != case.dirty:
            got = [(r.policy_number, r.name, r.underwriter, r.attribution) for r in report.records]
            score.misses.append(f"{case.cls} {'dirty' if case.dirty else 'clean'}: {kinds} {got}")
    return out


def speed(cases: list[Case], pipeline: Pipeline) -> list[tuple[str, float]]:
    lines = [line for c in cases for seg in pipeline.read(c.raw)[0] for line in seg.lines if line.strip()]
    mb = sum(len(line.encode()) for line in lines) / 1e6
    det = Detectors(pipeline.config, pipeline.registry)
    runs: dict[str, Callable[[str], object]] = {
        "policy_number": lambda ln: det.numbers.find(line_views(ln), 0),
        "name": lambda ln: names.find(line_views(ln), 0),
        "insurer": lambda ln: det.mentions.find(line_views(ln), 0),
        "date": lambda ln: dates.find(line_views(ln), 0),
        "registry": lambda ln: det.registry.find(line_views(ln), 0) if det.registry else [],
        "all detectors": lambda ln: det.line(ln, 0, 0),
    }
    out = []
    for label, fn in runs.items():
        t = time.perf_counter()
        for line in lines:
            fn(line)
        out.append((label, mb / (time.perf_counter() - t)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--show-misses", type=int, default=10)
    ap.add_argument("--per-class", type=int, default=200, help="precision-class variants (half clean)")
    args = ap.parse_args()
    gen = Generator(args.seed)
    cases = gen.cases(args.messages)
    pipeline = Pipeline(load_config(ROOT / "rules"), gen.registry)
    res = evaluate(cases, pipeline)
    print(
        f"{args.messages} messages, {res.numbers.tp + res.numbers.fn} policy numbers, "
        f"{sum(s.tp + s.fn for s in res.names.values())} customer names"
    )
    print(f"{'detector':28} {'precision':>9} {'recall':>7}")
    print(f"{'policy numbers':28} {res.numbers.precision:9.4f} {res.numbers.recall:7.4f}")
    for ctx, score in sorted(res.names.items()):
        print(f"{'names, ' + ctx:28} {score.precision:9.4f} {score.recall:7.4f}")
    print(f"\n{'attribution source':20} {'records':>8} {'correct':>8} {'expected':>9}")
    for src, c in sorted(res.sources.items()):
        total = c["correct"] + c["wrong"]
        acc = c["correct"] / total if total else 0.0
        print(f"{src:20} {total:8d} {acc:8.4f} {c['expected']:9d}")
    pset = PrecisionSet(args.seed)
    class_cases = pset.cases(args.per_class)
    scores = evaluate_classes(class_cases, Pipeline(load_config(ROOT / "rules"), pset.registry))
    print(f"\n{'precision class':16} {'clean':>6} {'delivered':>9} {'dirty':>6} {'caught':>7}")
    for cls in CLASSES:
        sc = scores[cls]
        print(f"{cls:16} {sc.clean:6d} {sc.precision:9.4f} {sc.dirty:6d} {sc.recall:7.4f}")
        if sc.misses and args.show_misses:
            print("   ", *sc.misses[: args.show_misses], sep="\n    ")
    print("\ndetector speed (MB/s of extracted text)")
    for label, mbps in speed(cases[:200], pipeline):
        print(f"  {label:20} {mbps:8.2f}")
    if res.misses and args.show_misses:
        print("\nfirst misses:", *res.misses[: args.show_misses], sep="\n  ")


if __name__ == "__main__":
    main()
