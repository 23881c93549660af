"""Raw message bytes → Message: headers decoded (RFC 2047, 8-bit), MIME tree walked, leaf parts
transfer-decoded to bytes. Attached messages (message/rfc822) are walked recursively.

compat32 is used on purpose: the modern email policy decodes headers itself and turns bytes
it cannot decode into U+FFFD, which would hide customer data from the detectors.
"""

from __future__ import annotations

import base64
import email
import email.errors
import email.header
import email.message
import email.parser
import email.policy
import quopri
import re
from dataclasses import dataclass, field

import regex

from dlp_gateway.model import Message, Part, Unscannable
from dlp_gateway.parse import charsets


@dataclass(frozen=True)
class MimeLimits:
    max_depth: int = 20
    max_parts: int = 1000


def decode_header_value(value: str) -> str:
    """Decode a raw header value: encoded words (RFC 2047) and raw 8-bit bytes."""
    text = str(value)
    # compat32 hands raw 8-bit header bytes over as surrogate escapes; text that is already
    # decoded (RFC 2231 filenames) has real non-ASCII characters instead.
    if "\x1b" in text or _has_raw_8bit(text):
        text = charsets.decode(text.encode("utf-8", "surrogateescape"))[0]
    unfolded = text.replace("\r\n", "").replace("\n", "")
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
        elif label is None:
            out.append(chunk.decode("raw-unicode-escape"))  # decode_header's form of the plain text
        else:
            out.append(charsets.decode(chunk, label)[0])
    return "".join(out)


_RAW_NAME = regex.compile(r"""\b(?:file)?name\s*=\s*(?:"([^"]*)"|([^;\s]+))""", regex.IGNORECASE)


_RAW_8BIT = re.compile("[\udc80-\udcff]")  # bytes ≥ 0x80 as compat32 keeps them (surrogateescape)


def _has_raw_8bit(value: str) -> bool:
    return _RAW_8BIT.search(value) is not None


def _filename(part: email.message.Message) -> str | None:
    # Raw 8-bit filenames ("資料.zip" in UTF-8 or cp932, unencoded) are common; compat32 would turn
    # them into U+FFFD, so they are read from the raw header and decoded here.
    for header in ("content-disposition", "content-type"):
        for name, raw in part.raw_items():
            if name.lower() == header and _has_raw_8bit(str(raw)):
                m = _RAW_NAME.search(decode_header_value(str(raw)))
                if m:
                    return m.group(1) if m.group(1) is not None else m.group(2)
    try:
        filename = part.get_filename()  # RFC 2231 is decoded here; RFC 2047 is not
    except (ValueError, LookupError, TypeError):
        filename = None
    return None if filename is None else decode_header_value(str(filename))


def _encoded_inner(payload: object, cte: str) -> bytes:
    inner = payload[0] if isinstance(payload, list) and payload else payload
    text = inner.as_string() if isinstance(inner, email.message.Message) else str(inner or "")
    raw = text.encode("utf-8", "surrogateescape")
    try:
        return base64.b64decode(raw) if cte == "base64" else quopri.decodestring(raw)
    except ValueError:
        return raw


