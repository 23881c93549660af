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

import pybase64
import regex

from dlp_gateway.model import Message, Part, Unscannable, UnscannableKind
from dlp_gateway.parse import charsets
from dlp_gateway.parse.base64_runs import parse_whole


@dataclass(frozen=True)
class MimeLimits:
    max_depth: int = 20
    max_parts: int = 1000


def _location(part: email.message.Message, prefix: str, filename: str | None, counters: dict[str, int]) -> str:
    """`body`, `body[1]` … for inline parts, `attachment[n]:name` for attachments, in order."""
    if filename is not None or part.get_content_disposition() == "attachment":
        location = f"{prefix}attachment[{counters['attachment']}]:{filename or 'unnamed'}"
        counters["attachment"] += 1
        return location
    n = counters["body"]
    counters["body"] += 1
    return f"{prefix}body" if n == 0 else f"{prefix}body[{n}]"


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


# Reports whose bodies are header blocks (RFC 3464, RFC 8098): read as the text a mail program shows.
_REPORTS = frozenset(
    {
        "message/delivery-status",
        "message/disposition-notification",
        "message/feedback-report",
        "message/rfc822-headers",  # a bounce's copy of the original header: its subject among them
        "text/rfc822-headers",
    }
)
# Attached messages by other names: read inside like message/rfc822.
_MESSAGES = frozenset({"message/rfc822", "message/news", "message/global"})


_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")
# The same bytes for bytes.translate, which drops them in one pass in C: sub() built the result
# match by match, one per line break, 0.6 ms for a 35 KB body.
_B64_JUNK_BYTES = bytes(b for b in range(256) if _B64_JUNK.match(bytes([b])))


def lenient_b64(text: bytes) -> bytes:
    """Base64 as mail programs read it: characters outside the alphabet skipped, a short last
    group decoded as far as it goes (Python's decoder gives up on the whole part instead)."""
    return _b64_of(
        text.translate(None, _B64_JUNK_BYTES)
    )  # (padding in the middle too: the line-by-line reading has it)


def _b64_of(clean: bytes) -> bytes:
    """lenient_b64 of the alphabet's characters alone."""
    usable = len(clean) - len(clean) % 4
    # (whole groups of the alphabet alone, no padding: valid whatever they hold, so the SIMD
    # decoder's validating path, which is its fast one, reads them as the standard library does)
    out = pybase64.b64decode(memoryview(clean)[:usable], validate=True) if usable else b""
    rest = clean[usable:]
    if len(rest) >= 2:
        out += base64.b64decode(rest + b"=" * (4 - len(rest)))
    return out


# The alphabet and white space (as \s and bytes.rstrip take it): what sound base64 is made of,
# but for its padding.
_B64_TEXT = bytes(b for b in range(256) if re.match(rb"[A-Za-z0-9+/\s]", bytes([b])))


def _damaged_b64(text: bytes, clean: bytes) -> bool:
    """Junk characters, padding before the end, or groups cut short: the stream reading is then a
    guess, and the line-by-line one is read too. `clean`: the text's characters of the alphabet.
    (What is left of the text without the alphabet and white space is told in one pass in C: a
    pattern for the whole text took a tenth of a large attachment's decoding.)"""
    rest = text.translate(None, _B64_TEXT)
    if rest not in (b"", b"=", b"==") or not text.rstrip().endswith(rest):
        return True  # (junk, or padding with more than white space after it)
    # Whole groups, the padding counted: `…QQ==` is sound, though the alphabet's part is 2 short of 4.
    # (Not counting it sent every padded body, most of them, through the line-by-line decode too.)
    return (len(clean) + len(rest)) % 4 != 0


def _b64_by_line(text: bytes) -> bytes:
    return b"".join(lenient_b64(line) for line in text.splitlines())


def _stored(part: email.message.Message) -> object:
    """The payload as stored: a list of parts, or the text with 8-bit bytes as surrogate escapes.
    get_payload() would decode 8-bit text in the part's charset — lossy, and it raises on a
    charset name with a NUL in it (found by the fuzzer)."""
    return getattr(part, "_payload", None)


_HEADER_LINE = re.compile(r"^[\x21-\x39\x3b-\x7e]+:")


