"""decide: parties, violations and the rule interpreter."""

from __future__ import annotations

import dataclasses

import pytest

from dlp_gateway.config.schema import Rule
from dlp_gateway.decide.conditions import Condition
from dlp_gateway.decide.engine import decide
from dlp_gateway.decide.parties import PartyClassifier
from dlp_gateway.model import Action, Envelope, Party, Record, Unscannable, UnscannableKind, ViolationKind
from tests.helpers import BRANCH_A, HEAD_OFFICE, MSI, SOMPO, TOKIO, example_config

CONFIG = example_config()


@pytest.mark.parametrize(
    ("address", "party"),
    [
        ("a@mirai-hoken.example.jp", "internal"),
        ("a@Branch.MIRAI-HOKEN.example.jp", "internal"),
        ("x@ms-ins.com", "insurer:msi"),
        ("x@MS-INS.COM", "insurer:msi"),
        ("x@kanto.tokiomarine-nichido.co.jp", "insurer:tokio"),
        ("x@notms-ins.com", "external"),
        ("x@ms-ins.com.evil.example", "external"),
        ("x@gmail.com", "external"),
        ("not-an-address", "external"),
    ],
)
def test_parties(address: str, party: str) -> None:
    assert str(PartyClassifier(CONFIG).classify(address)) == party


def test_most_specific_domain_wins() -> None:
    org = dataclasses.replace(CONFIG.organization, internal_domains=("desk.ms-ins.com",))
    parties = PartyClassifier(dataclasses.replace(CONFIG, organization=org))
    assert parties.classify("a@desk.ms-ins.com") == Party("internal")
    assert parties.classify("a@ms-ins.com") == Party("insurer", "msi")


def rec(underwriter: str | None) -> Record:
    return Record("8123456789", "山田 太郎", None, underwriter, "pattern" if underwriter else "unknown", 0.6, "body")


def verdict(records: list[Record], rcpts: tuple[str, ...], unscannable: tuple[Unscannable, ...] = ()) -> dict[str, str]:
    d = decide(Envelope(HEAD_OFFICE, rcpts), records, unscannable, CONFIG)
    return {"verdict": d.verdict.label, **{r.address: r.action.label for r in d.recipients}}


def test_seed_scenario_strips_other_insurers_only() -> None:
    got = verdict([rec("tokio")] * 3, (BRANCH_A, SOMPO, MSI, TOKIO))
    assert got == {"verdict": "strip", BRANCH_A: "deliver", SOMPO: "strip", MSI: "strip", TOKIO: "deliver"}


def test_bulk_cross_insurer_is_quarantined() -> None:
    assert verdict([rec("tokio")] * 10, (BRANCH_A, SOMPO))["verdict"] == "quarantine"
    assert verdict([rec("tokio")] * 9, (BRANCH_A, SOMPO))["verdict"] == "strip"


def test_unknown_underwriter_to_an_insurer_is_held_but_not_to_internal() -> None:
    assert verdict([rec(None)], (BRANCH_A,))["verdict"] == "deliver"
    assert verdict([rec(None)], (BRANCH_A, MSI))["verdict"] == "quarantine"


def test_unscannable_content_to_an_insurer_is_held() -> None:
    u = (Unscannable("attachment[0]:a.zip", UnscannableKind.ENCRYPTED),)
    assert verdict([], (TOKIO,), u)["verdict"] == "quarantine"
    assert verdict([], (BRANCH_A,), u)["verdict"] == "deliver"


def test_external_disclosure_is_monitored() -> None:
    assert verdict([rec("tokio")], ("x@gmail.com",))["verdict"] == "monitor"
    assert verdict([], ("x@gmail.com",))["verdict"] == "deliver"


def test_stripping_every_recipient_rejects() -> None:
    d = decide(Envelope(HEAD_OFFICE, (SOMPO,)), [rec("tokio")], (), CONFIG)
    assert d.verdict == Action.REJECT
    assert d.notes


def test_every_matching_rule_is_reported_and_the_strictest_wins() -> None:
    d = decide(Envelope(HEAD_OFFICE, (BRANCH_A, SOMPO)), [rec("tokio")] * 12, (), CONFIG)
    assert d.verdict == Action.QUARANTINE
    assert d.rules == ("cross-insurer", "cross-insurer-bulk")
    assert "12 record(s)" in d.matches[1].why


def test_party_conditions_and_max_records() -> None:
    rules = (
        Rule(
            "to-msi-only",
            Condition(violation=(ViolationKind.CROSS_INSURER,), recipient_party=("insurer:msi",)),
            Action.REJECT,
        ),
        Rule("few", Condition(max_records=1, recipient_party=("external",)), Action.MONITOR),
    )
    cfg = dataclasses.replace(CONFIG, rules=rules)
    d = decide(Envelope(HEAD_OFFICE, (SOMPO, MSI, "x@gmail.com")), [rec("tokio")], (), cfg)
    assert {r.address: r.action for r in d.recipients} == {
        SOMPO: Action.DELIVER,
        MSI: Action.REJECT,
        "x@gmail.com": Action.MONITOR,
    }
