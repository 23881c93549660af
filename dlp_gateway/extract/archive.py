"""ZIP, gzip, tar, 7z and LZH members, read with bounds: declared sizes are checked before reading and actual
sizes while reading (headers can lie), so a zip bomb ends as Unscannable, not as an OOM."""

from __future__ import annotations

import contextlib
import gzip
import io
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, NamedTuple

import lhafile
import py7zr
import py7zr.exceptions
import py7zr.io

from dlp_gateway.errors import LimitExceededError
from dlp_gateway.extract.budget import Budget
from dlp_gateway.model import UnscannableKind
from dlp_gateway.parse.charsets import decode

CHUNK = 1 << 16


class Problem(NamedTuple):
    """Why a member was not read."""

    kind: UnscannableKind
    detail: str


ENCRYPTED = Problem(UnscannableKind.ENCRYPTED, "encrypted")


def _expands(limit: int) -> Problem:
    return Problem(UnscannableKind.EXPAND, f"archives expand to more than {limit} bytes")


@dataclass(frozen=True)
class Member:
    name: str
    data: bytes | None  # None: not read, see `problem`
    problem: Problem | None = None


def member_name(info: zipfile.ZipInfo) -> str:
    """ZIPs made on Japanese Windows store names in cp932 without the UTF-8 flag."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    return decode(raw)[0]


def _read_bounded(
    stream: IO[bytes] | gzip.GzipFile, compressed: int, budget: Budget, tail: bytes | None = None
) -> bytes:
    """The member, read under the budget. With `tail`, only what follows its first occurrence
    (and TAIL_MARGIN bytes before it), or nothing: the part of a 70 MB worksheet the page header
    and footer sit in, without holding the rest."""
    limits = budget.limits
    out = bytearray()
    size = 0
    while True:
        budget.check()
        chunk = stream.read(CHUNK)
        if not chunk:
            return bytes(out)
        size += len(chunk)
        out += chunk
        if tail is not None:
            at = out.find(tail)
            if at < 0:
                del out[: max(0, len(out) - len(tail) - TAIL_MARGIN)]  # (a marker across two chunks stays whole)
            else:
                del out[: max(0, at - TAIL_MARGIN)]
                tail = None
        budget.add_bytes(len(chunk))
        if compressed and size > 1 << 20 and size / compressed > limits.max_compression_ratio:
            raise LimitExceededError(
                f"compression ratio above {limits.max_compression_ratio} (zip bomb?)", UnscannableKind.COMPRESSION_RATIO
            )


TAIL_MARGIN = 16


def zip_members(
    data: bytes,
    budget: Budget,
    wanted: Callable[[str], bool] | None = None,
    tail: Callable[[str], bytes | None] = lambda _: None,
) -> Iterator[Member]:
    """Each member read under the budget's limits; with `wanted`, only the members it names; with
    `tail`, of a member it gives a marker for, only from the marker on (_read_bounded)."""
    limits = budget.limits
    archive = zipfile.ZipFile(io.BytesIO(data))
    infos = [i for i in archive.infolist() if not i.is_dir() and (wanted is None or wanted(member_name(i)))]
    if len(infos) > limits.max_archive_members:
        yield Member("", None, Problem(UnscannableKind.MORE_THAN, f"more than {limits.max_archive_members} members"))
        infos = infos[: limits.max_archive_members]
    for info in infos:
        name = member_name(info)
        if info.flag_bits & 0x1:
            yield Member(name, None, ENCRYPTED)
            continue
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1 << 20 and ratio > limits.max_compression_ratio:
            detail = f"compression ratio {ratio:.0f} above {limits.max_compression_ratio} (zip bomb?)"
            yield Member(name, None, Problem(UnscannableKind.COMPRESSION_RATIO, detail))
            continue
        if budget.decompressed + info.file_size > limits.max_decompressed_bytes:
            yield Member(name, None, _expands(limits.max_decompressed_bytes))
            continue
        try:
            with archive.open(info) as stream:
                yield Member(name, _read_bounded(stream, info.compress_size, budget, tail(name)))
        except LimitExceededError as exc:
            yield Member(name, None, Problem(exc.kind, str(exc)))
        except (zipfile.BadZipFile, NotImplementedError, EOFError, OSError, ValueError) as exc:
            yield Member(name, None, Problem(UnscannableKind.CORRUPT, f"corrupt: {type(exc).__name__}"))


def gunzip(data: bytes, budget: Budget) -> bytes:
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
        return _read_bounded(stream, len(data), budget)


def _checked(name: str, size: int, budget: Budget) -> Problem | None:
    """Why a member of `size` declared bytes is not read (None: read it), before reading it."""
    limits = budget.limits
    if budget.decompressed + size > limits.max_decompressed_bytes:
        return _expands(limits.max_decompressed_bytes)
    return None


def tar_members(data: bytes, budget: Budget) -> Iterator[Member]:
    """tar (tar.gz arrives here after gunzip): regular files only; declared sizes checked first."""
    limits = budget.limits
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        for n, info in enumerate(archive):
            if n >= limits.max_archive_members:
                yield Member(
                    "", None, Problem(UnscannableKind.MORE_THAN, f"more than {limits.max_archive_members} members")
                )
                return
            if not info.isfile():
                continue
            problem = _checked(info.name, info.size, budget)
            stream = archive.extractfile(info) if problem is None else None
            if stream is None:
                yield Member(info.name, None, problem or Problem(UnscannableKind.CORRUPT, "unreadable"))
                continue
            yield Member(info.name, _read_bounded(stream, 0, budget))


def sevenzip_members(data: bytes, budget: Budget) -> Iterator[Member]:
    """7z through py7zr: an encrypted archive is unscannable; declared sizes are checked before
    anything is decompressed, and py7zr stops at the remaining budget whatever the headers say."""
    limits = budget.limits
    try:
        archive = py7zr.SevenZipFile(io.BytesIO(data))
    except py7zr.exceptions.PasswordRequired:
        yield Member("", None, ENCRYPTED)
        return
    with archive:
        if archive.needs_password():
            yield Member("", None, ENCRYPTED)
            return
        infos = [i for i in archive.list() if not i.is_directory]
        if len(infos) > limits.max_archive_members:
            yield Member(
                "", None, Problem(UnscannableKind.MORE_THAN, f"more than {limits.max_archive_members} members")
            )
            return
        total = sum(int(i.uncompressed or 0) for i in infos)
        problem = _checked("", total, budget)
        if problem is not None:
            yield Member("", None, problem)
            return
        factory = _BoundedFactory(budget)
        archive.extractall(factory=factory)  # noqa: S202 - into memory (the factory), never to disk
        for name, product in factory.products.items():
            yield Member(name, product.getvalue())


class _BoundedIO(py7zr.io.Py7zIO):
    """One 7z member in memory. Every byte counts against the message's budget as it is written:
    headers can lie, and py7zr's own BytesIO would cut a member short without a word."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.buffer = io.BytesIO()

    def write(self, s: bytes | bytearray) -> int:
        self.budget.check()
        self.budget.add_bytes(len(s))  # raises LimitExceededError past the budget
        return self.buffer.write(s)

    def read(self, size: int | None = None) -> bytes:
        return self.buffer.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.buffer.seek(offset, whence)

    def flush(self) -> None:
        self.buffer.flush()

    def size(self) -> int:
        return self.buffer.getbuffer().nbytes

    def getvalue(self) -> bytes:
        return self.buffer.getvalue()


class _BoundedFactory(py7zr.io.WriterFactory):
    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.products: dict[str, _BoundedIO] = {}

    def create(self, filename: str) -> py7zr.io.Py7zIO:
        product = _BoundedIO(self.budget)
        self.products[filename] = product
        return product


def lzh_members(data: bytes, budget: Budget) -> Iterator[Member]:
    """LZH (LHA), still found in older Japanese offices, through lhafile."""
    archive = lhafile.Lhafile(io.BytesIO(data))
    for info in archive.infolist():
        budget.check()
        name = info.filename
        with contextlib.suppress(UnicodeEncodeError):  # names stored in cp932, read a byte a character
            name = decode(name.encode("latin-1"))[0]
        problem = _checked(name, int(info.file_size), budget)
        if problem is not None:
            yield Member(name, None, problem)
            continue
        content = archive.read(info.filename)
        budget.add_bytes(len(content))
        yield Member(name, content)
