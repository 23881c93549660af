"""Text inside a wrapper, unwrapped before any detector reads it: RTF (escapes `\\'xx` in the
document's code page, `\\uN`), vCard and iCalendar (folded lines, quoted-printable values with
their own charset, `\\n` `\\,` `\\;` escapes). Read raw, their names and numbers are invisible.
"""

from __future__ import annotations

import quopri
import re

from striprtf.striprtf import rtf_to_text

from dlp_gateway.extract.text import lines_segment
from dlp_gateway.model import Segment
from dlp_gateway.parse import charsets

_CODEPAGE = re.compile(rb"\\ansicpg(\d{3,5})")


def rtf_segment(location: str, data: bytes) -> Segment:
    """RTF is 7-bit: its non-ASCII text is `\\'xx` bytes in the code page `\\ansicpg` names
    (Japanese Word writes 932), or `\\uN` code points."""
    m = _CODEPAGE.search(data[:4096])
    codec = charsets.codec_for(f"cp{m.group(1).decode()}") if m else None
    if codec is None:
        codec = "cp932" if b"\\fcharset128" in data[:8192] else "cp1252"
    text = rtf_to_text(data.decode("latin-1"), encoding=codec, errors="replace")  # type: ignore[no-untyped-call]
    return lines_segment(location, text.replace("\r\n", "\n").split("\n"))


_FOLD = re.compile(r"\r?\n[ \t]")  # RFC 6350/5545: a line break and one space or tab continue a line
_QP_SOFT = re.compile(r"=\r?\n")  # vCard 2.1 quoted-printable: `=` at the end continues the value
_PARAM = re.compile(r";([A-Za-z-]+)=(\"[^\"]*\"|[^;:]*)")
_ESCAPES = re.compile(r"\\([nN,;\\:])")


def _unescape(value: str) -> str:
    return _ESCAPES.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def directory_segment(location: str, data: bytes, label: str | None) -> Segment:
    """vCard (.vcf) and iCalendar (.ics): one line per property, `NAME: value`, values decoded.
    A structured name (`N:山田;太郎;;;`) reads as `山田 太郎`."""
    text, _ = charsets.decode(data, label)
    text = _FOLD.sub("", text.replace("\r\n", "\n"))
    lines: list[str] = []
    physical = text.split("\n")
    i = 0
    while i < len(physical):
        line = physical[i]
        i += 1
        head, sep, value = line.partition(":")
        if not sep:
            if line.strip():
                lines.append(line)
            continue
        params = {k.upper(): v.strip('"') for k, v in _PARAM.findall(head)}
        is_qp = params.get("ENCODING", "").upper() in ("QUOTED-PRINTABLE", "QP") or "QUOTED-PRINTABLE" in head.upper()
        if is_qp:
            while value.endswith("=") and i < len(physical):  # a soft line break: the value goes on
                value = value[:-1] + physical[i]
                i += 1
            raw = quopri.decodestring(_QP_SOFT.sub("", value).encode("latin-1", "replace"))
            value = charsets.decode(raw, params.get("CHARSET"))[0]
        elif params.get("ENCODING", "").upper() in ("B", "BASE64"):
            continue  # a photo or a key, not text
        name = head.split(";", 1)[0].split(".")[-1].upper()
        value = _unescape(value)
        if name in ("N", "ADR", "ORG"):
            value = " ".join(p for p in re.split(r"(?<!\\);", value) if p.strip())
        for piece in value.split("\n"):
            lines.append(f"{name}: {piece}" if piece.strip() else "")
    return lines_segment(location, lines)
