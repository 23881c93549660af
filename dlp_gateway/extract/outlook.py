"""Outlook's own containers: TNEF (`winmail.dat`, what Exchange sends when it keeps Outlook's rich
text) through tnefparse, and Outlook items attached as `.msg` through extract-msg. Each gives its
subject, bodies (plain, HTML, RTF) as text and its attachments back to be read like attachments, so
a list inside `winmail.dat` is decided per recipient instead of held whole."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import extract_msg
import tnefparse

from dlp_gateway.extract.budget import Budget
from dlp_gateway.extract.html import html_to_lines
from dlp_gateway.extract.package import Embedded
from dlp_gateway.extract.text import lines_segment
from dlp_gateway.extract.wrappers import rtf_segment
from dlp_gateway.model import Segment, Unscannable, UnscannableKind
from dlp_gateway.parse import charsets

Item = Segment | Embedded | Unscannable
MAX_NESTING = 3  # an item attached to an item attached to an item

# extract-msg logs every unusual property at WARNING; the outcome is in the report.
logging.getLogger("extract_msg").setLevel(logging.ERROR)
logging.getLogger("tnefparse").setLevel(logging.ERROR)


def _text(value: Any, codepage: str | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return charsets.decode(value, codepage)[0]
    return str(value)


def _bodies(location: str, subject: str, plain: Any, html: Any, rtf: Any) -> Iterator[Segment]:
    """The subject and each form of the body. Outlook keeps one body in up to three forms (and
    extract-msg makes HTML from plain text when there is none): a form whose text is the same as
    one already read is not read again — one customer, one record — and a form that differs (text
    only the HTML or the RTF holds) is read."""
    if subject.strip():
        yield Segment(f"{location}/header:Subject", (subject,), kind="header")
    seen: set[str] = set()
    forms = [
        lines_segment(f"{location}/body", _text(plain).replace("\r\n", "\n").split("\n"))
        if _text(plain).strip()
        else None,
        lines_segment(f"{location}/body.html", html_to_lines(_text(html))) if _text(html).strip() else None,
        rtf_segment(f"{location}/body.rtf", rtf) if isinstance(rtf, bytes) and rtf.strip() else None,
    ]
    for form in forms:
        if form is None:
            continue
        key = "".join("".join(form.lines).split())
        if key and key not in seen:
            seen.add(key)
            yield form


def outlook_items(kind: str, location: str, data: bytes, budget: Budget) -> Iterator[Item]:
    if kind == "tnef":
        yield from _tnef(tnefparse.TNEF(data), location, budget, 0)
    else:
        msg = extract_msg.openMsg(data, delayAttachments=False)
        try:
            yield from _msg(msg, location, budget, 0)
        finally:
            msg.close()


def _tnef(tnef: Any, location: str, budget: Budget, depth: int) -> Iterator[Item]:
    budget.check()
    subject = next((_text(a.data) for a in tnef.msgprops if a.name == tnefparse.TNEF.ATTSUBJECT), "")
    yield from _bodies(location, subject, tnef.body, tnef.htmlbody, tnef.rtfbody)
    for n, att in enumerate(tnef.attachments):
        name = _tnef_name(att) or f"attachment {n + 1}"
        where = f"{location}/{name}"
        embedded = getattr(att, "embed", None)
        if embedded is not None:
            yield from (
                _tnef(embedded, where, budget, depth + 1)
                if depth < MAX_NESTING
                else [Unscannable(where, UnscannableKind.NESTED, "nested too deep")]
            )
        elif att.data:
            budget.add_bytes(len(att.data))
            yield Embedded(where, name, bytes(att.data))


def _tnef_name(att: Any) -> str:
    """tnefparse decodes a short name as UTF-8; Japanese Outlook writes it in the code page."""
    try:
        return _text(att.long_filename())
    except UnicodeDecodeError:
        raw = getattr(att, "_name", b"") or b""
        return charsets.decode(bytes(raw).rstrip(b"\x00"))[0]


def _msg(msg: Any, location: str, budget: Budget, depth: int) -> Iterator[Item]:
    budget.check()
    header = [f"From: {_text(msg.sender)}", f"To: {_text(msg.to)}", f"Cc: {_text(msg.cc)}"]
    yield Segment(f"{location}/headers", tuple(header), kind="text")
    rtf = None
    try:
        rtf = msg.rtfBody
    except Exception:  # noqa: BLE001 - a damaged RTF stream: the plain and HTML bodies still read
        yield Unscannable(f"{location}/body.rtf", UnscannableKind.CORRUPT, "corrupt RTF body")
    yield from _bodies(location, _text(msg.subject), msg.body, msg.htmlBody, rtf)
    for n, att in enumerate(msg.attachments):
        name = _text(att.longFilename or att.shortFilename or att.displayName) or f"attachment {n + 1}"
        where = f"{location}/{name}"
        content = att.data
        if isinstance(content, bytes):
            budget.add_bytes(len(content))
            yield Embedded(where, name, content)
        elif content is not None and hasattr(content, "attachments"):  # an item attached to the item
            yield from (
                _msg(content, where, budget, depth + 1)
                if depth < MAX_NESTING
                else [Unscannable(where, UnscannableKind.NESTED, "nested too deep")]
            )
        else:
            yield Unscannable(where, UnscannableKind.UNSUPPORTED, "unsupported attachment in the Outlook item")
