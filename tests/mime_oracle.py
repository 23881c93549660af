"""The differential MIME oracle: nodemailer's mailparser (tests/oracle, run with Debian's node) and
the rule the gateway is held to — whatever another parser extracts, text or attachment, the
gateway inspected too, or marked unscannable (failing closed)."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import random
import re
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlp_gateway.extract.dispatch import extract
from dlp_gateway.extract.sniff import sniff
from dlp_gateway.invisible import strip_invisible
from dlp_gateway.parse import charsets
from dlp_gateway.parse.mime import parse_message
from tests.helpers import ROOT

ORACLE = ROOT / "tests" / "oracle"
# What counts as content: runs of 6+ digits (policy numbers, phone numbers) and of 3+ kana or kanji
# (names, words), found in the oracle's text as it reads (never across a line or a space).
_EVIDENCE = re.compile(r"\d{6,}|[\u3040-\u30ff\u4e00-\u9fff]{3,}")
# mailparser writes an inline attached message's address and date lines into the text; the gateway
# reads an attached message's subject and body, not its addresses (they are not customer data).
_INLINE_HEADER = re.compile(r"(?m)^(From|To|Cc|Bcc|Date|Reply-To|Sender|Message-ID):.*$")


# Images and sound hold no text either reader reads; message/external-body is a pointer to content
# elsewhere (its body is a phantom header, Content-ID and all), not content.
_NO_TEXT = ("image/", "audio/", "video/", "message/external-body")


def oracle_available() -> None:
    """The oracle is a required test tool: `./dev test` and `.ci/run` install it."""
    assert shutil.which("node"), "node is missing: .ci/run installs Debian's nodejs"
    assert (ORACLE / "node_modules" / "mailparser").is_dir(), "run: npm ci --prefix tests/oracle"


def run_oracle(files: list[Path]) -> dict[str, dict[str, Any]]:
    oracle_available()
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(files), 200):  # a command line of bounded length
        batch = [str(f) for f in files[start : start + 200]]
        done = subprocess.run(
            ["node", str(ORACLE / "mailparse.js"), *batch], capture_output=True, text=True, check=True, timeout=300
        )
        for line in done.stdout.splitlines():
            doc = json.loads(line)
            out[doc["file"]] = doc
    return out


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", strip_invisible(text))


def evidence(text: str) -> set[str]:
    return set(_EVIDENCE.findall(_norm(text)))


def html_text(page: str) -> str:
    page = re.sub(r"(?is)<(style|script)\b.*?</\1\s*>", " ", page)
    return html.unescape(re.sub(r"<[^>]*>", " ", page))


@dataclass(frozen=True)
class GatewayView:
    text: str  # every segment's lines, normalised, without white space
    hashes: frozenset[str]  # SHA-256 of every leaf part the gateway decoded
    unscannable: tuple[str, ...]

    def holds(self, item: str) -> bool:
        return "".join(item.split()) in self.text


def gateway_view(raw: bytes) -> GatewayView:
    message, problems = parse_message(raw)
    segments, unscannable = extract(message)
    text = "".join("".join(line.split()) for s in segments for line in s.lines)
    return GatewayView(
        _norm(text),
        frozenset(hashlib.sha256(p.payload).hexdigest() for p in message.parts),
        tuple(f"{u.location}: {u.reason}" for u in (*problems, *unscannable)),
    )


def missed(doc: dict[str, Any], view: GatewayView, charset: str | None = None) -> list[str]:
    """What the oracle read and the gateway did not inspect. A message with anything unscannable
    fails closed as a whole (no insurer receives it), so only fully read messages are compared."""
    if "error" in doc or view.unscannable:
        return []
    out = []
    shown = _INLINE_HEADER.sub("", doc["text"]) + "\n" + html_text(doc["html"]) + "\n" + doc["subject"]
    out += [f"text: {e}" for e in sorted(evidence(shown)) if not view.holds(e)]
    for a in doc["attachments"]:
        content = base64.b64decode(a["content"])
        if "message" in a:
            out += [f"{a['filename'] or a['contentType']}/{m}" for m in missed(a["message"], view, charset)]
            continue
        if not content or a["sha256"] in view.hashes or a["contentType"].startswith(_NO_TEXT):
            continue
        kind = sniff(content, a["contentType"], a["filename"])
        if kind in ("text", "html", "csv"):
            # mailparser hands the bytes over without their charset: the caller may know it
            text = content.decode(charset, "replace") if charset else charsets.decode(content)[0]
            found = evidence(html_text(text) if kind == "html" else text)
            out += [f"attachment {a['filename']!r}: {e}" for e in sorted(found) if not view.holds(e)]
        else:
            out.append(f"attachment {a['filename']!r} ({a['contentType']}, {kind}) not read")
    return out


# --- malformed MIME, built from a list carrying customer records ---------------------------

RECORDS = "証券番号,契約者名\r\n8100000077,佐々木 花子\r\n8100000078,高橋 一郎\r\n"
BODY = "満期一覧を送ります。証券番号 8100000079 渡辺 恵子 様"


def b64(data: bytes) -> str:
    return base64.encodebytes(data).decode().replace("\n", "\r\n")


def list_message(
    *,
    top: list[str] | None = None,
    boundary_param: str = '; boundary="b1"',
    body_headers: list[str] | None = None,
    csv_headers: list[str] | None = None,
    csv_payload: str | None = None,
    preamble: str = "",
    epilogue: str = "",
    close: bool = True,
    separator: str = "--b1",
) -> bytes:
    head = top if top is not None else [f"Content-Type: multipart/mixed{boundary_param}"]
    body = (
        body_headers
        if body_headers is not None
        else [
            "Content-Type: text/plain; charset=UTF-8",
            "Content-Transfer-Encoding: base64",
        ]
    )
    att = (
        csv_headers
        if csv_headers is not None
        else [
            'Content-Type: text/csv; charset=UTF-8; name="list.csv"',
            "Content-Transfer-Encoding: base64",
            'Content-Disposition: attachment; filename="list.csv"',
        ]
    )
    lines = [
        "From: honbu@mirai-hoken.example.jp",
        "To: tanaka@sompo-japan.co.jp",
        "Subject: list",
        "MIME-Version: 1.0",
        *head,
        "",
        preamble,
        separator,
        *body,
        "",
        b64(BODY.encode()),
        separator,
        *att,
        "",
        csv_payload if csv_payload is not None else b64(RECORDS.encode()),
    ]
    if close:
        lines.append(separator + "--")
    lines.append(epilogue)
    return "\r\n".join(lines).encode()


def mutated(seed: int) -> bytes:
    """Random corruptions of structural lines, the same on every run (a fixed seed)."""
    rng = random.Random(seed)
    lines = list_message().split(b"\r\n")
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(lines))
        op = rng.choice(("drop", "duplicate", "swap", "truncate", "upper"))
        if op == "drop":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap" and i + 1 < len(lines):
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
        elif op == "truncate":
            lines[i] = lines[i][: len(lines[i]) // 2]
        else:
            lines[i] = lines[i].upper()
    return b"\r\n".join(lines)
