"""Differential MIME: what nodemailer's mailparser reads from a message — text or attachment — the
gateway inspected too, or marked unscannable. Over every message of ../shared/corpora and over
malformed MIME built from a list carrying customer records (duplicated, missing, reordered and
corrupted structural headers, boundaries and transfer encodings)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import CORPORA, corpus_files
from tests.mime_oracle import BODY, RECORDS, b64, evidence, gateway_view, list_message, missed, mutated, run_oracle

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

CASES: dict[str, Callable[[], bytes]] = {
    "well formed": list_message,
    "no boundary parameter": lambda: list_message(boundary_param=""),
    "boundary in other case": lambda: list_message(boundary_param="; BOUNDARY=b1"),
    "unquoted boundary": lambda: list_message(boundary_param="; boundary=b1"),
    "two Content-Type, the wrong one first": lambda: list_message(
        top=['Content-Type: multipart/mixed; boundary="zz"', 'Content-Type: multipart/mixed; boundary="b1"']
    ),
    "two Content-Type, the right one first": lambda: list_message(
        top=['Content-Type: multipart/mixed; boundary="b1"', 'Content-Type: multipart/mixed; boundary="zz"']
    ),
    "no close boundary": lambda: list_message(close=False),
    "text in the preamble": lambda: list_message(preamble=BODY.replace("79", "80")),
    "text in the epilogue": lambda: list_message(epilogue=BODY.replace("79", "81")),
    "two transfer encodings": lambda: list_message(
        csv_headers=[
            'Content-Type: text/csv; name="list.csv"',
            "Content-Transfer-Encoding: 7bit",
            "Content-Transfer-Encoding: base64",
        ]
    ),
    "transfer encoding in capitals with spaces": lambda: list_message(
        csv_headers=['Content-Type: text/csv; name="list.csv"', "Content-Transfer-Encoding:  BASE64 "]
    ),
    "unknown transfer encoding": lambda: list_message(
        csv_headers=['Content-Type: text/csv; name="list.csv"', "Content-Transfer-Encoding: x-unknown"]
    ),
    "base64 with junk and no padding": lambda: list_message(
        csv_payload=b64(RECORDS.encode()).rstrip("=\r\n").replace("\r\n", "*\r\n")
    ),
    "an unfolded header continuation": lambda: list_message(
        csv_headers=["Content-Type: text/csv; charset=UTF-8;", 'name="list.csv"', "Content-Transfer-Encoding: base64"]
    ),
    "no blank line after a part's header": lambda: list_message(
        body_headers=["Content-Type: text/plain; charset=UTF-8"], csv_headers=['Content-Type: text/csv; name="l.csv"']
    ),
    "no Content-Type in the parts": lambda: list_message(
        body_headers=["Content-Transfer-Encoding: base64"], csv_headers=["Content-Transfer-Encoding: base64"]
    ),
    "a part typed as an image": lambda: list_message(
        csv_headers=['Content-Type: image/png; name="list.csv"', "Content-Transfer-Encoding: base64"]
    ),
    "LF line endings": lambda: list_message().replace(b"\r\n", b"\n"),
    "boundary with trailing white space": lambda: list_message(separator="--b1  "),
}


GENERATED = {**{name: build() for name, build in CASES.items()}, **{f"mutation {s}": mutated(s) for s in range(400)}}


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


def test_a_list_read_two_ways_gives_each_customer_once() -> None:
    """A header mended two ways (folded, dropped) decodes the same list twice: it is read once."""
    from dlp_gateway.model import Envelope  # noqa: PLC0415
    from dlp_gateway.pipeline import Pipeline  # noqa: PLC0415
    from tests.helpers import HEAD_OFFICE, SOMPO, example_config  # noqa: PLC0415

    raw = GENERATED["an unfolded header continuation"]
    report = Pipeline(example_config()).scan(raw, Envelope(HEAD_OFFICE, (SOMPO,)))
    numbers = [r.policy_number or "" for r in report.records]
    assert sorted(numbers) == ["8100000077", "8100000078", "8100000079"]