@dataclass
class _Walk:
    limits: MimeLimits
    parts: list[Part] = field(default_factory=list)
    unscannable: list[Unscannable] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    subjects: list[tuple[str, str]] = field(default_factory=list)
    nodes: list[tuple[str, email.message.Message]] = field(default_factory=list)  # leaf part objects
    seen: int = 0

    def message(self, msg: email.message.Message, prefix: str, depth: int) -> None:
        counters = {"body": 0, "attachment": 0}
        self.node(msg, prefix, depth, counters)

    def node(self, part: email.message.Message, prefix: str, depth: int, counters: dict[str, int]) -> None:
        self.seen += 1
        self.defects += [type(d).__name__ for d in part.defects]
        where = prefix.rstrip("/") or "message"
        if self.seen > self.limits.max_parts:
            if self.seen == self.limits.max_parts + 1:
                self.unscannable.append(Unscannable(where, f"more than {self.limits.max_parts} MIME parts"))
            return
        if depth > self.limits.max_depth:
            self.unscannable.append(Unscannable(where, f"MIME nesting deeper than {self.limits.max_depth}"))
            return
        ctype = part.get_content_type()
        filename = _filename(part)
        payload = part.get_payload()
        if part.is_multipart() and isinstance(payload, list) and ctype != "message/rfc822":
            for child in payload:
                if isinstance(child, email.message.Message):
                    self.node(child, prefix, depth + 1, counters)
            return
        is_attachment = filename is not None or part.get_content_disposition() == "attachment"
        if is_attachment:
            location = f"{prefix}attachment[{counters['attachment']}]:{filename or 'unnamed'}"
            counters["attachment"] += 1
        else:
            n = counters["body"]
            location = f"{prefix}body" if n == 0 else f"{prefix}body[{n}]"
            counters["body"] += 1
        cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        if ctype == "message/rfc822" and cte in ("base64", "quoted-printable"):
            # Not allowed by RFC 2046, sent anyway: compat32 would parse the encoded text as a
            # message. Decode it and let extract parse the real message.
            self.parts.append(Part(location, ctype, filename, None, _encoded_inner(payload, cte)))
            self.nodes.append((location, part))
            return
        if ctype == "message/rfc822" and isinstance(payload, list):
            for inner in payload:
                if isinstance(inner, email.message.Message):
                    subject = inner.get("Subject")
                    if subject:
                        self.subjects.append((f"{location}/header:Subject", decode_header_value(str(subject))))
                    self.message(inner, f"{location}/", depth + 1)
            return
        try:
            data = part.get_payload(decode=True)
        except (ValueError, LookupError, TypeError):
            data = None
        if not isinstance(data, bytes):
            raw = part.get_payload()
            data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
        params = tuple((k.lower(), str(v)) for k, v in part.get_params(failobj=[])[1:] if k.lower() != "charset")
        try:
            charset = part.get_content_charset()
        except (ValueError, LookupError):
            charset = None
        self.parts.append(Part(location, ctype, filename, charset, data, params))
        self.nodes.append((location, part))


def leaf_nodes(msg: email.message.Message, limits: MimeLimits | None = None) -> list[tuple[str, email.message.Message]]:
    """Each leaf part object with the location parse_message gives it (for rewriting in place)."""
    walk = _Walk(limits or MimeLimits())
    walk.message(msg, "", 0)
    return walk.nodes


_HEADER_END = re.compile(rb"\n\r?\n")


def parse_bytes(raw: bytes) -> email.message.Message:
    """What email.message_from_bytes (compat32) returns, without its line-by-line walk of a
    single-part body: a 40 KB letter is 500 lines, each a Python step in the feed parser, and its
    body comes out as the bytes after the header's blank line anyway. Only the header is parsed
    when it ends at the first blank line and the message is neither multipart nor message/*;
    anything else (a lone CR, a line that is no header, a missing blank line) is parsed whole.
    tests/test_parse.py compares the two on the corpora."""
    end = _HEADER_END.search(raw)
    if end is not None:
        parser = email.parser.BytesFeedParser(policy=email.policy.compat32)
        parser.feed(raw[: end.end()])
        head = parser.close()
        if head.get_content_maintype() not in ("multipart", "message") and head.get_payload() == "":
            head.set_payload(raw[end.end() :].decode("ascii", "surrogateescape"))
            return head
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def parse_message(raw: bytes, limits: MimeLimits | None = None) -> tuple[Message, tuple[Unscannable, ...]]:
    """Parse `raw`. Never raises on malformed input; what cannot be walked is Unscannable."""
    walk = _Walk(limits or MimeLimits())
    msg = parse_bytes(raw)
    headers = tuple((k, decode_header_value(str(v))) for k, v in msg.raw_items())
    try:
        walk.message(msg, "", 0)
    except RecursionError:
        walk.unscannable.append(Unscannable("message", "MIME structure too deep to walk"))
    subject = next((v for k, v in headers if k.lower() == "subject"), "")
    message = Message(headers, subject, tuple(walk.parts), tuple(walk.defects), tuple(walk.subjects))
    return message, tuple(walk.unscannable)
