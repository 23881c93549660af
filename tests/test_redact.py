"""Redaction: offending values masked wherever they are written; what cannot be rewritten falls back."""

from __future__ import annotations

import email
import email.policy
import io
import time

import openpyxl
import pytest

from dlp_gateway.act.redact import NotRedactableError, redact, value_patterns
from dlp_gateway.config.schema import Rule
from dlp_gateway.decide.conditions import Condition
from dlp_gateway.detect.normalize import DASHES
from dlp_gateway.errors import ScanTimeoutError
from dlp_gateway.model import Action, Envelope, Record, ViolationKind
from dlp_gateway.pipeline import Pipeline
from tests import fixtures as fx
from tests.helpers import BRANCH_A, HEAD_OFFICE, MSI, SOMPO, example_config, make_message

YAMADA = Record("8100000001", "山田 太郎", None, "tokio", "explicit", 0.9, "body:line 1")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("証券番号 8100000001 山田 太郎 様", "証券番号 81******01 山田 ** 様"),
        ("証券番号 ８１００－０００００１ 山田　太郎様", "証券番号 81******01 山田 **様"),
        ("8100-000-001 / 山田太郎", "81******01 / 山田 **"),
        ("81000000012 は別の番号", "81000000012 は別の番号"),  # a longer number is not this one
        ("証券番号 81\u200b0000\u20600001 山\u00ad田 太\ufeff郎", "証券番号 81******01 山田 **"),  # zero-width
        ("8100﹣000⁃001", "81******01"),  # the dashes the detectors know
    ],
)
def test_values_are_masked_however_written(text: str, expected: str) -> None:
    out = text
    for pattern, masked in value_patterns([YAMADA]):
        out = pattern.sub(masked, out)
    assert out == expected


def redact_config(fallback: Action = Action.QUARANTINE):  # type: ignore[no-untyped-def]
    cfg = example_config()
    rule = Rule(
        "redact-msi",
        Condition(violation=(ViolationKind.CROSS_INSURER,), recipient_party=("insurer:msi",)),
        Action.REDACT,
        fallback=fallback,
    )
    return cfg.__class__(**{**cfg.__dict__, "rules": (rule,)})


def scan(raw: bytes, rcpts: tuple[str, ...] = (BRANCH_A, MSI), fallback: Action = Action.QUARANTINE):  # type: ignore[no-untyped-def]
    return Pipeline(redact_config(fallback)).scan(raw, Envelope(HEAD_OFFICE, rcpts))


def test_text_body_and_subject_are_redacted_and_proven_clean() -> None:
    raw = make_message(
        "証券番号：8100000001　契約者名：山田 太郎 様　引受：東京海上日動",
        subject="山田太郎様 満期のご案内",
        charset="ISO-2022-JP",
    )
    report = scan(raw)
    assert report.decision.verdict == Action.REDACT
    assert report.redacted is not None
    msg = email.message_from_bytes(report.redacted, policy=email.policy.default)
    assert str(msg["Subject"]) == "山田 **様 満期のご案内"
    body = msg.get_body().get_content()  # type: ignore[union-attr]
    assert "81******01" in body and "山田 **" in body
    assert "8100000001" not in body and "太郎" not in body
    rescan = Pipeline(redact_config()).scan(report.redacted, Envelope(HEAD_OFFICE, (MSI,)))
    assert rescan.records == ()


def test_the_proving_rescan_keeps_the_scan_deadline() -> None:
    # The re-scan of the redacted copy is a second scan of the whole message: past the deadline
    # it stops like the first, rather than read as "not redactable" and finish anyway.
    raw = make_message("証券番号：8100000001　契約者名：山田 太郎 様　引受：東京海上日動")
    pipeline = Pipeline(redact_config())
    report = pipeline.scan(raw, Envelope(HEAD_OFFICE, (BRANCH_A, MSI)))
    assert report.decision.verdict == Action.REDACT
    with pytest.raises(ScanTimeoutError):
        pipeline.redact(raw, report.decision, list(report.records), time.monotonic() - 1)


def test_csv_and_xlsx_attachments_are_rewritten() -> None:
    raw = fx.multipart(
        "添付します。",
        [
            ("text/csv", 'attachment; filename="a.csv"', fx.csv_bytes()),
            ("application/octet-stream", 'attachment; filename="b.xlsx"', fx.xlsx_bytes()),
        ],
        to=MSI,
    )
    report = scan(raw)
    assert report.decision.verdict == Action.REDACT, report.decision.notes
    assert report.redacted is not None
    msg = email.message_from_bytes(report.redacted, policy=email.policy.compat32)
    parts = [p for p in msg.walk() if not p.is_multipart()]
    csv_text = parts[1].get_payload(decode=True).decode("cp932")  # type: ignore[union-attr]
    assert "81******01" in csv_text and "8100000001" not in csv_text and "山田 **" in csv_text
    wb = openpyxl.load_workbook(io.BytesIO(parts[2].get_payload(decode=True)))  # type: ignore[arg-type]
    values = [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert "81******01" in values and not any("8100000001" in v or "太郎" in v for v in values)
    # records attributed to msi itself are not offending for msi, so they stay
    assert any("1000001" in v for v in values)


@pytest.mark.parametrize("fallback", [Action.QUARANTINE, Action.REJECT, Action.STRIP])
def test_content_that_cannot_be_rewritten_follows_the_fallback(fallback: Action) -> None:
    raw = fx.multipart("添付します。", [("application/pdf", 'attachment; filename="list.pdf"', fx.pdf_bytes())], to=MSI)
    report = scan(raw, fallback=fallback)
    assert report.redacted is None
    assert {r.address: r.action for r in report.decision.recipients}[MSI] == fallback
    assert any("redaction impossible" in n for n in report.decision.notes)


def test_records_inside_a_forwarded_message_cannot_be_redacted() -> None:
    inner = make_message("証券番号：8100000001 契約者名：山田 太郎")
    raw = fx.multipart("転送します", [("message/rfc822", 'attachment; filename="fwd.eml"', inner)], to=MSI)
    with pytest.raises(NotRedactableError):
        redact(raw, [Record("8100000001", None, None, "tokio", "pattern", 0.6, "attachment[0]:fwd.eml/body:line 1")])


@pytest.mark.parametrize("dash", sorted(DASHES))
def test_every_dash_the_detectors_accept_is_redacted_too(dash: str) -> None:
    """One definition of the dashes (detect/normalize.DASHES): a number written with any of them
    is found, joined across a line break, and masked."""
    number = f"8100{dash}000001"
    raw = make_message(f"証券番号：{number}　契約者名：山田 太郎 様\n", to=(SOMPO,))
    report = Pipeline(example_config()).scan(raw, Envelope(HEAD_OFFICE, (SOMPO,)))
    assert [r.policy_number for r in report.records] == ["8100000001"]
    out = redact(raw, list(report.records))
    assert b"000001" not in email.message_from_bytes(out).get_payload(decode=True)
    wrapped = make_message(f"証券番号：8100{dash}\n000001 の件\n", to=(SOMPO,))
    assert [
        r.policy_number for r in Pipeline(example_config()).scan(wrapped, Envelope(HEAD_OFFICE, (SOMPO,))).records
    ] == ["8100000001"]
