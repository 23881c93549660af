"""config: the example loads; every mistake is named with its file and key path."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest

from dlp_gateway.config import Config, load_config
from dlp_gateway.config.reference import BEGIN, END, _sections, reference, splice
from dlp_gateway.decide.conditions import TESTS, Condition
from dlp_gateway.errors import ConfigError
from dlp_gateway.model import Action
from tests.helpers import ROOT, RULES


def test_example_configuration_loads() -> None:
    cfg = load_config(RULES)
    assert set(cfg.insurers) == {"tokio", "sompo", "msi", "aioi"}
    assert cfg.insurers["msi"].domains == ("ms-ins.com",)
    assert cfg.upstream is None
    assert cfg.outbox.path == Path("var/outbox")
    assert cfg.on_error == Action.QUARANTINE
    assert [r.name for r in cfg.rules][:2] == ["cross-insurer", "cross-insurer-bulk"]


def test_design_example_single_file(tmp_path: Path) -> None:
    f = tmp_path / "gw.yaml"
    f.write_text(
        """
listen: {host: 127.0.0.1, port: 10025}
upstream: {host: 127.0.0.1, port: 10026}
organization: {name: みらい保険サービス, internal_domains: [mirai-hoken.example.jp]}
insurers:
  tokio: {name: 東京海上日動火災保険, aliases: [東京海上日動], domains: [tokiomarine-nichido.co.jp],
          policy_numbers: ['8\\d{9}']}
  aioi: {name: あいおいニッセイ同和損害保険, domains: [aioinissaydowa.co.jp]}
secondees:
  - {address: sato@mirai-hoken.example.jp, home_insurer: aioi}
registry: {path: var/registry.idx}
rules:
  - {name: cross-insurer, when: {violation: cross_insurer}, action: strip}
  - {name: cross-insurer-bulk, when: {violation: cross_insurer, min_records: 10}, action: quarantine}
""",
        encoding="utf-8",
    )
    cfg = load_config(f)
    assert cfg.upstream is not None
    assert cfg.upstream.port == 10026
    assert cfg.secondees[0].home_insurer == "aioi"
    assert cfg.rules[1].when.min_records == 10


def broken(tmp_path: Path, filename: str, text: str) -> list[str]:
    d = tmp_path / "rules"
    shutil.copytree(RULES, d)
    (d / filename).write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(d)
    return info.value.problems


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rules:\n  - {name: r, when: {}, action: delete}\n", "zz.yaml: rules[0].action: unknown action 'delete'"),
        (
            "rules:\n  - {name: r, when: {violations: cross_insurer}, action: strip}\n",
            "zz.yaml: rules[0].when.violations: unknown key",
        ),
        (
            "rules:\n  - {name: r, when: {violation: leak}, action: strip}\n",
            "zz.yaml: rules[0].when.violation[0]: unknown value 'leak'",
        ),
        (
            "rules:\n  - {name: r, when: {recipient_party: 'insurer:axa'}, action: strip}\n",
            "zz.yaml: rules[0].when.recipient_party[0]: unknown party 'insurer:axa'",
        ),
        ("rules:\n  - {when: {}, action: strip}\n", "zz.yaml: rules[0].name: required key is missing"),
        ("rules:\n  - {name: cross-insurer, action: strip}\n", "zz.yaml: rules[0].name: duplicate rule name"),
        (
            "insurers:\n  axa: {name: AXA, domains: [axa.co.jp], policy_numbers: ['AX(\\d+']}\n",
            "zz.yaml: insurers.axa.policy_numbers[0]: invalid regular expression",
        ),
        ("insurers:\n  axa: {name: AXA}\n", "zz.yaml: insurers.axa.domains: required key is missing"),
        ("insurers:\n  tokio: {name: X, domains: [x.jp]}\n", "zz.yaml: insurers.tokio: already defined in"),
        (
            "secondees:\n  - {address: a@b.jp, home_insurer: axa}\n",
            "zz.yaml: secondees[0].home_insurer: unknown insurer 'axa'",
        ),
        ("limits: {max_message_size: big}\n", "zz.yaml: limits: already defined in"),
        ("listenn: {port: 25}\n", "zz.yaml: listenn: unknown key"),
        ("on_error: strip\n", "zz.yaml: on_error: already defined in"),
        ("rules: [\n", "zz.yaml: (YAML syntax)"),
        ("rules:\n  - {name: r, when: {}, action: approve}\n", "approvers: an approve rule needs approvers"),
        (
            "rules:\n  - {name: r, when: {}, action: strip, hold_minutes: 5}\n",
            "zz.yaml: rules[0].hold_minutes: only a hold rule has hold_minutes",
        ),
        (
            "rules:\n  - {name: r, when: {}, action: hold, hold_minutes: 0}\n",
            "rules[0].hold_minutes: must be greater than or equal to 1",
        ),
        (
            "approvers:\n  - {senders: [a@b.jp], approver: a@b.jp}\n",
            "zz.yaml: approvers[0].approver: a sender cannot approve their own mail",
        ),
        ("approvers:\n  - {senders: [], approver: x@b.jp}\n", "zz.yaml: approvers[0].senders: list at least one"),
        ("limits: {}\nrules:\n  - {name: a, action: strip, action: deliver}\n", "key 'action' is given twice"),
        ("upstream: {host: 127.0.0.1, pool: 500}\n", "zz.yaml: upstream.pool: must be less than or equal to 100"),
        ("upstream: {host: 127.0.0.1, pool: many}\n", "zz.yaml: upstream.pool"),
    ],
)
def test_problems_name_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    problems = broken(tmp_path, "zz.yaml", text)
    assert any(expected in p for p in problems), problems


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    problems = broken(
        tmp_path, "zz.yaml", "rules:\n  - {name: a, action: nuke}\n  - {name: b, when: {min_records: -1}}\n"
    )
    assert len(problems) >= 3  # the bad action, the negative count, the missing action


def test_type_errors_are_named(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(
        "listen: {port: '25'}\norganization: {internal_domains: [a.jp]}\n"
        "insurers: {x: {name: X, domains: [x.jp]}}\nlimits: {scan_timeout: true, max_message_size: big}\n"
        "on_error: strip\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_config(f)
    text = "\n".join(info.value.problems)
    assert f"{f}: listen.port: expected an integer, got str" in text
    assert f"{f}: limits.scan_timeout: expected a number, got bool" in text
    assert f"{f}: limits.max_message_size: expected an integer, got str" in text
    assert f"{f}: on_error: must be one of deliver, monitor, quarantine, reject, not 'strip'" in text


def test_the_configuration_reference_is_generated_from_the_schema() -> None:
    """docs/configuration.md's tables are what `dlp-gateway config-reference` prints today."""
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert BEGIN in doc and END in doc
    assert splice(doc) == doc, "run: dlp-gateway config-reference --write docs/configuration.md"


def test_every_key_of_the_schema_is_in_the_reference_and_every_when_key_has_one_test() -> None:
    text = reference()
    for path, cls in _sections(Config, ""):
        for f in dataclasses.fields(cls):
            if not f.metadata.get("internal"):
                assert f"| `{f.name}` |" in text, f"{path}.{f.name} is not documented"
    assert set(TESTS) == {f.name for f in dataclasses.fields(Condition)}


@pytest.mark.parametrize("doc", ["README.md", *(f"docs/{p.name}" for p in sorted((ROOT / "docs").glob("*.md")))])
def test_relative_links_in_the_documents_resolve(doc: str) -> None:
    source = ROOT / doc
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", source.read_text(encoding="utf-8")):
        assert (source.parent / target).exists(), f"{doc} links to missing {target}"