def repair_header(text: str) -> list[str]:
    """A header block with a line that is neither a header nor a continuation — a parameter that
    lost its fold (`name="list.csv"`), a header cut short (`Subjec`), a stray boundary or base64
    line — ends the header for Python's parser, and the rest of the header becomes the body. Mail
    programs read on. The block mended both ways that make sense — the stray line folded into the
    header before it, or dropped — or no variant when there is nothing to mend."""
    lines = text.split("\n")
    head_end = next((i for i, line in enumerate(lines) if not line.strip("\r")), len(lines))
    is_header = [_HEADER_LINE.match(line) is not None for line in lines[:head_end]]
    # header_after[i]: a header line at i or later. One pass from the end, not a search after every
    # line: a header of 3,600 stray lines took 21 s that way (found by the fuzzer).
    header_after = [False] * (head_end + 1)
    for i in range(head_end - 1, -1, -1):
        header_after[i] = header_after[i + 1] or is_header[i]
    stray = {
        i
        for i in range(head_end)
        if not (lines[i][:1] in (" ", "\t") and i > 0) and not is_header[i] and header_after[i + 1]
    }
    if not stray:
        return []
    folded = [(" " + line if i in stray and i > 0 else line) for i, line in enumerate(lines) if i > 0 or 0 not in stray]
    dropped = [line for i, line in enumerate(lines) if i not in stray]
    return list(dict.fromkeys("\n".join(v) for v in (folded, dropped)))


def transfer_decode(part: email.message.Message) -> tuple[bytes, bytes | None]:
    """The part's content, and a second reading when the encoding is damaged. The transfer
    encoding's name is read as mail programs read it (` BASE64 `, `Base64`); base64 whose groups
    are broken (a line cut short, junk characters) is decoded as a stream and line by line."""
    # The stored payload itself: get_payload() without decode=True hands 8-bit text over already
    # decoded in the part's charset, with U+FFFD for what did not fit (lossy).
    raw = _stored(part)
    if not isinstance(raw, str):
        raw = ""
    text = raw.encode("utf-8", "surrogateescape")
    cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if cte == "base64":
        clean = text.translate(None, _B64_JUNK_BYTES)  # (once, for the decoding and the test)
        stream = _b64_of(clean)
        if not _damaged_b64(text, clean):
            return stream, None  # sound base64 has one reading: no second decode on the hot path
        by_line = _b64_by_line(text)
        return stream, (by_line if by_line != stream else None)
    if cte == "quoted-printable":
        return quopri.decodestring(text), None
    if cte in ("x-uuencode", "uuencode", "x-uue"):
        try:
            decoded = part.get_payload(decode=True)
        except (ValueError, LookupError, TypeError):
            decoded = None
        return (decoded if isinstance(decoded, bytes) else text), None
    return text, None


