"""Message → text Segments with provenance, and Unscannable items for what cannot be read.

Every part is sniffed (bytes first, labels second), read by the matching reader under the
message's Budget, and any failure becomes an Unscannable with a reason — never an exception
out of this stage and never a silent skip.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import math
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from dlp_gateway.errors import EncryptedError, LimitExceededError, ScanTimeoutError
from dlp_gateway.extract import archive
from dlp_gateway.extract.budget import Budget, ExtractLimits
from dlp_gateway.extract.delimited import csv_segment
from dlp_gateway.extract.outlook import outlook_items
from dlp_gateway.extract.package import Embedded, package_text
from dlp_gateway.extract.sniff import sniff
from dlp_gateway.extract.table_lines import lines_have_invisible, text_length
from dlp_gateway.extract.text import html_segment, text_segment
from dlp_gateway.extract.wrappers import directory_segment, rtf_segment
from dlp_gateway.invisible import strip_invisible
from dlp_gateway.model import Message, Part, Segment, Unscannable, UnscannableKind
from dlp_gateway.parse import charsets
from dlp_gateway.parse.mime import MimeLimits, parse_message

log = logging.getLogger(__name__)
CORRUPT = UnscannableKind.CORRUPT
# Document readers, imported on first use: (module, function) per sniffed kind.
_READERS = {
    "xlsx": ("spreadsheet", "spreadsheet_segments"),
    "xls": ("spreadsheet", "spreadsheet_segments"),
    "docx": ("word", "docx_segments"),
    "pptx": ("word", "pptx_segments"),
    "pdf": ("pdf", "pdf_segments"),
    "ods": ("spreadsheet", "spreadsheet_segments"),
}
# Office packages (ZIP of XML parts): after the structured reader, package.py reads every other
# text node and hands back embedded files. ODF text and slides have no structured reader.
_PACKAGES = frozenset({"xlsx", "docx", "pptx", "ods", "odt", "odp"})


@dataclass
class _Extraction:
    budget: Budget
    mime: MimeLimits
    segments: list[Segment] = field(default_factory=list)
    unscannable: list[Unscannable] = field(default_factory=list)
    stopped: bool = False

    def add(self, segments: list[Segment]) -> None:
        for seg in segments:
            self.budget.add_text(text_length(seg.lines))
            if lines_have_invisible(seg.lines):  # one normalisation, before every detector
                self.segments.append(dataclasses.replace(seg, lines=tuple(map(strip_invisible, seg.lines))))
            else:
                self.segments.append(seg)

    def message(self, message: Message, depth: int) -> None:
        self.add([Segment(loc, (text,), kind="header") for loc, text in message.inner_subjects])
        for part in message.parts:
            if self.stopped:
                return
            self.part(part.location, part.payload, part.content_type, part.filename, part, depth)

    def file_name(self, location: str, name: str | None) -> None:
        """A file's name is text the recipient reads (「山田太郎様_更改.xlsx」), even when its
        content cannot be opened (an encrypted archive still lists its members)."""
        if name and name.strip():
            self.add([Segment(f"{location} (file name)", (name,), kind="header")])

    def part(self, location: str, data: bytes, ctype: str, filename: str | None, part: Part | None, depth: int) -> None:
        self.file_name(location, filename)
        kind = sniff(data, ctype, filename)
        self.budget.start_part()
        try:
            self.read(kind, location, data, part, depth)
        except LimitExceededError as exc:
            self.unscannable.append(Unscannable(location, exc.kind, str(exc)))
            self.stopped = self.stopped or exc.message_wide
        except EncryptedError:
            self.unscannable.append(Unscannable(location, UnscannableKind.ENCRYPTED))
        except ScanTimeoutError:
            raise  # the whole scan is over, not just this part
        except Exception as exc:  # noqa: BLE001 - third-party readers raise anything on corrupt input
            log.info("unreadable part kind=%s error=%s", kind, type(exc).__name__)
            self.unscannable.append(Unscannable(location, CORRUPT, f"corrupt {kind}: {type(exc).__name__}"))

    def read(self, kind: str, location: str, data: bytes, part: Part | None, depth: int) -> None:
        if kind in ("text", "html", "csv"):
            self.text(kind, location, data, part)
        elif kind == "rtf":
            self.add([rtf_segment(location, data)])
        elif kind == "directory":
            self.add([directory_segment(location, data, part.charset if part else None)])
        elif kind in _READERS or kind in _PACKAGES:
            self.document(kind, location, data, depth)
        elif kind in ("zip", "gzip", "tar", "7z", "lzh"):
            self.archive(kind, location, data, depth)
        elif kind in ("tnef", "msg"):
            self.take(outlook_items(kind, location, data, self.budget), depth)
        elif kind == "eml":
            self.attached_message(location, data, depth)
        elif kind == "encrypted":
            self.unscannable.append(Unscannable(location, UnscannableKind.ENCRYPTED))
        elif kind not in ("image", "media", "empty"):  # those have no text to read (no OCR, no speech)
            label = part.content_type if part else "archive member"
            self.unscannable.append(
                Unscannable(location, UnscannableKind.UNSUPPORTED, f"unsupported content ({kind}, {label})")
            )

    def text(self, kind: str, location: str, data: bytes, part: Part | None) -> None:
        label = part.charset if part else None
        flowed = part is not None and (part.param("format") or "").lower() == "flowed"
        delsp = part is not None and (part.param("delsp") or "").lower() == "yes"
        text, codec = charsets.decode(data, label)
        # A guessed decoding is read a second way too: every plausible reading is inspected.
        readings = [(location, text), (f"{location} (read as UTF-8)", charsets.other_reading(data, codec))]
        for where, reading in readings:
            if reading is None:
                continue
            if kind == "text":
                self.add([text_segment(where, reading, flowed=flowed, delsp=delsp)])
            elif kind == "html":
                self.add([html_segment(where, reading)])
            else:
                self.add([csv_segment(where, data, label, self.budget, reading)])

    def document(self, kind: str, location: str, data: bytes, depth: int) -> None:
        """Office, ODF and PDF: the structured reader, then every other text node of the package."""
        segments: list[Segment] = []
        if kind in _READERS:
            module, function = _READERS[kind]
            reader = getattr(importlib.import_module(f"dlp_gateway.extract.{module}"), function)
            items = reader(location, data, self.budget)
            segments = [i for i in items if isinstance(i, Segment)]
            self.take(items, depth)
        if kind in _PACKAGES:  # (the workbook reader reads what follows its sheets' cells too)
            sheets = _READERS.get(kind, ("",))[0] != "spreadsheet"
            self.take(package_text(location, data, self.budget, segments, sheets=sheets), depth)

    def attached_message(self, location: str, data: bytes, depth: int) -> None:
        inner, problems = parse_message(data, self.mime)
        self.unscannable += [Unscannable(f"{location}/{u.location}", u.kind, u.detail) for u in problems]
        if inner.subject:
            self.add([Segment(f"{location}/header:Subject", (inner.subject,), kind="header")])
        nested = Message(
            inner.headers,
            inner.subject,
            tuple(_prefixed(p, f"{location}/") for p in inner.parts),
            inner.defects,
            tuple((f"{location}/{loc}", t) for loc, t in inner.inner_subjects),
        )
        self.message(nested, depth + 1)

    def take(self, items: Iterable[Segment | Embedded | Unscannable], depth: int) -> None:
        """A reader's output: text, files embedded in the document (read like attachments), and
        (location, reason) for what it could not read."""
        for item in items:
            if isinstance(item, Segment):
                self.add([item])
            elif isinstance(item, Embedded):
                if depth + 1 >= self.budget.limits.max_archive_depth:
                    self.unscannable.append(
                        Unscannable(item.location, UnscannableKind.NESTED, "embedded files nested too deep")
                    )
                elif not self.stopped:
                    self.part(item.location, item.data, "application/octet-stream", item.name, None, depth + 1)
            else:
                self.unscannable.append(item)

    def archive(self, kind: str, location: str, data: bytes, depth: int) -> None:
        limits = self.budget.limits
        if depth >= limits.max_archive_depth:
            self.unscannable.append(
                Unscannable(location, UnscannableKind.NESTED, f"archives nested deeper than {limits.max_archive_depth}")
            )
            return
        if kind == "gzip":
            try:
                inner = archive.gunzip(data, self.budget)
            except (OSError, EOFError, zlib.error) as exc:
                self.unscannable.append(Unscannable(location, CORRUPT, f"corrupt gzip: {type(exc).__name__}"))
                return
            name = location.rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".gz").removesuffix(".gzip")
            self.part(f"{location}/{name or 'content'}", inner, "application/octet-stream", name, None, depth + 1)
            return
        reader = {"zip": archive.zip_members, "tar": archive.tar_members, "7z": archive.sevenzip_members}
        try:
            members = list(reader.get(kind, archive.lzh_members)(data, self.budget))
        except LimitExceededError:
            raise
        except Exception as exc:  # noqa: BLE001 - each library raises its own types on a corrupt archive
            self.unscannable.append(Unscannable(location, CORRUPT, f"corrupt {kind}: {type(exc).__name__}"))
            return
        for m in members:
            where = f"{location}/{m.name}" if m.name else location
            if m.data is None:
                self.file_name(where, m.name)
                self.unscannable.append(Unscannable(where, *(m.problem or (CORRUPT, "unreadable"))))
            elif not self.stopped:
                self.part(where, m.data, "application/octet-stream", m.name, None, depth + 1)


def _prefixed(part: Part, prefix: str) -> Part:
    return Part(prefix + part.location, part.content_type, part.filename, part.charset, part.payload, part.params)


def extract(
    message: Message,
    limits: ExtractLimits | None = None,
    mime: MimeLimits | None = None,
    deadline: float = math.inf,
) -> tuple[tuple[Segment, ...], tuple[Unscannable, ...]]:
    """Segments and unscannable parts; raises ScanTimeoutError once time.monotonic() passes `deadline`."""
    ex = _Extraction(Budget(limits or ExtractLimits(), deadline), mime or MimeLimits())
    try:
        ex.add([Segment("header:Subject", (message.subject,), kind="header")])
        ex.message(message, 0)
    except LimitExceededError as exc:
        ex.unscannable.append(Unscannable("message", exc.kind, str(exc)))
    return tuple(ex.segments), tuple(ex.unscannable)
