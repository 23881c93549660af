"""End to end over loopback sockets: client → gateway → upstream sink (all real SMTP)."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import math
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dlp_gateway.config.schema import Config, Quarantine, Rule, Upstream
from dlp_gateway.decide.conditions import Condition
from dlp_gateway.model import Action, Envelope, Report, ViolationKind
from dlp_gateway.observe.metrics import REGISTRY
from dlp_gateway.pipeline import Pipeline
from dlp_gateway.quarantine.sqlite import SqliteStore
from dlp_gateway.quarantine.store import list_messages
from dlp_gateway.registry import Registry, RegistryIndex
from dlp_gateway.smtp.relay import SmtpRelay
from dlp_gateway.smtp.server import Gateway
from tests.helpers import (
    BRANCH_A,
    BRANCH_B,
    HEAD_OFFICE,
    MSI,
    SOMPO,
    TOKIO,
    TOKIO_LIST,
    Sink,
    example_config,
    free_port,
    make_message,
    review_for,
    submit,
)
from tests.smtp_probes import envelope_lines, raw_session


@dataclasses.dataclass
class Rig:
    gateway: Gateway
    sink: Sink
    store: SqliteStore
    config: Config
    relay: SmtpRelay

    @property
    def port(self) -> int:
        return self.gateway.port


async def start_rig(
    tmp_path: Path,
    sink_port: int,
    rules: tuple[Rule, ...] | None = None,
    registry: Registry | None = None,
    pipeline: Pipeline | None = None,
) -> Rig:
    upstream = Upstream("127.0.0.1", sink_port, timeout=5)
    # Notices have tests of their own (test_notices, test_e2e_actions); here the sink sees mail only.
    config = example_config(upstream=upstream, quarantine=Quarantine(path=tmp_path / "q.db"), notices=None)
    if rules is not None:
        config = dataclasses.replace(config, rules=config.rules + rules)
    store = SqliteStore(config.quarantine.path)
    relay = SmtpRelay(upstream)
    gw = Gateway(config, pipeline or Pipeline(config, registry or RegistryIndex()), relay, store)
    await gw.start(port=0)
    return Rig(gw, Sink(), store, config, relay)


@pytest.fixture
async def rig(tmp_path: Path, sink: Sink) -> AsyncIterator[Rig]:
    assert sink.server is not None
    r = await start_rig(
        tmp_path,
        sink.server.sockets[0].getsockname()[1],
        rules=(
            Rule(
                "reject-to-aioi",
                Condition(violation=(ViolationKind.CROSS_INSURER,), recipient_party=("insurer:aioi",)),
                Action.REJECT,
            ),
        ),
    )
    r.sink = sink
    yield r
    await r.gateway.stop()


def headers(data: bytes) -> email.message.Message:
    return email.message_from_bytes(data, policy=email.policy.compat32)


async def test_seed_scenario_strips_the_other_insurers_and_delivers_to_branches(rig: Rig) -> None:
    msg = make_message(TOKIO_LIST, to=(BRANCH_A, BRANCH_B), cc=(SOMPO, MSI))
    code, reply = await submit(rig.port, HEAD_OFFICE, [BRANCH_A, BRANCH_B, SOMPO, MSI], msg)
    assert code == 250, reply
    [(mail_from, rcpts, data)] = rig.sink.received
    assert mail_from == HEAD_OFFICE
    assert rcpts == (BRANCH_A, BRANCH_B)
    h = headers(data)
    assert h["Cc"] is None
    assert h["To"] == f"{BRANCH_A}, {BRANCH_B}"
    assert h["X-DLP-Verdict"] == "strip"
    assert h["X-DLP-Rules"] == "cross-insurer"
    assert data.endswith(msg.partition(b"\r\n\r\n")[2])  # the body is untouched


async def test_list_sent_to_its_own_underwriter_is_delivered_byte_for_byte(rig: Rig) -> None:
    msg = make_message(TOKIO_LIST, to=(TOKIO,), cc=(BRANCH_A,), charset="ISO-2022-JP")
    code, _ = await submit(rig.port, HEAD_OFFICE, [TOKIO, BRANCH_A], msg)
    assert code == 250
    assert rig.sink.received == [(HEAD_OFFICE, (TOKIO, BRANCH_A), msg)]


async def test_insurer_only_in_the_envelope_bcc_is_stripped(rig: Rig) -> None:
    msg = make_message(TOKIO_LIST, to=(BRANCH_A,))
    code, _ = await submit(rig.port, HEAD_OFFICE, [BRANCH_A, MSI.upper()], msg)
    assert code == 250
    [(_, rcpts, data)] = rig.sink.received
    assert rcpts == (BRANCH_A,)
    assert headers(data)["To"] == BRANCH_A


async def test_bulk_list_is_quarantined_then_released_to_the_original_envelope(rig: Rig) -> None:
    rows = "\n".join(f"証券番号：81000000{i:02d}　契約者名：山田 太郎 様　引受：東京海上日動" for i in range(12))
    msg = make_message(rows, to=(BRANCH_A,), cc=(SOMPO,))
    code, reply = await submit(rig.port, HEAD_OFFICE, [BRANCH_A, SOMPO], msg)
    assert code == 250
    assert "Held for compliance review" in reply
    assert rig.sink.received == []
    [held] = await list_messages(rig.store)
    assert held.ref in reply
    assert (await rig.store.get(held.ref)).raw == msg
    assert held.rules == ("cross-insurer", "cross-insurer-bulk")
    assert "8100000001" not in str(held.summary)  # the stored summary is masked
    assert held.summary.records[1].policy_number == "81******01"
    done = await review_for(rig.store, rig.relay, rig.config).release(held.ref, "compliance-officer", "本社の了承済み")
    assert done.status == "released"
    assert done.reviewer == "compliance-officer"
    assert rig.sink.received == [(HEAD_OFFICE, (BRANCH_A, SOMPO), msg)]


async def test_release_with_violating_recipients_stripped(rig: Rig) -> None:
    rows = "\n".join(f"証券番号：81000000{i:02d}　契約者名：山田 太郎 様" for i in range(10))
    msg = make_message(rows, to=(BRANCH_A,), cc=(SOMPO,))
    await submit(rig.port, HEAD_OFFICE, [BRANCH_A, SOMPO], msg)
    [held] = await list_messages(rig.store)
    await review_for(rig.store, rig.relay, rig.config).release(held.ref, "officer", strip_violating=True)
    [(_, rcpts, data)] = rig.sink.received
    assert rcpts == (BRANCH_A,)
    assert headers(data)["Cc"] is None


async def test_reject_answers_550_with_a_reference_and_no_customer_data(rig: Rig) -> None:
    msg = make_message(TOKIO_LIST, to=("x@aioinissaydowa.co.jp", BRANCH_A))
    code, reply = await submit(rig.port, HEAD_OFFICE, ["x@aioinissaydowa.co.jp", BRANCH_A], msg)
    assert code == 550
    assert reply.startswith("5.7.1 ")
    assert "ref " in reply
    for secret in ("8100000001", "山田", "Yamada"):
        assert secret not in reply
    assert rig.sink.received == []


async def test_upstream_down_gives_451_then_delivers_once_it_is_back(tmp_path: Path) -> None:
    port = free_port()
    r = await start_rig(tmp_path, port)
    try:
        msg = make_message(TOKIO_LIST, to=(TOKIO,))
        code, reply = await submit(r.port, HEAD_OFFICE, [TOKIO], msg)
        assert code == 451
        assert reply.startswith("4.4.1")
        sink = Sink()
        await sink.start(port)
        try:
            code, _ = await submit(r.port, HEAD_OFFICE, [TOKIO], msg)  # the sending MTA retries
            assert code == 250
            assert sink.received == [(HEAD_OFFICE, (TOKIO,), msg)]
        finally:
            await sink.stop()
    finally:
        await r.gateway.stop()


@pytest.mark.parametrize(
    ("answer", "code"), [("451 4.3.0 try later", 451), ("421 4.3.2 shutting down", 451), ("554 5.7.1 no", 554)]
)
async def test_upstream_refusal_is_passed_on_as_temporary_or_permanent(rig: Rig, answer: str, code: int) -> None:
    rig.sink.answer = answer
    got, _ = await submit(rig.port, HEAD_OFFICE, [BRANCH_A], make_message("こんにちは"))
    assert got == code


async def test_quarantine_store_down_gives_451(rig: Rig, tmp_path: Path) -> None:
    rig.store.path = tmp_path / "no-such-dir" / "q.db"
    rows = "\n".join(f"証券番号：81000000{i:02d}" for i in range(10))
    code, reply = await submit(rig.port, HEAD_OFFICE, [SOMPO, BRANCH_A], make_message(rows, to=(SOMPO, BRANCH_A)))
    assert code == 451
    assert reply.startswith("4.3.0")
    assert rig.sink.received == []


class ExplodingPipeline(Pipeline):
    def scan(self, raw: bytes, envelope: Envelope, deadline: float = math.inf) -> Report:
        raise RuntimeError("parser bug")


async def test_scanner_failure_follows_on_error_and_never_passes(tmp_path: Path, sink: Sink) -> None:
    assert sink.server is not None
    cfg = example_config()
    r = await start_rig(tmp_path, sink.server.sockets[0].getsockname()[1], pipeline=ExplodingPipeline(cfg))
    try:
        code, reply = await submit(r.port, HEAD_OFFICE, [SOMPO], make_message(TOKIO_LIST, to=(SOMPO,)))
        assert code == 250
        assert "Held" in reply
        assert sink.received == []
        [held] = await list_messages(r.store)
        assert held.rules == ("on_error",)
        assert "RuntimeError" in str(held.summary.scan_error)
    finally:
        await r.gateway.stop()


async def test_internal_mail_without_customer_data_passes_untouched(rig: Rig) -> None:
    msg = make_message("会議は15時からです。\n電話 0120-577-101", to=(BRANCH_A,), cc=(SOMPO,))
    code, _ = await submit(rig.port, HEAD_OFFICE, [BRANCH_A, SOMPO], msg)
    assert code == 250
    assert rig.sink.received == [(HEAD_OFFICE, (BRANCH_A, SOMPO), msg)]


async def gateway_taking_2000_bytes(tmp_path: Path, sink: Sink) -> Gateway:
    """A started gateway like the rig's, with limits.max_message_size 2000."""
    assert sink.server is not None
    r = await start_rig(tmp_path, sink.server.sockets[0].getsockname()[1])
    await r.gateway.stop()
    cfg = dataclasses.replace(r.config, limits=dataclasses.replace(r.config.limits, max_message_size=2000))
    gw = Gateway(cfg, Pipeline(cfg), r.relay, r.store)
    await gw.start(port=0)
    return gw


