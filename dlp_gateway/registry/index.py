"""Registry index: keyed 64-bit BLAKE2b digests of normalised policy numbers and names, never
plaintext, in sorted arrays (exact data match in the spirit of Purview's EDM).

A stolen index does not list customers; the key (salt) is per index, so digests do not match
across sites. 1,000,000 contracts take about 35 MB on disk and in memory and load in well under a
second (bench/registry_scale.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from array import array
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from dlp_gateway.detect.normalize import canonical_number, name_key
from dlp_gateway.errors import RegistryError

MAGIC = b"DLPREG2\n"
# How name keys are written (detect/normalize.name_key). An index written another way would miss
# every name whose spelling the new form changes, so it is refused at load with how to rebuild it.
NAME_FORM = "nfkc-itaiji-1"
MAX_INSURERS = 32  # insurer sets are 32-bit masks
# A Bloom filter over salted CRC-32s of the name keys: scanning free text tries every short span
# as a name, and a bit test is ~10x cheaper than a BLAKE2b digest. 2^24 bits (2 MB) keep false
# positives near 11 % at 2 million keys; a positive is then confirmed by the digest.
BLOOM_BITS = 1 << 24
# The first two characters of every name key are in the filter too (marked with PREFIX): a scan
# tries the lengths at a position only if a registered name can start there. Indexes built before
# this carry no such entries (`prefix_bloom` false in the header) and are scanned without it.
PREFIX = "\x01"


class Registry(Protocol):
    def insurer_for_policy(self, policy_number: str) -> str | None: ...

    def insurers_for_name(self, name: str) -> frozenset[str]: ...

    def family_length(self, name: str) -> int | None:
        """How many characters of the name are the family name, if the registry knows."""

    @property
    def empty(self) -> bool: ...

    def lengths(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """(min, max) length of policy numbers and of name keys, to bound candidate spans."""


def _sorted_lookup(keys: array, values: array, digest: int) -> int | None:  # type: ignore[type-arg]
    i = bisect_left(keys, digest)
    return values[i] if i < len(keys) and keys[i] == digest else None


@dataclass
class RegistryIndex:
    salt: bytes = field(default_factory=lambda: os.urandom(16))
    insurers: list[str] = field(default_factory=list)
    rows: int = 0
    created: str = ""
    # Sorted digests and their values, as loaded from a file.
    policy_keys: array = field(default_factory=lambda: array("Q"))  # type: ignore[type-arg]
    policy_vals: array = field(default_factory=lambda: array("B"))  # type: ignore[type-arg]
    name_keys: array = field(default_factory=lambda: array("Q"))  # type: ignore[type-arg]
    name_vals: array = field(default_factory=lambda: array("I"))  # type: ignore[type-arg]
    name_splits: array = field(default_factory=lambda: array("B"))  # type: ignore[type-arg]
    name_bloom: bytearray = field(default_factory=lambda: bytearray(BLOOM_BITS // 8))
    prefix_bloom: bool = True
    policy_len: tuple[int, int] = (0, 0)
    name_len: tuple[int, int] = (0, 0)
    # Entries added since (digest → value), merged into the arrays by save().
    _policies: dict[int, int] = field(default_factory=dict)
    _names: dict[int, int] = field(default_factory=dict)
    _splits: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._hasher = hashlib.blake2b(key=self.salt, digest_size=8)
        self.bloom_seed = int.from_bytes(self.salt[:4], "little")

    def _bloom_bit(self, key: str) -> int:
        return zlib.crc32(key.encode(), self.bloom_seed) & (BLOOM_BITS - 1)

    def may_be_name(self, key: str) -> bool:
        """False: certainly not a registered name key. True: check with `name_mask`."""
        bit = self._bloom_bit(key)
        return bool(self.name_bloom[bit >> 3] >> (bit & 7) & 1)

    def digest(self, kind: str, value: str) -> int:
        h = self._hasher.copy()
        h.update(f"{kind}\0{value}".encode())
        return int.from_bytes(h.digest(), "little")

    def _insurer_index(self, insurer: str) -> int:
        if insurer not in self.insurers:
            if len(self.insurers) >= MAX_INSURERS:
                raise RegistryError(f"a registry holds at most {MAX_INSURERS} insurers")
            self.insurers.append(insurer)
        return self.insurers.index(insurer)

    @staticmethod
    def _widen(bounds: tuple[int, int], n: int) -> tuple[int, int]:
        return (n, n) if bounds == (0, 0) else (min(bounds[0], n), max(bounds[1], n))

    def add(self, policy_number: str, name: str, insurer: str, *other_names: str) -> None:
        """One contract row; `other_names` are further keys for the same person (kana reading)."""
        idx = self._insurer_index(insurer)
        number = canonical_number(policy_number)
        if number:
            self._policies[self.digest("p", number)] = idx
            self.policy_len = self._widen(self.policy_len, len(number))
        for n in (name, *other_names):
            self._add_name(n, idx)
        self.rows += 1

    def _add_name(self, name: str, idx: int) -> None:
        key = name_key(name)
        if key:
            for entry in (key, PREFIX + key[:2]):  # the name, and where a name can start
                bit = self._bloom_bit(entry)
                self.name_bloom[bit >> 3] |= 1 << (bit & 7)
            d = self.digest("n", key)
            self._names[d] = self._names.get(d, self.name_mask(d)) | (1 << idx)
            self.name_len = self._widen(self.name_len, len(key))
            family, space, _ = name.strip().replace("\u3000", " ").partition(" ")
            if space and 0 < len(name_key(family)) < 256:
                self._splits[d] = len(name_key(family))

    # --- lookups -------------------------------------------------------------------------

    def policy_insurer(self, digest: int) -> str | None:
        idx = self._policies.get(digest)
        if idx is None:
            idx = _sorted_lookup(self.policy_keys, self.policy_vals, digest)
        return None if idx is None else self.insurers[idx]

    def name_mask(self, digest: int) -> int:
        if digest in self._names:
            return self._names[digest]
        return _sorted_lookup(self.name_keys, self.name_vals, digest) or 0

    def insurer_for_policy(self, policy_number: str) -> str | None:
        return self.policy_insurer(self.digest("p", canonical_number(policy_number)))

    def holders(self, mask: int) -> frozenset[str]:
        return frozenset(ins for i, ins in enumerate(self.insurers) if mask >> i & 1)

    def insurers_for_name(self, name: str) -> frozenset[str]:
        return self.holders(self.name_mask(self.digest("n", name_key(name))))

    def family_length(self, name: str) -> int | None:
        d = self.digest("n", name_key(name))
        split = self._splits.get(d)
        if split is None:
            split = _sorted_lookup(self.name_keys, self.name_splits, d)
        return split or None

    @property
    def empty(self) -> bool:
        return not (self.policy_keys or self.name_keys or self._policies or self._names)

    def lengths(self) -> tuple[tuple[int, int], tuple[int, int]]:
        return self.policy_len, self.name_len

    # --- persistence ---------------------------------------------------------------------

    def _merged(self) -> None:
        if self._policies:
            merged = dict(zip(self.policy_keys, self.policy_vals, strict=True)) | self._policies
            keys = sorted(merged)
            self.policy_keys, self.policy_vals = array("Q", keys), array("B", (merged[k] for k in keys))
            self._policies = {}
        if self._names:
            masks = dict(zip(self.name_keys, self.name_vals, strict=True)) | self._names
            splits = dict(zip(self.name_keys, self.name_splits, strict=True)) | self._splits
            keys = sorted(masks)
            self.name_keys = array("Q", keys)
            self.name_vals = array("I", (masks[k] for k in keys))
            self.name_splits = array("B", (splits.get(k, 0) for k in keys))
            self._names, self._splits = {}, {}

    def save(self, path: Path) -> None:
        """Write atomically: a gateway reading the old index never sees half a file."""
        self._merged()
        arrays = [self.policy_keys, self.policy_vals, self.name_keys, self.name_vals, self.name_splits]
        header = {
            "salt": self.salt.hex(),
            "insurers": self.insurers,
            "rows": self.rows,
            "created": self.created,
            "policy_len": list(self.policy_len),
            "name_len": list(self.name_len),
            "prefix_bloom": self.prefix_bloom,
            "name_form": NAME_FORM,
            "arrays": [[a.typecode, len(a)] for a in arrays],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as f:
            f.write(MAGIC + json.dumps(header).encode() + b"\n")
            for a in arrays:
                f.write(a.tobytes())
            f.write(self.name_bloom)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)


class _Empty:
    empty = True

    def insurer_for_policy(self, policy_number: str) -> str | None:
        return None

    def insurers_for_name(self, name: str) -> frozenset[str]:
        return frozenset()

    def family_length(self, name: str) -> int | None:
        return None

    def lengths(self) -> tuple[tuple[int, int], tuple[int, int]]:
        return (0, 0), (0, 0)


EMPTY_REGISTRY: Registry = _Empty()


def load_registry(path: Path) -> RegistryIndex:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read registry index: {exc.strerror}") from exc
    if not data.startswith(MAGIC):
        raise RegistryError(
            f"{path}: cannot read registry index: not a dlp-gateway registry (rebuild it with "
            "`dlp-gateway registry import`)"
        )
    try:
        end = data.index(b"\n", len(MAGIC))
        header = json.loads(data[len(MAGIC) : end])
        if header.get("name_form") != NAME_FORM:
            raise RegistryError(
                f"{path}: cannot read registry index: it was built by an older release that did not fold "
                "異体字 in names; rebuild it from the agency's export with `dlp-gateway registry import`"
            )
        pos = end + 1
        arrays = []
        for typecode, count in header["arrays"]:
            a = array(typecode)
            size = a.itemsize * count
            a.frombytes(data[pos : pos + size])
            if len(a) != count:
                raise ValueError("truncated")
            arrays.append(a)
            pos += size
        bloom = bytearray(data[pos : pos + BLOOM_BITS // 8])
        if len(bloom) != BLOOM_BITS // 8:
            raise ValueError("truncated")
        index = RegistryIndex(
            salt=bytes.fromhex(header["salt"]),
            insurers=list(header["insurers"]),
            rows=int(header["rows"]),
            created=str(header["created"]),
            policy_len=tuple(header["policy_len"]),
            name_len=tuple(header["name_len"]),
            name_bloom=bloom,
            prefix_bloom=bool(header.get("prefix_bloom", False)),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise RegistryError(f"{path}: cannot read registry index: {exc}") from exc
    index.policy_keys, index.policy_vals, index.name_keys, index.name_vals, index.name_splits = arrays
    return index
