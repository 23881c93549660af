"""The staff directory: the agency's own people, as keyed digests of their names and readings.

`dlp-gateway staff import FILE.csv` reads the export every agency has from its mail or HR system
(name, kana, e-mail, department; Japanese or English headers; 姓 and 名 in two columns too). Only
keyed 64-bit BLAKE2b digests of the names and readings are kept (the e-mail addresses and
departments are not: the gateway does not need them), written atomically like the registry index.

A name in the directory is never a customer unless the registry also holds it as one: a roster of
staff mailed to an insurer is not a customer list.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
from array import array
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path

from dlp_gateway.detect.normalize import name_key
from dlp_gateway.errors import RegistryError
from dlp_gateway.parse.charsets import decode
from dlp_gateway.registry.index import NAME_FORM

MAGIC = b"DLPSTAFF1\n"
# Header spellings of each column, compared after name_key (upper case, katakana, no spaces).
COLUMNS = {
    "name": ("NAME", "DISPLAYNAME", "FULLNAME", "氏名", "名前", "社員名", "職員名", "表示名", "NAMEKANJI"),
    "family": ("姓", "LASTNAME", "FAMILYNAME", "SURNAME"),
    "given": ("名", "FIRSTNAME", "GIVENNAME"),
    "kana": ("KANA", "フリガナ", "カナ", "ヨミ", "ヨミガナ", "氏名カナ", "シメイ", "NAMEKANA"),
    "family_kana": ("セイ", "姓カナ", "姓フリガナ"),
    "given_kana": ("メイ", "名カナ", "名フリガナ"),
}


@dataclass
class StaffDirectory:
    salt: bytes = field(default_factory=lambda: os.urandom(16))
    rows: int = 0
    created: str = ""
    keys: array = field(default_factory=lambda: array("Q"))  # type: ignore[type-arg]
    _added: set[int] = field(default_factory=set)

    def digest(self, name: str) -> int:
        h = hashlib.blake2b(name_key(name).encode(), key=self.salt, digest_size=8)
        return int.from_bytes(h.digest(), "little")

    def add(self, name: str) -> None:
        if name_key(name):
            self._added.add(self.digest(name))

    def __contains__(self, name: str) -> bool:
        d = self.digest(name)
        if d in self._added:
            return True
        i = bisect_left(self.keys, d)
        return i < len(self.keys) and self.keys[i] == d

    def __len__(self) -> int:
        return len(self.keys) + len(self._added)

    def save(self, path: Path) -> None:
        keys = array("Q", sorted(set(self.keys) | self._added))
        header = {"salt": self.salt.hex(), "rows": self.rows, "created": self.created, "name_form": NAME_FORM}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as f:
            f.write(MAGIC + json.dumps(header).encode() + b"\n" + keys.tobytes())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)


def load_staff(path: Path) -> StaffDirectory:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read the staff directory: {exc.strerror}") from exc
    try:
        if not data.startswith(MAGIC):
            raise ValueError("not a dlp-gateway staff directory")
        end = data.index(b"\n", len(MAGIC))
        header = json.loads(data[len(MAGIC) : end])
        if header.get("name_form") != NAME_FORM:
            raise ValueError("written by another release: run `dlp-gateway staff import` again")
        keys = array("Q")
        body = data[end + 1 :]
        if len(body) % keys.itemsize:
            raise ValueError("truncated")
        keys.frombytes(body)
        return StaffDirectory(bytes.fromhex(header["salt"]), int(header["rows"]), str(header["created"]), keys)
    except (ValueError, KeyError, TypeError) as exc:
        raise RegistryError(f"{path}: cannot read the staff directory: {exc}") from exc


@dataclass
class StaffImport:
    directory: StaffDirectory
    imported: int = 0
    skipped: list[int] = field(default_factory=list)  # line numbers without a name


def _columns(header: list[str]) -> dict[str, int]:
    keys = [name_key(h) for h in header]
    out: dict[str, int] = {}
    for column, spellings in COLUMNS.items():
        at = next((i for i, k in enumerate(keys) if k in spellings), None)
        if at is not None:
            out[column] = at
    return out


def import_staff_csv(path: Path, now: dt.datetime | None = None) -> StaffImport:
    raw = path.read_bytes()
    text = raw[3:].decode("utf-8") if raw.startswith(b"\xef\xbb\xbf") else decode(raw)[0]
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, [])
    cols = _columns(header)
    if "name" not in cols and "family" not in cols:
        found = ", ".join(header)
        raise RegistryError(f"{path}: no name column (a header such as name, 氏名 or 姓 and 名; header: {found})")
    created = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    result = StaffImport(StaffDirectory(created=created))

    def cell(values: list[str], column: str) -> str:
        at = cols.get(column)
        return values[at].strip() if at is not None and at < len(values) else ""

    for values in reader:
        name = cell(values, "name") or cell(values, "family") + cell(values, "given")
        kana = cell(values, "kana") or cell(values, "family_kana") + cell(values, "given_kana")
        if not name_key(name):
            result.skipped.append(reader.line_num)
            continue
        result.directory.add(name)
        if kana:
            result.directory.add(kana)
        result.imported += 1
    result.directory.rows = result.imported
    return result