async def test_oversized_message_gets_552(tmp_path: Path, sink: Sink) -> None:
    gw = await gateway_taking_2000_bytes(tmp_path, sink)
    try:
        code, _ = await submit(gw.port, HEAD_OFFICE, [BRANCH_A], make_message("あ" * 3000))
        assert code == 552  # (told at MAIL FROM: the client library sends SIZE=)
        assert sink.received == []
    finally:
        await gw.stop()


@pytest.mark.parametrize(
    ("body", "code", "reason"),
    [
        (b"Subject: big\r\n\r\n" + b"x" * 998 + b"\r\n" + (b"y" * 100 + b"\r\n") * 20, b"552", "too much"),
        (b"Subject: long\r\n\r\n" + b"z" * 1200 + b"\r\n", b"500", "too long"),
    ],
)
async def test_a_message_refused_at_data_is_counted_and_logged_and_the_session_goes_on(
    tmp_path: Path, sink: Sink, caplog: pytest.LogCaptureFixture, body: bytes, code: bytes, reason: str
) -> None:
    """A client that sends no SIZE= learns of the limit only after its data: the refusal is
    aiosmtpd's reply, counted with the replies after DATA and logged without the content."""
    gw = await gateway_taking_2000_bytes(tmp_path, sink)
    before = REGISTRY.get_sample_value("dlp_smtp_replies_total", {"code": code.decode()}) or 0.0
    try:
        replies = await raw_session(gw.port, [*envelope_lines(body + b".\r\n"), b"NOOP\r\n"])
    finally:
        await gw.stop()
    assert replies[-2].startswith(code) and replies[-1].startswith(b"250")
    assert sink.received == []
    assert REGISTRY.get_sample_value("dlp_smtp_replies_total", {"code": code.decode()}) == before + 1
    [line] = [rec.getMessage() for rec in caplog.records if "refused at DATA" in rec.getMessage()]
    assert reason in line and "peer=127.0.0.1" in line and "x" * 20 not in line and "z" * 20 not in line


async def test_customer_data_to_an_external_address_is_monitored_with_trace_headers(rig: Rig) -> None:
    msg = make_message(TOKIO_LIST, to=("someone@gmail.example",))
    code, reply = await submit(rig.port, HEAD_OFFICE, ["someone@gmail.example"], msg)
    assert code == 250
    [(_, rcpts, data)] = rig.sink.received
    h = headers(data)
    assert rcpts == ("someone@gmail.example",)
    assert h["X-DLP-Verdict"] == "monitor"
    assert h["X-DLP-Rules"] == "customer-data-external"
    assert h["X-DLP-Ref"] in reply
    assert data.endswith(msg.partition(b"\r\n\r\n")[2])
