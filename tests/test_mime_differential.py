"""Differential MIME: what nodemailer's mailparser reads from a message — text or attachment — the
gateway inspected too, or marked unscannable. Over every message of ../shared/corpora and over
malformed MIME built from a list carrying customer records (duplicated, missing, reordered and
corrupted structural headers, boundaries and transfer encodings)."""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import CORPORA, corpus_files
from tests.mime_oracle import evidence, gateway_view, missed, run_oracle

# Where the oracle's own reading is noise, checked by eye; every other difference fails.
ORACLE_NOISE = {
    "mime/spamscope_mail_parser/mail_test_12.eml": "GB2312 text that mailparser partly turns into mojibake "
    "(姘镐箙鏈夋晥 for 永久有效); the gateway reads it as written",
    "ja_mail/mikel_mail/error_emails/content_transfer_encoding_empty.eml": "random bytes labelled Big5 in a spam: "
    "each decoder makes different noise of them",
}


def test_every_corpus_message_reads_at_least_what_the_oracle_reads() -> None:
    files = [f for f in corpus_files() if not f.read_bytes().lstrip().startswith(b"%PDF-")]  # a PDF is no mail
    docs = run_oracle(files)
    differences = {}
    for f in files:
        name = str(f.relative_to(CORPORA))
        found = missed(docs[str(f)], gateway_view(f.read_bytes()))
        if found and name not in ORACLE_NOISE:
            differences[name] = found[:5]
    assert differences == {}
    assert len(docs) > 400


# --- malformed MIME, built from a list ------------------------------------------------------

RECORDS = "証券番号,契約者名\r\n8100000077,佐々木 花子\r\n8100000078,高橋 一郎\r\n"
BODY = "満期一覧を送ります。証券番号 8100000079 渡辺 恵子 様"


def _b64(data: bytes) -> str:
    return base64.encodebytes(data).decode().replace("\n", "\r\n")


def _message(
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
        _b64(BODY.encode()),
        separator,
        *att,
        "",
        csv_payload if csv_payload is not None else _b64(RECORDS.encode()),
    ]
    if close:
        lines.append(separator + "--")
    lines.append(epilogue)
    return "\r\n".join(lines).encode()


CASES: dict[str, Callable[[], bytes]] = {
    "well formed": _message,
    "no boundary parameter": lambda: _message(boundary_param=""),
    "boundary in other case": lambda: _message(boundary_param="; BOUNDARY=b1"),
    "unquoted boundary": lambda: _message(boundary_param="; boundary=b1"),
    "two Content-Type, the wrong one first": lambda: _message(
        top=['Content-Type: multipart/mixed; boundary="zz"', 'Content-Type: multipart/mixed; boundary="b1"']
    ),
    "two Content-Type, the right one first": lambda: _message(
        top=['Content-Type: multipart/mixed; boundary="b1"', 'Content-Type: multipart/mixed; boundary="zz"']
    ),
    "no close boundary": lambda: _message(close=False),
    "text in the preamble": lambda: _message(preamble=BODY.replace("79", "80")),
    "text in the epilogue": lambda: _message(epilogue=BODY.replace("79", "81")),
    "two transfer encodings": lambda: _message(
        csv_headers=[
            'Content-Type: text/csv; name="list.csv"',
            "Content-Transfer-Encoding: 7bit",
            "Content-Transfer-Encoding: base64",
        ]
    ),
    "transfer encoding in capitals with spaces": lambda: _message(
        csv_headers=['Content-Type: text/csv; name="list.csv"', "Content-Transfer-Encoding:  BASE64 "]
    ),
    "unknown transfer encoding": lambda: _message(
        csv_headers=['Content-Type: text/csv; name="list.csv"', "Content-Transfer-Encoding: x-unknown"]
    ),
    "base64 with junk and no padding": lambda: _message(
        csv_payload=_b64(RECORDS.encode()).rstrip("=\r\n").replace("\r\n", "*\r\n")
    ),
    "an unfolded header continuation": lambda: _message(
        csv_headers=["Content-Type: text/csv; charset=UTF-8;", 'name="list.csv"', "Content-Transfer-Encoding: base64"]
    ),
    "no blank line after a part's header": lambda: _message(
        body_headers=["Content-Type: text/plain; charset=UTF-8"], csv_headers=['Content-Type: text/csv; name="l.csv"']
    ),
    "no Content-Type in the parts": lambda: _message(
        body_headers=["Content-Transfer-Encoding: base64"], csv_headers=["Content-Transfer-Encoding: base64"]
    ),
    "a part typed as an image": lambda: _message(
        csv_headers=['Content-Type: image/png; name="list.csv"', "Content-Transfer-Encoding: base64"]
    ),
    "LF line endings": lambda: _message().replace(b"\r\n", b"\n"),
    "boundary with trailing white space": lambda: _message(separator="--b1  "),
}


def _mutations(seed: int) -> bytes:
    """Random corruptions of structural lines, the same on every run (a fixed seed)."""
    rng = random.Random(seed)
    lines = _message().split(b"\r\n")
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


GENERATED = {**{name: build() for name, build in CASES.items()}, **{f"mutation {s}": _mutations(s) for s in range(400)}}


@pytest.fixture(scope="module")
def oracle_docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    folder = tmp_path_factory.mktemp("malformed")
    files = []
    for n, data in enumerate(GENERATED.values()):
        path = folder / f"{n:03d}.eml"
        path.write_bytes(data)
        files.append(path)
    docs = run_oracle(files)
    return {name: docs[str(path)] for name, path in zip(GENERATED, files, strict=True)}


def test_the_oracle_reads_the_records_of_the_well_formed_list(oracle_docs: dict[str, dict[str, object]]) -> None:
    """The oracle is not blind: in the well-formed list it finds every number the test plants."""
    doc = oracle_docs["well formed"]
    text = str(doc["text"]) + "".join(base64.b64decode(str(a["content"])).decode() for a in doc["attachments"])  # type: ignore[attr-defined]
    assert {"8100000077", "8100000078", "8100000079"} <= evidence(text)


@pytest.mark.parametrize("name", list(GENERATED))
def test_malformed_mime_reads_at_least_what_the_oracle_reads(
    name: str, oracle_docs: dict[str, dict[str, object]], tmp_path: Path
) -> None:
    assert missed(oracle_docs[name], gateway_view(GENERATED[name]), charset="utf-8") == []  # the list is UTF-8


def test_the_generator_makes_distinct_malformed_messages() -> None:
    well_formed = GENERATED["well formed"]
    assert len(set(GENERATED.values())) > 250
    assert sum(1 for v in GENERATED.values() if v != well_formed) > 350
