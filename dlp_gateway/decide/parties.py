"""Classify an envelope address as internal, insurer:<id> or external, by its domain.

The most specific configured domain wins, so `ms-ins.com` can be an insurer while
`agency.ms-ins.com` is configured as internal (a seconded team's mailbox, say).
"""

from __future__ import annotations

from dlp_gateway.addresses import domain_of, suffixes
from dlp_gateway.config.schema import Config
from dlp_gateway.model import Party, PartyKind

INTERNAL = Party(PartyKind.INTERNAL)
EXTERNAL = Party(PartyKind.EXTERNAL)


class PartyClassifier:
    def __init__(self, config: Config) -> None:
        self.table: dict[str, Party] = {}
        for iid, ins in config.insurers.items():
            for d in ins.domains:
                self.table[d] = Party(PartyKind.INSURER, iid)
        for d in config.organization.internal_domains:
            self.table[d] = INTERNAL

    def classify(self, address: str) -> Party:
        domain = domain_of(address)
        if not domain or "@" not in address:
            return EXTERNAL
        for suffix in suffixes(domain):  # the most specific configured domain wins
            party = self.table.get(suffix)
            if party is not None:
                return party
        return EXTERNAL