@dataclass
class _Walk:
    limits: MimeLimits
    parts: list[Part] = field(default_factory=list)
    unscannable: list[Unscannable] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    subjects: list[tuple[str, str]] = field(default_factory=list)
    nodes: list[tuple[str, email.message.Message]] = field(default_factory=list)  # leaf part objects
    seen: int = 0
    read_again: bool = False  # walking a second reading (a mended header): add only what is new

    def message(self, msg: email.message.Message, prefix: str, depth: int) -> None:
        counters = {"body": 0, "attachment": 0}
        self.node(msg, prefix, depth, counters)

    def node(self, part: email.message.Message, prefix: str, depth: int, counters: dict[str, int]) -> None:
        try:
            self._node(part, prefix, depth, counters)
        except (ValueError, LookupError, TypeError, UnicodeError) as exc:
            # The email package raises on some corrupt headers (a charset name with a NUL in it):
            # the part is unscannable, never an exception out of parsing.
            where = prefix.rstrip("/") or "message"
            self.unscannable.append(
                Unscannable(where, UnscannableKind.CORRUPT, f"corrupt MIME part: {type(exc).__name__}")
            )

    def _over_limits(self, where: str, depth: int) -> bool:
        if self.seen > self.limits.max_parts:
            if self.seen == self.limits.max_parts + 1:
                self.unscannable.append(
                    Unscannable(where, UnscannableKind.MORE_THAN, f"more than {self.limits.max_parts} MIME parts")
                )
            return True
        if depth > self.limits.max_depth:
            self.unscannable.append(
                Unscannable(where, UnscannableKind.NESTED, f"MIME nesting deeper than {self.limits.max_depth}")
            )
            return True
        return False

    def _node(self, part: email.message.Message, prefix: str, depth: int, counters: dict[str, int]) -> None:
        self.seen += 1
        self.defects += [type(d).__name__ for d in part.defects]
        if any(isinstance(d, email.errors.MissingHeaderBodySeparatorDefect) for d in part.defects):
            self.mended(part, prefix, depth)
        if self._over_limits(prefix.rstrip("/") or "message", depth):
            return
        ctype = part.get_content_type()
        filename = _filename(part)
        payload = _stored(part)
        if ctype in _REPORTS and isinstance(payload, list):
            # Delivery and read reports are header blocks that compat32 parses into empty messages;
            # a mail program shows them as text, and so they are read as text.
            text = "\n".join(m.as_string() for m in payload if isinstance(m, email.message.Message))
            where = f"{prefix}attachment[{counters['attachment']}]:{filename or ctype}"
            counters["attachment"] += 1
            self.parts.append(Part(where, "text/plain", filename, "utf-8", text.encode("utf-8", "surrogateescape")))
        elif part.is_multipart() and isinstance(payload, list) and ctype not in _MESSAGES:
            for child in payload:
                if isinstance(child, email.message.Message):
                    self.node(child, prefix, depth + 1, counters)
        else:
            self._content(part, ctype, filename, payload, _location(part, prefix, filename, counters), depth)

    def _content(
        self, part: email.message.Message, ctype: str, filename: str | None, payload: object, location: str, depth: int
    ) -> None:
        """A part that is not a container: an attached message, or content to transfer-decode."""
        cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        if ctype in _MESSAGES and cte in ("base64", "quoted-printable"):
            # Not allowed by RFC 2046, sent anyway: compat32 would parse the encoded text as a
            # message. Decode it and let extract parse the real message.
            self.parts.append(Part(location, ctype, filename, None, _encoded_inner(payload, cte)))
            self.nodes.append((location, part))
            return
        if ctype in _MESSAGES and isinstance(payload, list):
            for inner in payload:
                if isinstance(inner, email.message.Message):
                    subject = inner.get("Subject")
                    if subject:
                        self.subjects.append((f"{location}/header:Subject", decode_header_value(str(subject))))
                    self.message(inner, f"{location}/", depth + 1)
            return
        data, alternative = transfer_decode(part)
        params = tuple((k.lower(), str(v)) for k, v in part.get_params(failobj=[])[1:] if k.lower() != "charset")
        try:
            charset = part.get_content_charset()
        except (ValueError, LookupError):
            charset = None
        if self.read_again and any(p.payload == data for p in self.parts):
            return  # the same content as the first reading gave: one customer, one record
        self.parts.append(Part(location, ctype, filename, charset, data, params))
        self.nodes.append((location, part))
        if alternative is not None:  # damaged base64 read another way too: every plausible reading
            self.parts.append(Part(f"{location} (base64 read line by line)", ctype, None, charset, alternative, params))

    def mended(self, part: email.message.Message, prefix: str, depth: int) -> None:
        """The part's other reading: its header mended (repair_header), walked beside the reading
        Python's parser made, so that both are inspected."""
        payload = _stored(part)
        if not isinstance(payload, str) or depth > self.limits.max_depth or self.read_again:
            # One mending, not a mended reading mended again: each level doubled the readings
            # (found by the fuzzer: 2^20 parses of one message).
            return
        head = "".join(f"{k}: {v}\n" for k, v in part.raw_items())
        where = prefix.rstrip("/") or "message"
        before, self.read_again = self.read_again, True
        try:
            for n, fixed in enumerate(repair_header(head + payload.replace("\r\n", "\n"))):
                again = email.message_from_string(fixed, policy=email.policy.compat32)
                self.defects.append("MissingHeaderBodySeparatorDefect: read again with the header mended")
                self.node(
                    again,
                    f"{where} (header mended{' ' + str(n + 1) if n else ''})/",
                    depth + 1,
                    {"body": 0, "attachment": 0},
                )
        finally:
            self.read_again = before


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
        if head.get_content_maintype() not in ("multipart", "message") and _stored(head) == "":
            head.set_payload(raw[end.end() :].decode("ascii", "surrogateescape"))
            return head
    return parse_whole(raw)  # (its attachments' base64 not walked a line at a time)


def parse_message(raw: bytes, limits: MimeLimits | None = None) -> tuple[Message, tuple[Unscannable, ...]]:
    """Parse `raw`. Never raises on malformed input; what cannot be walked is Unscannable."""
    walk = _Walk(limits or MimeLimits())
    msg = parse_bytes(raw)
    headers = tuple((k, decode_header_value(str(v))) for k, v in msg.raw_items())
    try:
        walk.message(msg, "", 0)
    except RecursionError:
        walk.unscannable.append(Unscannable("message", UnscannableKind.NESTED, "MIME structure too deep to walk"))
    subject = next((v for k, v in headers if k.lower() == "subject"), "")
    message = Message(headers, subject, tuple(walk.parts), tuple(walk.defects), tuple(walk.subjects))
    return message, tuple(walk.unscannable)
