"""Redaction: a copy of the message with each offending policy number and name masked
(81******89, 山田 **) in the subject, text and HTML bodies, and CSV and XLSX attachments.

Pure bytes → bytes. A record found where this cannot rewrite (PDF, DOCX, archives, forwarded
messages, unscannable content) raises NotRedactableError, and the rule's fallback applies. The
caller re-scans the result to prove the values are gone.
"""

from __future__ import annotations

import base64
import email
import email.generator
import email.header
import email.message
import email.policy
import io
from collections.abc import Callable

import openpyxl
import regex

from dlp_gateway.detect.normalize import DASH_CLASS
from dlp_gateway.errors import DlpError
from dlp_gateway.extract.delimited import decode_csv
from dlp_gateway.extract.sniff import sniff
from dlp_gateway.invisible import INVISIBLE_CLASS
from dlp_gateway.model import Record
from dlp_gateway.parse import charsets
from dlp_gateway.parse.mime import decode_header_value, leaf_nodes
from dlp_gateway.report import mask

_HIDDEN = INVISIBLE_CLASS + "*"  # a value split by zero-width characters is still masked whole
_SEP = _HIDDEN + rf"[{DASH_CLASS} \u3000]?" + _HIDDEN
_FULLWIDTH = {c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}
REWRITABLE = ("text", "html", "csv", "xlsx")


class NotRedactableError(DlpError):
    """Offending values sit where this version cannot rewrite them."""


def _char(c: str) -> str:
    alts = {c, c.lower(), c.upper()} | {_FULLWIDTH[x] for x in (c, c.lower(), c.upper()) if x in _FULLWIDTH}
    return "[" + "".join(regex.escape(a) for a in sorted(alts)) + "]"


def value_patterns(records: list[Record]) -> list[tuple[regex.Pattern[str], str]]:
    """Patterns that find each offending value however it was written, and its mask."""
    out = []
    for r in records:
        if r.policy_number:
            body = _SEP.join(_char(c) for c in r.policy_number)
            out.append((regex.compile(rf"(?<![0-9０-９]){body}(?![0-9０-９])"), mask(r.policy_number)))
        if r.name:
            parts = r.name.split(" ")
            body = (_HIDDEN + r"[ \u3000]?" + _HIDDEN).join(_HIDDEN.join(map(regex.escape, p)) for p in parts)
            out.append((regex.compile(body), mask(r.name)))
    # Longest first, so a number is masked whole before a shorter value could touch part of it.
    return sorted(out, key=lambda p: -len(p[0].pattern))


def _masker(patterns: list[tuple[regex.Pattern[str], str]]) -> Callable[[str], str]:
    def apply(text: str) -> str:
        for pattern, masked in patterns:
            text = pattern.sub(masked, text, timeout=1.0)
        return text

    return apply


def _set_base64(part: email.message.Message, data: bytes) -> None:
    del part["Content-Transfer-Encoding"]
    part["Content-Transfer-Encoding"] = "base64"
    part.set_payload(base64.encodebytes(data).decode("ascii"))


def _rewrite_text(part: email.message.Message, data: bytes, apply: Callable[[str], str]) -> None:
    text, _ = charsets.decode(data, part.get_content_charset())
    new = apply(text)
    if new != text:
        part.set_param("charset", "utf-8")
        _set_base64(part, new.encode("utf-8"))


def _rewrite_csv(part: email.message.Message, data: bytes, apply: Callable[[str], str]) -> None:
    text = decode_csv(data, part.get_content_charset())
    new = apply(text)
    if new != text:
        try:
            out = new.encode("cp932") if not data.startswith(b"\xef\xbb\xbf") else b"\xef\xbb\xbf" + new.encode()
        except UnicodeEncodeError:
            out = b"\xef\xbb\xbf" + new.encode()
        _set_base64(part, out)


def _rewrite_xlsx(part: email.message.Message, data: bytes, apply: Callable[[str], str]) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    changed = False
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None or isinstance(cell.value, (bool, float)) or not str(cell.value).strip():
                    continue
                new = apply(str(cell.value))
                if new != str(cell.value):
                    cell.value = new
                    changed = True
    if changed:
        buf = io.BytesIO()
        wb.save(buf)
        _set_base64(part, buf.getvalue())


_REWRITERS = {"text": _rewrite_text, "html": _rewrite_text, "csv": _rewrite_csv, "xlsx": _rewrite_xlsx}


def redact(raw: bytes, records: list[Record]) -> bytes:  # noqa: C901 - one branch per part kind that can be rewritten; the rest refuse
    """A copy of `raw` with the records' values masked; NotRedactableError if that is impossible."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    leaves = leaf_nodes(msg)
    locations = [loc for loc, _ in leaves]
    for r in records:
        if r.location.startswith("header:Subject"):
            continue
        owner = max((p for p in locations if r.location.startswith(p)), key=len, default=None)
        # Inside an attached message or an archive ("…fwd.eml/body", "…a.zip/list.csv"): not rewritable.
        if owner is None or "/" in owner or r.location[len(owner) :].startswith("/"):
            raise NotRedactableError(
                f"a record sits in {r.location.split('/')[0]}, inside content that cannot be rewritten"
            )
    apply = _masker(value_patterns(records))
    subject = msg.get("Subject")
    if subject is not None:
        text = decode_header_value(str(subject))
        new = apply(text)
        if new != text:
            msg.replace_header("Subject", email.header.Header(new, "utf-8").encode())
    for location, part in leaves:
        if "/" in location:
            continue  # inside an attached message: a record there was refused above
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes) or not data:
            continue
        kind = sniff(data, part.get_content_type(), part.get_filename())
        if kind in _REWRITERS:
            _REWRITERS[kind](part, data, apply)
        elif any(r.location.startswith(location) for r in records):
            raise NotRedactableError(f"{location} ({kind}) cannot be rewritten")
    buf = io.BytesIO()
    email.generator.BytesGenerator(buf, policy=email.policy.compat32.clone(linesep="\r\n")).flatten(msg)
    return buf.getvalue()
