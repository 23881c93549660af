"""Classify an envelope address as internal, insurer:<id> or external, by its domain.

The most specific configured domain wins, so `ms-ins.com` can be an insurer while
`agency.ms-ins.com` is configured as internal (a seconded team's mailbox, say).
"""

from __future__ import annotations

from dlp_gateway.config.schema import Config
from dlp_gateway.model import Party

INTERNAL = Party("internal")
EXTERNAL = Party("external")


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().strip(">").lower().rstrip(".")


class PartyClassifier:
    def __init__(self, config: Config) -> None:
        self.table: dict[str, Party] = {}
        for iid, ins in config.insurers.items():
            for d in ins.domains:
                self.table[d] = Party("insurer", iid)
        for d in config.organization.internal_domains:
            self.table[d] = INTERNAL

    def classify(self, address: str) -> Party:
        domain = domain_of(address)
        if not domain or "@" not in address:
            return EXTERNAL
        labels = domain.split(".")
        for i in range(len(labels)):  # longest suffix first: the most specific domain
            party = self.table.get(".".join(labels[i:]))
            if party is not None:
                return party
        return EXTERNAL
