"""Every action of issue 5 through real SMTP sockets: client → gateway → sink."""

from __future__ import annotations

import asyncio
import email
import email.policy
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from dlp_gateway.config.schema import Notices, Rule
from dlp_gateway.decide.conditions import Condition
from dlp_gateway.model import Action, ViolationKind
from dlp_gateway.smtp.server import Gateway
from tests import fixtures as fx
from tests.helpers import (
    BRANCH_A,
    HEAD_OFFICE,
    MSI,
    SOMPO,
    TOKIO_LIST,
    Sink,
    free_port,
    make_message,
    start_gateway,
    submit,
)
from tests.processes import cli, start_serve

EXTERNAL = "someone@example.com"
NOTICES = Notices(sender="dlp@mirai-hoken.example.jp", compliance=("compliance@mirai-hoken.example.jp",))
THREE_PARTY_RULES = (
    Rule(
        "strip-sompo",
        Condition(violation=(ViolationKind.CROSS_INSURER,), recipient_party=("insurer:sompo",)),
        Action.STRIP,
    ),
    Rule(
        "redact-msi",
        Condition(violation=(ViolationKind.CROSS_INSURER,), recipient_party=("insurer:msi",)),
        Action.REDACT,
    ),
    Rule("watch-external", Condition(violation=(ViolationKind.EXTERNAL_DISCLOSURE,)), Action.MONITOR),
)


async def gateway_for(tmp_path: Path, sink: Sink, **changes: Any) -> Gateway:
    gw: Gateway = await start_gateway(tmp_path, sink, **changes)
    return gw


@pytest.fixture
async def three_party(tmp_path: Path, sink: Sink) -> AsyncIterator[Gateway]:
    gw = await gateway_for(tmp_path, sink, rules=THREE_PARTY_RULES, notices=NOTICES)
    yield gw
    await gw.stop()


