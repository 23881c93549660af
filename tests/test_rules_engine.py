"""The rule conditions of issue 5, simulation and redact fallback settings, as tables."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from dlp_gateway.config import load_config
from dlp_gateway.config.schema import Rule
from dlp_gateway.decide.conditions import Condition
from dlp_gateway.decide.engine import Facts, decide
from dlp_gateway.errors import ConfigError
from dlp_gateway.model import Action, Detector, Envelope, Record, ViolationKind
from tests.helpers import BRANCH_A, HEAD_OFFICE, MSI, SOMPO, example_config

CONFIG = example_config()
NUMBER = Record("8100000001", None, None, "tokio", "pattern", 0.6, "body:line 1")
NAMED = Record(None, "山田 太郎", None, "tokio", "explicit", 0.9, "body:line 2")
SURE = Record("8100000002", "佐藤 花子", None, "tokio", "registry", 0.97, "body:line 3")


def actions(
    when: Condition,
    records: list[Record],
    rcpts: tuple[str, ...] = (SOMPO,),
    sender: str = HEAD_OFFICE,
    facts: Facts | None = None,
    simulate: bool = False,
) -> dict[str, str]:
    cfg = dataclasses.replace(CONFIG, rules=(Rule("r", when, Action.QUARANTINE, simulate=simulate),))
    d = decide(Envelope(sender, rcpts), records, (), cfg, facts=facts)
    return {r.address: r.action.label for r in d.recipients}


@pytest.mark.parametrize(
    ("when", "records", "expected"),
    [
        (Condition(violation=(ViolationKind.CROSS_INSURER,), min_confidence=0.9), [NUMBER], "deliver"),
        (Condition(violation=(ViolationKind.CROSS_INSURER,), min_confidence=0.9), [NUMBER, SURE], "quarantine"),
        (
            Condition(violation=(ViolationKind.CROSS_INSURER,), min_records=2, min_confidence=0.9),
            [NUMBER, SURE],
            "deliver",
        ),
        (Condition(violation=(ViolationKind.CROSS_INSURER,), detectors=(Detector.NAME,)), [NUMBER], "deliver"),
        (Condition(violation=(ViolationKind.CROSS_INSURER,), detectors=(Detector.NAME,)), [NAMED], "quarantine"),
        (Condition(violation=(ViolationKind.CROSS_INSURER,), detectors=(Detector.POLICY_NUMBER,)), [NAMED], "deliver"),
        (Condition(recipients=("sompo-japan.co.jp",)), [], "quarantine"),
        (Condition(recipients=("@sompo-japan.co.jp",)), [], "quarantine"),
        (Condition(recipients=("other@sompo-japan.co.jp",)), [], "deliver"),
        (Condition(senders=("honbu@mirai-hoken.example.jp",)), [], "quarantine"),
        (Condition(senders=("example.jp",)), [], "quarantine"),  # a domain covers its subdomains
        (Condition(senders=("ms-ins.com",)), [], "deliver"),
    ],
)
def test_conditions(when: Condition, records: list[Record], expected: str) -> None:
    assert actions(when, records)[SOMPO] == expected


def test_has_attachment() -> None:
    when = Condition(has_attachment=True)
    assert actions(when, [], facts=Facts(has_attachment=True))[SOMPO] == "quarantine"
    assert actions(when, [], facts=Facts(has_attachment=False))[SOMPO] == "deliver"


def test_secondee_to_home_insurer_only() -> None:
    when = Condition(secondee=True)
    secondee = "sato@mirai-hoken.example.jp"  # on loan from aioi in the example configuration
    aioi = "boss@aioinissaydowa.co.jp"
    assert actions(when, [], rcpts=(aioi, SOMPO), sender=secondee) == {aioi: "quarantine", SOMPO: "deliver"}
    assert actions(when, [], rcpts=(aioi,), sender=HEAD_OFFICE) == {aioi: "deliver"}
    assert actions(Condition(secondee=False), [], rcpts=(aioi,), sender=secondee) == {aioi: "deliver"}


def test_a_simulated_rule_reports_but_only_monitors() -> None:
    cfg = dataclasses.replace(
        CONFIG,
        rules=(
            Rule("enforced", Condition(violation=(ViolationKind.CROSS_INSURER,)), Action.STRIP),
            Rule(
                "trial",
                Condition(violation=(ViolationKind.CROSS_INSURER,), min_records=1),
                Action.REJECT,
                simulate=True,
            ),
        ),
    )
    d = decide(Envelope(HEAD_OFFICE, (BRANCH_A, SOMPO)), [NUMBER], (), cfg)
    assert d.verdict == Action.STRIP
    assert d.simulated_verdict == Action.REJECT
    assert [(m.rule, m.simulated) for m in d.matches] == [("enforced", False), ("trial", True)]
    assert {r.address: (r.action, r.would_be) for r in d.recipients} == {
        BRANCH_A: (Action.DELIVER, Action.DELIVER),
        SOMPO: (Action.STRIP, Action.REJECT),
    }


def test_global_simulation_delivers_everything_with_headers() -> None:
    cfg = dataclasses.replace(CONFIG, simulate=True)
    d = decide(Envelope(HEAD_OFFICE, (BRANCH_A, SOMPO, MSI)), [NUMBER] * 12, (), cfg)
    assert d.verdict == Action.MONITOR
    assert d.simulated_verdict == Action.QUARANTINE
    assert d.rules == ("cross-insurer", "cross-insurer-bulk")


def write(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "c.yaml"
    f.write_text(
        "organization: {internal_domains: [a.jp]}\ninsurers: {x: {name: X, domains: [x.jp]}}\n" + text, encoding="utf-8"
    )
    return f


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("rules: [{name: r, action: strip, fallback: quarantine}]", "rules[0].fallback: only a redact rule"),
        (
            "rules: [{name: r, action: redact, fallback: deliver}]",
            "rules[0].fallback: must be one of quarantine, reject, strip, not 'deliver'",
        ),
        (
            "rules: [{name: r, action: strip, when: {min_confidence: 2}}]",
            "min_confidence: must be less than or equal to 1",
        ),
        (
            "rules: [{name: r, action: strip, when: {detectors: [phone]}}]",
            "detectors[0]: unknown value 'phone' (one of policy_number, name)",
        ),
        (
            "rules: [{name: r, action: strip, when: {secondee: maybe}}]",
            "when.secondee: expected true or false, got str",
        ),
        ("notices: {compliance: [c@a.jp]}", "notices.sender: required key is missing"),
        ("notices: {sender: d@a.jp, actions: [explode]}", "notices.actions[0]: unknown action 'explode'"),
        ("simulate: yes please", "simulate: expected true or false, got str"),
    ],
)
def test_new_keys_are_validated(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert any(problem in p for p in info.value.problems), info.value.problems


def test_new_keys_load(tmp_path: Path) -> None:
    cfg = load_config(
        write(
            tmp_path,
            """
simulate: true
notices: {sender: dlp@a.jp, compliance: [c@a.jp], actions: [quarantine], review_url: https://dlp.a.jp/}
rules:
  - name: r
    action: redact
    fallback: reject
    simulate: true
    when: {min_confidence: 0.8, detectors: [name], senders: [A.JP], recipients: [x.jp], secondee: false,
           has_attachment: true}
""",
        )
    )
    rule = cfg.rules[0]
    assert cfg.simulate and rule.simulate and rule.fallback == Action.REJECT
    assert rule.when == Condition(
        min_confidence=0.8,
        detectors=(Detector.NAME,),
        senders=("a.jp",),
        recipients=("x.jp",),
        secondee=False,
        has_attachment=True,
    )
    assert cfg.notices is not None and cfg.notices.actions == (Action.QUARANTINE,)
