"""Byte-level header edits. The body and every header we do not touch stay byte for byte."""

from __future__ import annotations

from email.utils import parseaddr


def split_head(raw: bytes) -> tuple[list[bytes], bytes, bytes]:
    """Header fields (each with its folded continuation lines), the separator, and the body."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        pos = raw.find(sep)
        if pos != -1:
            head, body = raw[:pos], raw[pos + len(sep) :]
            break
    else:
        head, sep, body = raw, b"", b""
    eol = b"\r\n" if b"\r\n" in head or sep == b"\r\n\r\n" else b"\n"
    fields: list[bytes] = []
    for line in head.split(eol):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += eol + line
        else:
            fields.append(line)
    return fields, sep, body


def _split_addresses(value: str) -> list[str]:
    """Split an address-list header at top-level commas (not inside quotes, <> or comments)."""
    out: list[str] = []
    cur: list[str] = []
    depth, quoted, angle = 0, False, False
    prev = ""
    for ch in value:
        if quoted:
            quoted = not (ch == '"' and prev != "\\")
        elif ch == '"':
            quoted = True
        elif ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif ch == "<":
            angle = True
        elif ch == ">":
            angle = False
        elif ch == "," and not depth and not angle:
            out.append("".join(cur))
            cur = []
            prev = ch
            continue
        cur.append(ch)
        prev = ch
    out.append("".join(cur))
    return [e.strip() for e in out if e.strip()]


def remove_recipients(raw: bytes, remove: set[str], headers: tuple[str, ...] = ("to", "cc")) -> bytes:
    """Drop the given addresses (case-insensitive) from To/Cc; drop a header left empty."""
    wanted = {a.lower() for a in remove}
    fields, sep, body = split_head(raw)
    eol = b"\r\n" if sep.startswith(b"\r\n") or not sep else b"\n"
    out: list[bytes] = []
    for f in fields:
        name, colon, value = f.partition(b":")
        if not colon or name.strip().lower().decode("ascii", "replace") not in headers:
            out.append(f)
            continue
        text = value.decode("utf-8", "surrogateescape").replace("\r", "").replace("\n", "")
        entries = _split_addresses(text)
        kept = [e for e in entries if parseaddr(e)[1].lower() not in wanted]
        if len(kept) == len(entries):
            out.append(f)
        elif kept:
            joined = ("," + eol.decode() + " ").join(kept)
            out.append(name + b": " + joined.encode("utf-8", "surrogateescape"))
        elif name.strip().lower() == b"to":
            out.append(name + b": undisclosed-recipients:;")
    return eol.join(out) + sep + body


def add_headers(raw: bytes, headers: list[tuple[str, str]]) -> bytes:
    """Prepend ASCII trace headers (X-DLP-*), removing any copies the sender put there."""
    fields, sep, body = split_head(raw)
    eol = b"\r\n" if sep.startswith(b"\r\n") or not sep else b"\n"
    names = {n.lower().encode() for n, _ in headers}
    kept = [f for f in fields if f.partition(b":")[0].strip().lower() not in names]
    new = [f"{n}: {v}".encode("ascii", "replace") for n, v in headers]
    return eol.join(new + kept) + sep + body
