"""smtp/fast_data.py stands in for aiosmtplib's DATA preparation: the same bytes as the library's
own functions for any message (generated from the characters that matter), installed in this
release of aiosmtplib, and a message with dot-led lines and long lines relayed intact to a real
SMTP server on loopback."""

from __future__ import annotations

import aiosmtplib.protocol
import aiosmtplib.smtp
from hypothesis import given, settings
from hypothesis import strategies as st

from dlp_gateway.config.schema import Upstream
from dlp_gateway.smtp import fast_data
from dlp_gateway.smtp.relay import SmtpRelay
from tests.helpers import HEAD_OFFICE, SOMPO, Sink

messages = st.lists(st.sampled_from([b"a", b"\r", b"\n", b".", b"\r\n", b"\r\n.", b"..", b"\xe3\x81\x82"])).map(
    b"".join
)


@settings(max_examples=1000, deadline=None)
@given(messages)
def test_the_same_bytes_as_the_library(message: bytes) -> None:
    assert fast_data._normalize is not None and fast_data._period is not None
    assert fast_data.normalized(message) == fast_data._normalize(message)
    assert fast_data._Periods(fast_data._period).sub(b"..", message) == fast_data._period.sub(b"..", message)


def test_installed_in_this_release_of_aiosmtplib() -> None:
    assert fast_data.INSTALLED
    assert aiosmtplib.protocol.normalize_message_line_endings is fast_data.normalized
    assert aiosmtplib.smtp.normalize_message_line_endings is fast_data.normalized  # type: ignore[attr-defined]
    assert isinstance(aiosmtplib.protocol.PERIOD_REGEX, fast_data._Periods)


async def test_dot_led_lines_arrive_intact_through_a_socket() -> None:
    sink = Sink()
    port = await sink.start()
    relay = SmtpRelay(Upstream("127.0.0.1", port, tls="none", timeout=5))
    body = b"Subject: dots\r\n\r\n.\r\n..two\r\n.end of line\r\nplain\r\n" + (b"x" * 900 + b"\r\n") * 8
    try:
        await relay.send(HEAD_OFFICE, [SOMPO], body)
        await relay.send(HEAD_OFFICE, [SOMPO], b"Subject: none\r\n\r\nno dots here\r\n")
    finally:
        await relay.close()
        await sink.stop()
    assert [data for _, _, data in sink.received] == [body, b"Subject: none\r\n\r\nno dots here\r\n"]
