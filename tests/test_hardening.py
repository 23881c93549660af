"""Hostile clients: relay access, limits, SMTP smuggling probes, graceful shutdown, fuzzed input."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import math
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlp_gateway.config.schema import SmtpPolicy
from dlp_gateway.model import Envelope, Report
from dlp_gateway.pipeline import Pipeline
from dlp_gateway.smtp.server import Gateway, has_bare_newline_or_nul
from tests.helpers import BRANCH_A, HEAD_OFFICE, Sink, example_config, make_message, start_gateway, submit
from tests.smtp_probes import PROBES, SEQUENCES, envelope_lines, raw_session


async def gateway(tmp_path: Path, sink: Sink, pipeline: Pipeline | None = None, **policy: Any) -> Gateway:
    gw: Gateway = await start_gateway(
        tmp_path, sink, pipeline, notices=None, smtp=dataclasses.replace(SmtpPolicy(), **policy)
    )
    return gw


@pytest.fixture
async def gw(tmp_path: Path, sink: Sink) -> AsyncIterator[Gateway]:
    g = await gateway(tmp_path, sink)
    yield g
    await g.stop(timeout=1)


@pytest.mark.parametrize("sequence", SEQUENCES, ids=[repr(s) for s in SEQUENCES])
async def test_smuggling_sequences_never_make_two_messages(gw: Gateway, sink: Sink, sequence: str) -> None:
    smuggled = (
        "MAIL FROM:<evil@attacker.example>\r\nRCPT TO:<victim@ms-ins.com>\r\nDATA\r\n"
        "Subject: smuggled\r\n\r\nsmuggled\r\n"
    )
    body = ("Subject: probe\r\n\r\nfirst" + sequence + smuggled + "\r\n.\r\n").encode("latin-1")
    replies = await raw_session(gw.port, envelope_lines(body))
    assert replies[-1].startswith(b"550 5.5.2"), replies[-1]
    assert sink.received == []  # refused whole; never split into a second message


async def test_normalize_mode_delivers_one_message_with_crlf_only(tmp_path: Path, sink: Sink) -> None:
    g = await gateway(tmp_path, sink, bare_newlines="normalize")
    try:
        body = b"Subject: probe\r\n\r\nfirst\n.\nMAIL FROM:<evil@attacker.example>\r\nsmuggled\r\n\x00\r\n.\r\n"
        replies = await raw_session(g.port, envelope_lines(body))
        assert replies[-1].startswith(b"250")
        [(_, rcpts, data)] = sink.received
        assert rcpts == (BRANCH_A,) and b"smuggled" in data
        assert b"\x00" not in data and b"\n" not in data.replace(b"\r\n", b"")
    finally:
        await g.stop(timeout=1)


async def test_aiosmtpd_cve_2024_27305_regression_is_one_message(gw: Gateway, sink: Sink) -> None:
    probe = PROBES["aiosmtpd_regression_test"]["message_data"].encode("latin-1")
    replies = await raw_session(gw.port, envelope_lines(probe))
    assert replies[-1].startswith(b"550 5.5.2")  # its bare LF is refused: nothing reaches the upstream
    assert sink.received == []


async def test_clients_outside_the_allowed_networks_cannot_relay(tmp_path: Path, sink: Sink) -> None:
    g = await gateway(tmp_path, sink, client_networks=(ipaddress.ip_network("10.0.0.0/8"),))
    try:
        replies = await raw_session(g.port, [b"EHLO x\r\n", f"MAIL FROM:<{HEAD_OFFICE}>\r\n".encode()])
        assert replies[-1].startswith(b"554 5.7.1")
    finally:
        await g.stop(timeout=1)


async def test_control_characters_in_addresses_are_refused(gw: Gateway) -> None:
    replies = await raw_session(gw.port, [b"EHLO x\r\n", b"MAIL FROM:<a\rRCPT TO:<x@y>@b.jp>\r\n"])
    assert replies[-1].startswith(b"501")


async def test_recipient_message_rate_and_session_limits(tmp_path: Path, sink: Sink) -> None:
    g = await gateway(tmp_path, sink, max_recipients=2, max_messages_per_minute=2, max_sessions=2)
    try:
        rcpts = [f"RCPT TO:<r{i}@mirai-hoken.example.jp>\r\n".encode() for i in range(3)]
        replies = await raw_session(g.port, [b"EHLO x\r\n", f"MAIL FROM:<{HEAD_OFFICE}>\r\n".encode(), *rcpts])
        assert [r[:3] for r in replies[-3:]] == [b"250", b"250", b"452"]
        codes = [(await submit(g.port, HEAD_OFFICE, [BRANCH_A], make_message("hi")))[0] for _ in range(3)]
        assert codes[:1] == [250] and 451 in codes  # the rate limit answers 4xx: the client retries later
        held = [await asyncio.open_connection("127.0.0.1", g.port) for _ in range(2)]
        for r, _ in held:
            assert (await r.readline()).startswith(b"220")  # both sessions are open on the server side
        reader, _ = await asyncio.open_connection("127.0.0.1", g.port)
        assert (await reader.readline()).startswith(b"421")
        for _, w in held:
            w.close()
    finally:
        await g.stop(timeout=1)


class SlowPipeline(Pipeline):
    def scan(self, raw: bytes, envelope: Envelope, deadline: float = math.inf) -> Report:
        time.sleep(0.7)
        return super().scan(raw, envelope, deadline)


async def test_sigterm_style_stop_lets_the_message_in_flight_finish(tmp_path: Path, sink: Sink) -> None:
    cfg = example_config()
    g = await gateway(tmp_path, sink, pipeline=SlowPipeline(cfg))
    port = g.port
    task = asyncio.create_task(submit(port, HEAD_OFFICE, [BRANCH_A], make_message("会議の件")))
    await asyncio.sleep(0.3)
    await g.stop(timeout=5)  # stops accepting, waits for the message in flight
    code, _ = await task
    assert code == 250
    assert len(sink.received) == 1
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)


PIPELINE = Pipeline(example_config())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_any_bytes_get_a_verdict(data: bytes) -> None:
    report = PIPELINE.scan(data, Envelope(HEAD_OFFICE, ("x@ms-ins.com",)))
    assert report.decision.verdict is not None


MIME_PIECES = st.sampled_from(
    [
        b'Content-Type: multipart/mixed; boundary="b"\r\n',
        b"--b\r\n",
        b"--b--\r\n",
        b"\r\n",
        b"Content-Transfer-Encoding: base64\r\n",
        b"Content-Transfer-Encoding: quoted-printable\r\n",
        b"Content-Type: text/plain; charset=iso-2022-jp\r\n",
        b"Content-Type: message/rfc822\r\n",
        b"Content-Disposition: attachment; filename*=UTF-8''%E6%BA%80.zip\r\n",
        b"=?UTF-8?B?5rqA5pyf?=\r\n",
        b"\x1b$B;3ED\x1b(B",
        "証券番号：8100000001 契約者名：山田 太郎 様\r\n".encode(),
        b"PK\x03\x04",
        b"%PDF-1.4\r\n",
        b"\xff\xfe\x00",
        b"=E3=81=82\r\n",
        b"5rqA5pyf5LiA6Kan\r\n",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(MIME_PIECES, max_size=40))
def test_any_mime_shaped_input_gets_a_verdict(pieces: list[bytes]) -> None:
    report = PIPELINE.scan(b"".join(pieces), Envelope(HEAD_OFFICE, ("x@ms-ins.com",)))
    assert report.decision.verdict is not None


async def test_overlong_lines_get_a_clear_reply_and_nothing_is_relayed(gw: Gateway, sink: Sink) -> None:
    # RFC 5321 4.5.3.1.6: text lines are at most 1000 octets with CRLF; commands 512.
    body = b"Subject: long\r\n\r\n" + b"A" * 5000 + b"\r\n.\r\n"
    replies = await raw_session(gw.port, envelope_lines(body))
    assert replies[-1].startswith(b"500 Line too long")
    replies = await raw_session(
        gw.port, [b"EHLO x\r\n", f"MAIL FROM:<{HEAD_OFFICE}> ".encode() + b"X" * 3000 + b"\r\n"]
    )
    assert replies[-1].startswith(b"500 Command line too long")
    assert sink.received == []


BARE_BY_PATTERN = re.compile(rb"\r(?!\n)|(?<!\r)\n|\x00")


@pytest.mark.slow  # 2,000 examples
@settings(max_examples=2000)
@given(st.lists(st.sampled_from([b"\r", b"\n", b"\r\n", b"a", b"\x00", b"\r\r\n", b"\n\r"])).map(b"".join))
def test_bare_newline_check_counts_what_the_pattern_finds(raw: bytes) -> None:
    assert has_bare_newline_or_nul(raw) == bool(BARE_BY_PATTERN.search(raw))