def parsed(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


async def test_one_message_three_parties_three_outcomes(three_party: Gateway, sink: Sink) -> None:
    msg = make_message(TOKIO_LIST, to=(BRANCH_A, SOMPO), cc=(MSI, EXTERNAL))
    code, reply = await submit(three_party.port, HEAD_OFFICE, [BRANCH_A, SOMPO, MSI, EXTERNAL], msg)
    assert code == 250, reply
    by_rcpts = {rcpts: data for _, rcpts, data in sink.received}
    # msi gets the redacted copy, first
    redacted = parsed(by_rcpts[(MSI,)])
    body = redacted.get_body().get_content()  # type: ignore[union-attr]
    assert "81******01" in body and "8100000001" not in body and "山田 **" in body
    assert redacted["X-DLP-Verdict"] == "redact"
    # the branch and the external address get the original, without sompo (stripped) in the headers
    original = by_rcpts[(BRANCH_A, EXTERNAL)]
    assert b"8100000001" in base64_body(original)
    assert SOMPO not in str(parsed(original)["To"])
    # sompo gets nothing; the sender and compliance are told
    assert not any(SOMPO in rcpts for rcpts in by_rcpts)
    assert (HEAD_OFFICE,) in by_rcpts and ("compliance@mirai-hoken.example.jp",) in by_rcpts
    notice = parsed(by_rcpts[(HEAD_OFFICE,)]).get_body().get_content()  # type: ignore[union-attr]
    assert f"{SOMPO} (strip)" in notice and f"{MSI} (redact)" in notice and "8100000001" not in notice


def base64_body(data: bytes) -> bytes:
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    payload = msg.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload


async def test_redact_only_others_get_the_original_byte_for_byte(tmp_path: Path, sink: Sink) -> None:
    gw = await gateway_for(tmp_path, sink, rules=THREE_PARTY_RULES[1:2])
    try:
        msg = make_message(TOKIO_LIST, to=(BRANCH_A, MSI))
        code, _ = await submit(gw.port, HEAD_OFFICE, [BRANCH_A, MSI], msg)
        assert code == 250
        by_rcpts = {rcpts: data for _, rcpts, data in sink.received}
        assert by_rcpts[(BRANCH_A,)] == msg
        assert b"8100000001" not in base64_body(by_rcpts[(MSI,)])
    finally:
        await gw.stop()


async def test_redact_falls_back_to_quarantine_for_a_pdf(tmp_path: Path, sink: Sink) -> None:
    gw = await gateway_for(tmp_path, sink, rules=THREE_PARTY_RULES[1:2])
    try:
        raw = fx.multipart("添付します", [("application/pdf", 'attachment; filename="l.pdf"', fx.pdf_bytes())], to=MSI)
        code, reply = await submit(gw.port, HEAD_OFFICE, [MSI], raw)
        assert code == 250
        assert "Held" in reply
        assert not any(MSI in rcpts for _, rcpts, _ in sink.received)  # only the notices went out
    finally:
        await gw.stop()


async def test_simulation_delivers_with_the_verdict_it_would_have_given(tmp_path: Path, sink: Sink) -> None:
    gw = await gateway_for(tmp_path, sink, simulate=True)
    try:
        rows = "\n".join(f"証券番号：81000000{i:02d} 契約者名：山田 太郎 様 引受：東京海上日動" for i in range(12))
        msg = make_message(rows, to=(BRANCH_A, SOMPO))
        code, _ = await submit(gw.port, HEAD_OFFICE, [BRANCH_A, SOMPO], msg)
        assert code == 250
        [(_, rcpts, data)] = sink.received
        h = parsed(data)
        assert rcpts == (BRANCH_A, SOMPO)
        assert (h["X-DLP-Verdict"], h["X-DLP-Simulated"]) == ("quarantine", "yes")
        assert h["X-DLP-Rules"] == "cross-insurer, cross-insurer-bulk"
    finally:
        await gw.stop()


async def test_reject_and_quarantine_tell_the_sender(tmp_path: Path, sink: Sink) -> None:
    reject = Rule("reject-all-cross", Condition(violation=(ViolationKind.CROSS_INSURER,)), Action.REJECT)
    gw = await gateway_for(tmp_path, sink, rules=(reject,), notices=NOTICES)
    try:
        code, _ = await submit(gw.port, HEAD_OFFICE, [SOMPO, BRANCH_A], make_message(TOKIO_LIST, to=(SOMPO,)))
        assert code == 550
        # The two notices are sent side by side: they may arrive in either order.
        by_rcpts = {rcpts: data for _, rcpts, data in sink.received}
        assert sorted(by_rcpts) == [("compliance@mirai-hoken.example.jp",), (HEAD_OFFICE,)]
        assert len(sink.received) == 2
        assert "送信拒否" in parsed(by_rcpts[(HEAD_OFFICE,)]).get_body().get_content()  # type: ignore[union-attr]
    finally:
        await gw.stop()


async def wait_for_line(proc: asyncio.subprocess.Process, text: bytes) -> bytes:
    assert proc.stderr is not None
    while True:
        line = await asyncio.wait_for(proc.stderr.readline(), 30)
        assert line, "gateway exited"
        if text in line:
            return line


async def test_hot_reload_applies_a_valid_configuration_and_refuses_an_invalid_one(site: Path) -> None:
    port = free_port()
    proc = await start_serve(site, port)
    msg = make_message("本日の打合せの件です。", to=(SOMPO,))
    try:
        code, _ = await submit(port, HEAD_OFFICE, [SOMPO], msg)
        assert code == 250
        (site / "rules" / "zz-block.yaml").write_text(
            "rules:\n  - {name: block-sompo, when: {recipients: [sompo-japan.co.jp]}, action: reject}\n",
            encoding="utf-8",
        )
        out = await asyncio.to_thread(cli, "reload", "--config", "rules", cwd=site)
        assert "reload" in out.stdout
        await wait_for_line(proc, b"configuration reloaded")
        code, _ = await submit(port, HEAD_OFFICE, [SOMPO], msg)
        assert code == 550
        (site / "rules" / "zz-block.yaml").write_text("rules:\n  - {name: broken, action: explode}\n", encoding="utf-8")
        proc.send_signal(signal.SIGHUP)  # the CLI would refuse to signal; the signal itself must be safe too
        line = await wait_for_line(proc, b"reload refused")
        assert b"zz-block.yaml: rules[" in line and b"unknown action 'explode'" in line
        code, _ = await submit(port, HEAD_OFFICE, [SOMPO], msg)
        assert code == 550  # the previous configuration stays in force
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0
    assert not (site / "var" / "dlp-gateway.pid").exists()
