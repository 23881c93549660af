"""ZIP and gzip members, read with bounds: declared sizes are checked before reading and actual
sizes while reading (headers can lie), so a zip bomb ends as Unscannable, not as an OOM."""

from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from dlp_gateway.errors import LimitExceededError
from dlp_gateway.extract.budget import Budget
from dlp_gateway.parse.charsets import decode

CHUNK = 1 << 16


@dataclass(frozen=True)
class Member:
    name: str
    data: bytes | None  # None: not read, see `problem`
    problem: str | None = None


def member_name(info: zipfile.ZipInfo) -> str:
    """ZIPs made on Japanese Windows store names in cp932 without the UTF-8 flag."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    return decode(raw)[0]


def _read_bounded(stream: IO[bytes] | gzip.GzipFile, compressed: int, budget: Budget) -> bytes:
    limits = budget.limits
    out = bytearray()
    while True:
        budget.check()
        chunk = stream.read(CHUNK)
        if not chunk:
            return bytes(out)
        out += chunk
        budget.add_bytes(len(chunk))
        if compressed and len(out) > 1 << 20 and len(out) / compressed > limits.max_compression_ratio:
            raise LimitExceededError(f"compression ratio above {limits.max_compression_ratio} (zip bomb?)")


def zip_members(data: bytes, budget: Budget, wanted: Callable[[str], bool] | None = None) -> Iterator[Member]:
    """Each member read under the budget's limits; with `wanted`, only the members it names."""
    limits = budget.limits
    archive = zipfile.ZipFile(io.BytesIO(data))
    infos = [i for i in archive.infolist() if not i.is_dir() and (wanted is None or wanted(member_name(i)))]
    if len(infos) > limits.max_archive_members:
        yield Member("", None, f"more than {limits.max_archive_members} members")
        infos = infos[: limits.max_archive_members]
    for info in infos:
        name = member_name(info)
        if info.flag_bits & 0x1:
            yield Member(name, None, "encrypted")
            continue
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1 << 20 and ratio > limits.max_compression_ratio:
            yield Member(name, None, f"compression ratio {ratio:.0f} above {limits.max_compression_ratio} (zip bomb?)")
            continue
        if budget.decompressed + info.file_size > limits.max_decompressed_bytes:
            yield Member(name, None, f"archives expand to more than {limits.max_decompressed_bytes} bytes")
            continue
        try:
            with archive.open(info) as stream:
                yield Member(name, _read_bounded(stream, info.compress_size, budget))
        except LimitExceededError as exc:
            yield Member(name, None, str(exc))
        except (zipfile.BadZipFile, NotImplementedError, EOFError, OSError, ValueError) as exc:
            yield Member(name, None, f"corrupt: {type(exc).__name__}")


def gunzip(data: bytes, budget: Budget) -> bytes:
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
        return _read_bounded(stream, len(data), budget)
