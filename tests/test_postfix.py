"""Real Postfix on loopback: the deploy/postfix recipes, and SMTP smuggling against a permissive upstream.

Every test runs a private Postfix instance (tests/postfix_rig.py) with an in-process gateway and a
recording sink that stands for the Internet. Postfix is required, not optional: without it these fail.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from dlp_gateway.config.schema import Rule, SmtpPolicy
from dlp_gateway.decide.conditions import Condition
from dlp_gateway.model import Action, ViolationKind
from dlp_gateway.smtp.server import Gateway
from tests.helpers import (
    BRANCH_A,
    HEAD_OFFICE,
    MSI,
    SOMPO,
    TOKIO,
    TOKIO_LIST,
    Sink,
    example_config,
    free_port,
    make_message,
    start_gateway,
    submit,
)
from tests.postfix_rig import Postfix, render, wait_until
from tests.smtp_probes import PROBES, SEQUENCES, envelope_lines, raw_session

SEED = make_message(TOKIO_LIST, to=(BRANCH_A,), cc=(SOMPO, TOKIO))
SMUGGLED = (
    "MAIL FROM:<evil@attacker.example>\r\nRCPT TO:<victim@ms-ins.com>\r\nDATA\r\nSubject: smuggled\r\n\r\nsmuggled\r\n"
)


@pytest.fixture
def postfixes() -> Iterator[list[Postfix]]:
    started: list[Postfix] = []
    yield started
    for pf in started:
        pf.stop()


@pytest.fixture
async def gateways() -> AsyncIterator[list[Gateway]]:
    started: list[Gateway] = []
    yield started
    for gw in started:
        await gw.stop(timeout=1)


async def run_postfix(postfixes: list[Postfix], main: str, master: str) -> Postfix:
    pf = Postfix(main=main, master=master)
    postfixes.append(pf)
    await asyncio.to_thread(pf.start)
    return pf


async def run_gateway(gateways: list[Gateway], tmp_path: Path, **kw: Any) -> Gateway:
    gw: Gateway = await start_gateway(tmp_path, kw.pop("sink", None), notices=None, **kw)
    gateways.append(gw)
    return gw


def assert_seed_stripped(sink: Sink) -> None:
    """The seed scenario: Tokio Marine's customers; Sompo's recipient goes, Tokio's stays."""
    [(mail_from, rcpts, data)] = sink.received
    assert mail_from == HEAD_OFFICE
    assert sorted(rcpts) == sorted([BRANCH_A, TOKIO])
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert SOMPO not in str(msg["Cc"]) and TOKIO in str(msg["Cc"])
    assert "8100000001" in msg.get_content()  # stripping removes recipients, not content


async def test_relayhost_recipe(tmp_path: Path, sink: Sink, postfixes: list[Postfix], gateways: list[Gateway]) -> None:
    gw = await run_gateway(gateways, tmp_path, sink=sink)
    smtp = free_port()
    pf = await run_postfix(
        postfixes,
        render("relayhost.main.cf", smtp=smtp, gateway=gw.port),
        f"127.0.0.1:{smtp} inet n - n - - smtpd",
    )
    code, _ = await submit(smtp, HEAD_OFFICE, [BRANCH_A, SOMPO, TOKIO], SEED)
    assert code == 250
    await wait_until(lambda: sink.received and pf.queue_is_empty(), what="delivery via the gateway", pf=pf)
    assert_seed_stripped(sink)
    assert "relay=127.0.0.1" in pf.log() and f"127.0.0.1]:{gw.port}" in pf.log()


async def test_after_queue_content_filter_recipe(
    tmp_path: Path, sink: Sink, postfixes: list[Postfix], gateways: list[Gateway]
) -> None:
    smtp, reinject, sink_port = free_port(), free_port(), sink.port
    gw = await run_gateway(gateways, tmp_path, upstream_port=reinject)
    pf = await run_postfix(
        postfixes,
        f"relayhost = [127.0.0.1]:{sink_port}\n",
        render("content_filter.master.cf", smtp=smtp, gateway=gw.port, reinject=reinject),
    )
    code, _ = await submit(smtp, HEAD_OFFICE, [BRANCH_A, SOMPO, TOKIO], SEED)
    assert code == 250
    await wait_until(lambda: sink.received and pf.queue_is_empty(), what="filtered delivery", pf=pf)
    assert_seed_stripped(sink)
    assert f"relay=127.0.0.1[127.0.0.1]:{gw.port}" in pf.log()  # it really went through the filter


