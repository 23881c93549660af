"""Raw message bytes → Message: headers decoded (RFC 2047, 8-bit), leaf parts decoded to text.

compat32 is used on purpose: the modern email policy decodes headers itself and turns bytes
it cannot decode into U+FFFD, which would hide customer data from the detectors.
"""

from __future__ import annotations

import email
import email.header
import email.message
import email.policy

from dlp_gateway.model import Message, Part, Unscannable
from dlp_gateway.parse import charsets

TEXT_TYPES = ("text/plain", "text/html", "text/csv", "text/tab-separated-values")


def _raw_bytes(value: str) -> bytes:
    return value.encode("ascii", "surrogateescape")


def decode_header_value(value: str) -> str:
    """Decode a raw header value: encoded words (RFC 2047) and raw 8-bit bytes."""
    raw = _raw_bytes(str(value))
    if any(b >= 0x80 for b in raw) or b"\x1b" in raw:
        return charsets.decode(raw)[0]
    unfolded = str(value).replace("\r\n", "").replace("\n", "")
    if "=?" not in unfolded:
        return unfolded
    try:
        chunks = email.header.decode_header(unfolded)
    except (ValueError, email.errors.HeaderParseError):
        return unfolded
    out = []
    for chunk, label in chunks:
        if isinstance(chunk, str):
            out.append(chunk)
        else:
            out.append(charsets.decode(chunk, label)[0])
    return "".join(out)


def _filename(part: email.message.Message) -> str | None:
    name = part.get_filename()  # RFC 2231 is decoded here; RFC 2047 is not
    if name is None:
        return None
    return decode_header_value(name) if not isinstance(name, str) or "=?" in name else name


def _html_or_text(part: email.message.Message, payload: bytes) -> str:
    return charsets.decode(payload, part.get_content_charset())[0]


def parse_message(raw: bytes) -> tuple[Message, tuple[Unscannable, ...]]:
    """Parse `raw`; content this version cannot read is returned as Unscannable, never dropped."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    headers = tuple((k, decode_header_value(v)) for k, v in msg.items())
    parts: list[Part] = []
    unscannable: list[Unscannable] = []
    defects = [type(d).__name__ for d in msg.defects]
    body_n = att_n = 0
    for part in msg.walk():
        defects += [type(d).__name__ for d in part.defects]
        if part.is_multipart() or part.get_content_maintype() == "message":
            continue
        ctype = part.get_content_type()
        filename = _filename(part)
        is_attachment = filename is not None or part.get_content_disposition() == "attachment"
        if is_attachment:
            location = f"attachment[{att_n}]:{filename or 'unnamed'}"
            att_n += 1
        else:
            location = "body" if body_n == 0 else f"body[{body_n}]"
            body_n += 1
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            payload = b""
        if ctype in TEXT_TYPES or (ctype.startswith("text/") and not is_attachment):
            parts.append(Part(location, ctype, filename, _html_or_text(part, payload)))
        elif part.get_content_maintype() == "image" or not payload:
            # Images carry no text we can read (no OCR); empty parts carry nothing at all.
            parts.append(Part(location, ctype, filename, None))
        else:
            parts.append(Part(location, ctype, filename, None))
            unscannable.append(Unscannable(location, f"unsupported content type {ctype}"))
    subject = next((v for k, v in headers if k.lower() == "subject"), "")
    return Message(headers, subject, tuple(parts), tuple(defects)), tuple(unscannable)
