"""Mail addresses and their domains: the one place a domain covers its subdomains.

Parties (decide/parties.py), rule conditions on senders and recipients (decide/rules.py) and
approvers (config/schema.py) all match a domain entry the same way: `example.jp` covers
`a@example.jp` and `a@branch.example.jp`, never `a@notexample.jp`.
"""

from __future__ import annotations


def domain_of(address: str) -> str:
    """The domain of an envelope address, lower case, without a trailing dot or bracket."""
    return address.rpartition("@")[2].strip().strip(">").lower().rstrip(".")


def in_domain(domain: str, entry: str) -> bool:
    """Whether `domain` is the configured domain `entry` (given with or without @) or under it."""
    entry = entry.lstrip("@").lower()
    return domain == entry or domain.endswith("." + entry)


def suffixes(domain: str) -> list[str]:
    """`a.b.example.jp` → itself, `b.example.jp`, `example.jp`, `jp`: the most specific first."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]