async def test_before_queue_proxy_filter_recipe(
    tmp_path: Path, sink: Sink, postfixes: list[Postfix], gateways: list[Gateway]
) -> None:
    smtp, reinject, sink_port = free_port(), free_port(), sink.port
    reject_msi = Rule(
        "reject-msi",
        Condition(violation=(ViolationKind.CROSS_INSURER,), recipient_party=("insurer:msi",)),
        Action.REJECT,
    )
    gw = await run_gateway(gateways, tmp_path, upstream_port=reinject, rules=(*example_config().rules, reject_msi))
    pf = await run_postfix(
        postfixes,
        f"relayhost = [127.0.0.1]:{sink_port}\n",
        render("proxy_filter.master.cf", smtp=smtp, gateway=gw.port, reinject=reinject),
    )
    code, _ = await submit(smtp, HEAD_OFFICE, [BRANCH_A, SOMPO, TOKIO], SEED)
    assert code == 250
    await wait_until(lambda: sink.received and pf.queue_is_empty(), what="proxied delivery", pf=pf)
    assert_seed_stripped(sink)
    # Before queue, the gateway's refusal reaches the sending client itself; Postfix queues nothing.
    code, reply = await submit(smtp, HEAD_OFFICE, [BRANCH_A, MSI], make_message(TOKIO_LIST, cc=(MSI,)))
    assert code == 550 and "5.7.1" in reply, (code, reply)
    await asyncio.sleep(1)
    assert len(sink.received) == 1 and pf.queue_is_empty()


async def test_smuggling_probes_never_make_two_messages_at_a_permissive_postfix(
    tmp_path: Path, sink: Sink, postfixes: list[Postfix], gateways: list[Gateway]
) -> None:
    """Postfix with smtpd_forbid_bare_newline = no ends DATA at a bare-LF dot: the gateway must not."""
    smtp = free_port()
    pf = await run_postfix(
        postfixes,
        f"relayhost = [127.0.0.1]:{sink.port}\nsmtpd_forbid_bare_newline = no\n",
        f"127.0.0.1:{smtp} inet n - n - - smtpd",
    )
    # Control: sent straight to this Postfix, a bare-LF dot does smuggle a second message. If this
    # ever stops holding, the upstream is no longer permissive and the checks below prove nothing.
    await pipelined_session(
        smtp, envelope_lines(("Subject: probe\r\n\r\nfirst\n.\n" + SMUGGLED + "\r\n.\r\n").encode())
    )
    await wait_until(lambda: len(sink.received) >= 2 and pf.queue_is_empty(), what="control smuggling", pf=pf)
    assert any("victim@ms-ins.com" in rcpts for _, rcpts, _ in sink.received)
    sink.received.clear()

    accepted = injected = 0
    probes = [("Subject: probe\r\n\r\nfirst" + seq + SMUGGLED + "\r\n.\r\n").encode("latin-1") for seq in SEQUENCES]
    probes.append(PROBES["aiosmtpd_regression_test"]["message_data"].encode("latin-1"))
    for mode in ("reject", "normalize"):
        gw = await run_gateway(gateways, tmp_path / mode, upstream_port=smtp, smtp=SmtpPolicy(bare_newlines=mode))
        for body in probes:
            replies = await raw_session(gw.port, envelope_lines(body))
            accepted += replies[-1].startswith(b"250")
            assert replies[-1][:1] in (b"2", b"5"), replies[-1]
        # Addresses carrying CR or LF never reach an upstream command: the whole session is written at
        # once, so whatever the gateway makes of it, only what it accepted may arrive.
        for rcpt in (b"<a@x.example\rRCPT TO:<victim@ms-ins.com>>", b"<a@x.example\nRCPT TO:<victim@ms-ins.com>>"):
            lines = envelope_lines(b"Subject: address probe\r\n\r\nbody\r\n.\r\n")
            await pipelined_session(gw.port, [*lines[:3], b"RCPT TO:" + rcpt + b"\r\n", *lines[3:]])
            injected += 1
    assert accepted == len(probes)  # normalize mode relays every probe, each as one message
    total = accepted + injected
    await wait_until(lambda: len(sink.received) >= total and pf.queue_is_empty(), what="probe delivery", pf=pf)
    await asyncio.sleep(1)  # let anything Postfix might still split off arrive
    assert len(sink.received) == total  # one message per accepted probe: nothing split in two
    for mail_from, rcpts, data in sink.received:
        assert mail_from == HEAD_OFFICE
        assert BRANCH_A in rcpts and not any("victim" in r or "\r" in r or "\n" in r for r in rcpts), rcpts
        assert b"\x00" not in data and b"\n" not in data.replace(b"\r\n", b"")
        assert b"smuggled" in data or b"NO SMUGGLING" in data or b"address probe" in data


async def pipelined_session(port: int, chunks: list[bytes]) -> None:
    """Write everything at once (as a smuggler does), then QUIT, reading whatever comes back."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readline()
    writer.write(b"".join(chunks) + b"QUIT\r\n")
    await writer.drain()
    while await asyncio.wait_for(reader.readline(), 10):
        pass
    writer.close()
