"""SmtpRelay keeps upstream connections for the next messages (real aiosmtpd upstream on loopback):
one session carries many messages, a session the upstream has dropped or stopped answering is
replaced without losing the message, a session that saw an error is not used again, and closing
the relay says QUIT."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from dlp_gateway.config.schema import Upstream
from dlp_gateway.errors import RelayError
from dlp_gateway.smtp import relay as relay_module
from dlp_gateway.smtp.relay import SmtpRelay
from tests.helpers import Sink

MSG = b"Subject: t\r\n\r\nhello\r\n"


@dataclass
class CountingSink(Sink):
    """Counts SMTP sessions (EHLO) and QUITs; `noop` makes NOOP answer with that line."""

    sessions: int = 0
    quits: int = 0
    noop: str | None = None
    protocols: list[SMTP] = field(default_factory=list)

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: Any
    ) -> Any:
        session.host_name = hostname  # the hook's duty (aiosmtpd)
        self.sessions += 1
        self.protocols.append(server)
        return responses

    async def handle_NOOP(self, server: SMTP, session: Session, envelope: Envelope, arg: str) -> str:
        return self.noop or "250 OK"

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.quits += 1
        return "221 Bye"


@pytest.fixture
async def sink() -> Any:
    s = CountingSink()
    await s.start()
    yield s
    await s.stop()


async def send_all(relay: SmtpRelay, n: int, concurrently: bool = False) -> None:
    sends = [relay.send("a@mirai-hoken.example.jp", [f"b{i}@example.jp"], MSG) for i in range(n)]
    if concurrently:
        await asyncio.gather(*sends)
    else:
        for s in sends:
            await s


async def test_one_session_carries_many_messages(sink: CountingSink) -> None:
    relay = SmtpRelay(Upstream("127.0.0.1", sink.port, timeout=5, tls="none"))
    await send_all(relay, 20)
    assert len(sink.received) == 20
    assert sink.sessions == 1
    await relay.close()
    await asyncio.sleep(0.1)
    assert sink.quits == 1


async def test_concurrent_messages_use_at_most_pool_sessions_afterwards(sink: CountingSink) -> None:
    relay = SmtpRelay(Upstream("127.0.0.1", sink.port, timeout=5, tls="none", pool=2))
    await send_all(relay, 6, concurrently=True)
    await send_all(relay, 6)
    assert len(sink.received) == 12
    assert sink.sessions == 6  # six at once, then the two kept carry the rest
    await relay.close()


async def test_pool_zero_opens_a_session_per_message(sink: CountingSink) -> None:
    relay = SmtpRelay(Upstream("127.0.0.1", sink.port, timeout=5, tls="none", pool=0))
    await send_all(relay, 3)
    assert (len(sink.received), sink.sessions, sink.quits) == (3, 3, 3)


async def test_a_session_the_upstream_dropped_is_replaced(sink: CountingSink) -> None:
    relay = SmtpRelay(Upstream("127.0.0.1", sink.port, timeout=5, tls="none"))
    await send_all(relay, 1)
    for protocol in sink.protocols:
        assert protocol.transport is not None
        protocol.transport.close()  # the upstream's idle timeout
    await asyncio.sleep(0.1)
    await send_all(relay, 1)
    assert len(sink.received) == 2
    assert sink.sessions == 2


async def test_an_idle_session_that_no_longer_answers_is_replaced(
    sink: CountingSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(relay_module, "PROBE_AFTER", 0.0)
    relay = SmtpRelay(Upstream("127.0.0.1", sink.port, timeout=5, tls="none"))
    await send_all(relay, 1)
    sink.noop = "421 4.3.2 going away"
    await send_all(relay, 1)
    assert len(sink.received) == 2
    assert sink.sessions == 2


async def test_a_session_that_saw_an_error_is_not_used_again(sink: CountingSink) -> None:
    relay = SmtpRelay(Upstream("127.0.0.1", sink.port, timeout=5, tls="none"))
    sink.answer = "451 4.3.0 try later"
    with pytest.raises(RelayError) as err:
        await send_all(relay, 1)
    assert err.value.temporary
    sink.answer = None
    await send_all(relay, 2)
    assert len(sink.received) == 2
    assert sink.sessions == 2  # the failed session was closed; a new one carried both
