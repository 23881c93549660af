"""`registry import`: the agency's contract CSV → a registry index.

Columns: policy_number, name, name_kana, insurer, expiry (header row required; extra columns are
ignored). The insurer column may hold an insurer id, its name, an alias or a code from the
configuration; rows that map to no insurer are reported, never guessed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dlp_gateway.config.schema import Config
from dlp_gateway.detect.normalize import canonical_number, name_key
from dlp_gateway.errors import RegistryError
from dlp_gateway.parse.charsets import decode
from dlp_gateway.registry.index import RegistryIndex

REQUIRED = ("policy_number", "insurer")


@dataclass
class ImportResult:
    index: RegistryIndex
    imported: int = 0
    unmapped: list[tuple[int, str]] = field(default_factory=list)  # (line number, problem)


def insurer_lookup(config: Config) -> dict[str, str]:
    """Every way an insurer may be written in a registry file → its id (compared by name_key)."""
    table: dict[str, str] = {}
    for ins in config.insurers.values():
        for text in (ins.id, *ins.mentions, *ins.codes):
            table[name_key(text)] = ins.id
    return table


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row, streamed: a million rows never sit in memory."""
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        text = raw[3:].decode("utf-8")
    else:
        text, _ = decode(raw)  # UTF-8 when it decodes as such, else cp932 as Excel writes it
    reader = csv.reader(io.StringIO(text, newline=""))
    fields = [f.strip().lower() for f in next(reader, [])]
    missing = [c for c in REQUIRED if c not in fields]
    if missing:
        raise RegistryError(f"{path}: missing column(s) {', '.join(missing)} (header: {', '.join(fields)})")
    for values in reader:
        yield reader.line_num, {k: v.strip() for k, v in zip(fields, values, strict=False)}


def import_csv(path: Path, config: Config) -> ImportResult:
    lookup = insurer_lookup(config)
    result = ImportResult(RegistryIndex(created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds")))
    seen: dict[str, str | None] = {}  # insurer cell text → id; exports repeat a handful of values
    for n, row in read_rows(path):
        text = row.get("insurer", "")
        if text not in seen:
            seen[text] = lookup.get(name_key(text))
        insurer = seen[text]
        if insurer is None:
            problem = f"insurer {row.get('insurer', '')!r} is not an id, name, alias or code in the configuration"
            result.unmapped.append((n, problem))
            continue
        number = canonical_number(row.get("policy_number", ""))
        if not number:
            result.unmapped.append((n, "empty policy_number"))
            continue
        result.index.add(number, row.get("name", ""), insurer, row.get("name_kana", ""))
        result.imported += 1
    return result
