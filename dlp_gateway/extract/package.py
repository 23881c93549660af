"""Every piece of text an Office package holds, by the crudest complete method: each text node of
each XML part of an OOXML (.docx/.xlsx/.pptx) or ODF (.odt/.ods/.odp) file.

The structured readers (word.py, spreadsheet.py) read the body as a person reads it: paragraphs,
tables, rows with their headers. A package holds text in more places, and a recipient sees it with
a click: comments and notes, headers and footers, footnotes, text boxes and shapes (grouped too),
speaker notes, tracked insertions and deletions, charts, SmartArt, pivot caches, document
properties. This reader takes every XML part but those that hold no text a person wrote (styles,
themes, settings, relationships) and those a structured reader reads whole (a workbook's cells),
and for the parts a structured reader read in part (a document's body, a slide) keeps only the
lines it did not already give. Files embedded in the package are handed back to be read like
attachments. Each line keeps its part as provenance: `…docx!word/comments.xml (comment)`.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from dlp_gateway.errors import LimitExceededError
from dlp_gateway.extract.archive import TAIL_MARGIN, Member, zip_members
from dlp_gateway.extract.budget import Budget
from dlp_gateway.extract.text import lines_segment
from dlp_gateway.model import Segment, Unscannable, UnscannableKind

# Elements whose text makes one line: OOXML paragraphs (w:p, a:p), shared and inline strings,
# a spreadsheet comment's text, ODF paragraphs and headings.
_PARAGRAPHS = frozenset({"p", "h", "si", "is", "text"})
# Elements that stand for white space inside a line.
_SPACES = frozenset({"tab", "br", "cr", "s", "line-break", "ptab"})
# In a pivot cache's records, each <r> is a source row: its values read as one line.
_PIVOT_RECORDS = _PARAGRAPHS | {"r"}
# Field codes (`HYPERLINK "…"`, `PAGE`) are instructions, not text the reader sees.
_NOT_TEXT = frozenset({"instrText", "delInstrText", "script", "binData"})
# Attributes that hold text: pivot cache items (<s v="山田 太郎"/>), ODF annotations' values.
_TEXT_ATTRIBUTES = {"s": "v", "m": "v"}
MAX_DEPTH = 256  # XML nested deeper than this is not an Office file a person made

_NO_TEXT_PART = re.compile(
    r"(^|/)(\[Content_Types\]\.xml|styles\.xml|stylesWithEffects\.xml|fontTable\.xml|settings\.xml|"
    r"webSettings\.xml|numbering\.xml|calcChain\.xml|manifest\.xml|meta-inf/manifest\.xml|"
    r"presProps\.xml|viewProps\.xml|tableStyles\.xml|commentsIds\.xml|commentsExtensible\.xml)$"
    r"|(^|/)theme/|(^|/)_rels/|\.rels$|(^|/)(slideMasters|slideLayouts|handoutMasters|notesMasters)/"
    r"|(^|/)customXml/itemProps|(^|/)printerSettings/|(^|/)Configurations2/",
    re.IGNORECASE,
)
# Read whole by the structured reader: every shared string a cell shows (calamine reads the cells).
_READ_WHOLE = re.compile(r"^xl/sharedStrings\.xml$", re.IGNORECASE)
# A worksheet's cells are calamine's; only its page header and footer are read here. They sit in
# one element after the cells: found by a byte search, not by parsing a 50 MB sheet again.
_SHEET = re.compile(r"^xl/worksheets/sheet\d+\.xml$", re.IGNORECASE)
_HEADER_FOOTER = re.compile(rb"<(?:\w+:)?headerFooter\b.*?</(?:\w+:)?headerFooter>", re.DOTALL)
_HF_PART = re.compile(rb"<(?:\w+:)?(?:odd|even|first)(?:Header|Footer)>(.*?)</", re.DOTALL)
# Excel's header codes: &L &C &R (sections), &P &N &D &T &F &A (fields), &"font,style", &12 (size).
_HF_CODES = re.compile(r'&(?:"[^"]*"|\d+|[LCRPNDTFABIUSEXYGK&])')
# Read in part by a structured reader: only lines it did not give are kept.
_READ_IN_PART = re.compile(r"^(word/document\.xml|ppt/slides/slide\d+\.xml|content\.xml)$", re.IGNORECASE)
_EMBEDDED = re.compile(r"(^|/)(embeddings|Object \d+)/|^Object \d+$", re.IGNORECASE)
_KINDS = (
    (re.compile(r"comment|annotation|threadedComment", re.IGNORECASE), "comment"),
    (re.compile(r"(^|/)header\d*\.xml$", re.IGNORECASE), "header"),
    (re.compile(r"(^|/)footer\d*\.xml$", re.IGNORECASE), "footer"),
    (re.compile(r"footnotes|endnotes", re.IGNORECASE), "footnote"),
    (re.compile(r"notesSlide", re.IGNORECASE), "speaker notes"),
    (re.compile(r"drawings?/|diagrams/|charts?/", re.IGNORECASE), "shape"),
    (re.compile(r"pivotCache", re.IGNORECASE), "pivot cache"),
    (re.compile(r"docProps/|meta\.xml$", re.IGNORECASE), "properties"),
    (_READ_IN_PART, "outside the body text: text boxes, tracked changes, grouped shapes"),
)


@dataclass(frozen=True)
class Embedded:
    """A file inside the package, to be read like an attachment."""

    location: str
    name: str
    data: bytes


def _local(tag: str) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


class _XmlText:
    """Every text node of an XML document, one line per paragraph (and per stray text node)."""

    def __init__(self, paragraphs: frozenset[str]) -> None:
        self.paragraphs = paragraphs
        self.out: list[str] = []

    def emit(self, text: str, pieces: list[str] | None) -> None:
        """Into the paragraph being built, or a line of its own outside any paragraph."""
        if pieces is not None:
            pieces.append(text)
        elif text.strip():
            self.out.append(text)

    def walk(self, element: ET.Element, line: list[str] | None, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise LimitExceededError(f"XML nested deeper than {MAX_DEPTH}", UnscannableKind.NESTED)
        name = _local(element.tag)
        own = [] if name in self.paragraphs else line
        if name in _SPACES and own is not None:
            own.append(" ")
        attribute = _TEXT_ATTRIBUTES.get(name)
        value = element.get(attribute) if attribute else None
        if value and value.strip():  # a pivot record's values make one line, like a table row
            self.emit(f" {value} " if own is not None else value, own)
        if element.text and name not in _NOT_TEXT:
            self.emit(element.text, own)
        for child in element:
            self.walk(child, own, depth + 1)
            if child.tail:
                self.emit(child.tail, own)
        if own is not None and own is not line:
            text = " ".join("".join(own).split())
            if text:
                self.out.append(text)


def xml_lines(data: bytes, paragraphs: frozenset[str] = _PARAGRAPHS) -> list[str]:
    """Every text node of an XML document, one line per paragraph (and per stray text node)."""
    root = ET.fromstring(data)  # noqa: S314 - expat resolves no external entities and caps expansion
    reader = _XmlText(paragraphs)
    reader.walk(root, None, 0)
    return [" ".join(line.split()) for line in reader.out]


def _sheet_tail(name: str) -> bytes | None:
    """Of a worksheet only its page header and footer are read here (the cells are the sheet
    reader's): the part from the element's name on."""
    return HEADER_FOOTER_TAG if _SHEET.match(name) else None


HEADER_FOOTER_TAG = b"headerFooter"


def sheet_header_footer(data: bytes) -> list[str]:
    """The page header and footer texts of a worksheet part, without Excel's codes."""
    start = data.find(HEADER_FOOTER_TAG)  # after the cells, if anywhere: found in C, not by the regex
    if start < 0:
        return []
    block = _HEADER_FOOTER.search(data, max(0, start - TAIL_MARGIN))  # (a namespace prefix before it)
    if block is None:
        return []
    out = []
    for raw in _HF_PART.findall(block.group(0)):
        text = _HF_CODES.sub(" ", html.unescape(raw.decode("utf-8", "replace")))
        if text.strip():
            out.append(" ".join(text.split()))
    return out


def sheet_tails(location: str, data: bytes, budget: Budget) -> list[Segment | Unscannable]:
    """The worksheets' page headers and footers (or why a worksheet part could not be read), for
    a workbook's reader to read while calamine reads the cells (package_text then leaves the
    worksheets out)."""
    out: list[Segment | Unscannable] = []
    for member in zip_members(data, budget, lambda name: _SHEET.match(name) is not None, _sheet_tail):
        budget.check()
        out += _sheet_tail_of(f"{location}!{member.name}", member)
    return out


def _sheet_tail_of(where: str, member: Member) -> list[Segment | Unscannable]:
    if member.data is None:
        return [Unscannable(where, *(member.problem or (UnscannableKind.CORRUPT, "unreadable")))]
    lines = sheet_header_footer(member.data)
    return [lines_segment(f"{where} (page header or footer)", lines)] if lines else []


def _kind(part: str) -> str:
    return next((label for pattern, label in _KINDS if pattern.search(part)), "package part")


def _wanted(name: str) -> bool:
    if _EMBEDDED.search(name):
        return True
    return name.lower().endswith(".xml") and not _NO_TEXT_PART.search(name) and not _READ_WHOLE.match(name)


def seen_text(segments: Iterable[Segment]) -> set[str]:
    """What the structured reader gave: each line, each cell, each cell's value after its header."""
    seen: set[str] = set()
    for seg in segments:
        for line in seg.lines:
            seen.add(" ".join(line.split()))
            for raw in line.split("\t"):
                cell = " ".join(raw.split())
                seen.add(cell)
                seen.add(cell.partition(":")[2].strip())
    return seen


def package_text(
    location: str, data: bytes, budget: Budget, read: Sequence[Segment], sheets: bool = True
) -> Iterator[Segment | Embedded | Unscannable]:
    """Segments for the text outside the structured reader's (`read`), the embedded files, and
    an Unscannable for a part that could not be read; without `sheets`, the worksheets' tails are
    left to the reader (sheet_tails)."""
    seen: set[str] | None = None  # seen_text(read), made only for a part read in part: a workbook
    # has none, and the set of a 150,000-row list's lines and cells took 0.5 s to make for nothing.
    wanted = _wanted if sheets else lambda name: _wanted(name) and not _SHEET.match(name)
    for member in zip_members(data, budget, wanted, _sheet_tail):
        budget.check()
        where = f"{location}!{member.name}"
        if _SHEET.match(member.name):
            yield from _sheet_tail_of(where, member)
            continue
        if member.data is None:
            yield Unscannable(where, *(member.problem or (UnscannableKind.CORRUPT, "unreadable")))
            continue
        if _EMBEDDED.search(member.name):
            yield Embedded(where, member.name.rsplit("/", 1)[-1], member.data)
            continue
        try:
            lines = xml_lines(member.data, _PIVOT_RECORDS if "pivotCacheRecords" in member.name else _PARAGRAPHS)
        except ET.ParseError:
            yield Unscannable(where, UnscannableKind.CORRUPT, "corrupt XML")
            continue
        if _READ_IN_PART.match(member.name):
            seen = seen_text(read) if seen is None else seen
            lines = [line for line in lines if line not in seen]
        if lines:
            yield lines_segment(f"{where} ({_kind(member.name)})", lines)
