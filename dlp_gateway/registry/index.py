"""Registry index: salted BLAKE2b hashes of normalised policy numbers and names, never plaintext.

A stolen index does not list customers; the salt is per index, so hashes do not match across sites.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from dlp_gateway.detect.normalize import canonical_number, name_key
from dlp_gateway.errors import RegistryError

FORMAT = "dlp-registry/1"


class Registry(Protocol):
    def insurer_for_policy(self, policy_number: str) -> str | None: ...

    def insurers_for_name(self, name: str) -> frozenset[str]: ...

    def family_length(self, name: str) -> int | None:
        """How many characters of the name are the family name, if the registry knows."""


def _digest(salt: bytes, kind: str, value: str) -> str:
    return hashlib.blake2b(f"{kind}\0{value}".encode(), key=salt, digest_size=16).hexdigest()


@dataclass
class RegistryIndex:
    salt: bytes = field(default_factory=lambda: os.urandom(16))
    policies: dict[str, str] = field(default_factory=dict)
    names: dict[str, list[str]] = field(default_factory=dict)
    # Where the family name ends, per name hash: lets `山田太郎` be shown as `山田 太郎` without
    # keeping the name itself.
    splits: dict[str, int] = field(default_factory=dict)
    rows: int = 0
    created: str = ""

    def add(self, policy_number: str, name: str, insurer: str) -> None:
        if policy_number:
            self.policies[_digest(self.salt, "p", canonical_number(policy_number))] = insurer
        if name:
            digest = _digest(self.salt, "n", name_key(name))
            holders = self.names.setdefault(digest, [])
            if insurer not in holders:
                holders.append(insurer)
            family, space, _ = name.strip().replace("\u3000", " ").partition(" ")
            if space:
                self.splits[digest] = len(name_key(family))
        self.rows += 1

    def insurer_for_policy(self, policy_number: str) -> str | None:
        return self.policies.get(_digest(self.salt, "p", canonical_number(policy_number)))

    def insurers_for_name(self, name: str) -> frozenset[str]:
        return frozenset(self.names.get(_digest(self.salt, "n", name_key(name)), ()))

    def family_length(self, name: str) -> int | None:
        return self.splits.get(_digest(self.salt, "n", name_key(name)))

    def save(self, path: Path) -> None:
        """Write atomically: a gateway reading the old index never sees half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        doc = {
            "format": FORMAT,
            "salt": self.salt.hex(),
            "rows": self.rows,
            "created": self.created,
            "policies": self.policies,
            "names": self.names,
            "splits": self.splits,
        }
        with tmp.open("w", encoding="utf-8") as f:
            json.dump(doc, f, separators=(",", ":"))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)


class _Empty:
    def insurer_for_policy(self, policy_number: str) -> str | None:
        return None

    def insurers_for_name(self, name: str) -> frozenset[str]:
        return frozenset()

    def family_length(self, name: str) -> int | None:
        return None


EMPTY_REGISTRY: Registry = _Empty()


def load_registry(path: Path) -> RegistryIndex:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RegistryError(f"{path}: cannot read registry index: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise RegistryError(f"{path}: not a registry index of format {FORMAT}")
    return RegistryIndex(
        salt=bytes.fromhex(doc["salt"]),
        policies=doc["policies"],
        names=doc["names"],
        splits=doc.get("splits", {}),
        rows=int(doc.get("rows", 0)),
        created=str(doc.get("created", "")),
    )
