"""One rule for a domain and its subdomains, used by parties, rule conditions and approvers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlp_gateway.addresses import domain_of, in_domain, suffixes
from dlp_gateway.decide.parties import PartyClassifier
from tests.helpers import example_config


@pytest.mark.parametrize(
    ("address", "entry", "inside"),
    [
        ("a@example.jp", "example.jp", True),
        ("a@Branch.Example.JP", "example.jp", True),
        ("a@example.jp", "@example.jp", True),
        ("a@notexample.jp", "example.jp", False),
        ("a@example.jp.evil", "example.jp", False),
        ("<a@example.jp.>", "example.jp", True),
    ],
)
def test_a_domain_covers_its_subdomains_and_nothing_else(address: str, entry: str, inside: bool) -> None:
    assert in_domain(domain_of(address), entry) is inside


labels = st.text(alphabet="abcxyz-0", min_size=1, max_size=6)


@given(st.lists(labels, min_size=1, max_size=4), st.lists(labels, min_size=1, max_size=4))
def test_every_suffix_is_in_domain_and_the_classifier_agrees(head: list[str], tail: list[str]) -> None:
    domain = ".".join(head + tail)
    assert all(in_domain(domain, s) for s in suffixes(domain))
    assert suffixes(domain)[0] == domain and len(suffixes(domain)) == len(head) + len(tail)
    config = example_config()
    party = PartyClassifier(config).classify(f"x@{domain}")
    insurers = [iid for iid, ins in config.insurers.items() if any(in_domain(domain, d) for d in ins.domains)]
    assert party.insurer == (insurers[0] if insurers and party.kind == "insurer" else None)


@pytest.mark.parametrize(
    ("address", "party"),
    [
        ("suzuki@staff.tokiomarine-nichido.co.jp", "insurer:tokio"),
        ("kimura@ms-ins.com", "insurer:msi"),
        ("a@mirai-hoken.example.jp", "internal"),
        ("a@ms-ins.com.example.org", "external"),
    ],
)
def test_parties_use_the_same_rule(address: str, party: str) -> None:
    assert str(PartyClassifier(example_config()).classify(address)) == party
