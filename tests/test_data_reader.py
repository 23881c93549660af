"""smtp/data_reader.py against aiosmtpd's own DATA reader, the oracle: the same generated client bytes
(end-of-data look-alikes from the smuggling probes, bare CR and LF, dot-led lines, lines around
the length limit, messages around the size limit, pipelined commands after the dot), sent in
random pieces over loopback to a stock aiosmtpd server and to one with the block reader, give the
same replies, byte for byte, and the same messages handed to the handler."""

from __future__ import annotations

import asyncio
from unittest.mock import patch

import pytest
from aiosmtpd.smtp import SMTP
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from dlp_gateway.smtp.data_reader import BlockDataSMTP, Outcome, read_data
from dlp_gateway.smtp.server import LimitedSMTP
from tests.smtp_probes import SEQUENCES

SIZE_LIMIT = 3000
TOO_LONG = b"500 Line too long (see RFC5321 4.5.3.1.6)\r\n"
TOO_MUCH = b"552 Error: Too much mail data\r\n"


class Capture:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: SMTP, session: object, envelope: object) -> str:
        content = envelope.original_content  # type: ignore[attr-defined]
        assert content == envelope.content  # type: ignore[attr-defined]  # (no decoding)
        self.messages.append(content)
        return "250 OK"


async def transcript(factory: type[SMTP], client: bytes, cuts: list[int]) -> tuple[bytes, list[bytes]]:
    """Everything the server replied until it closed (or a second of silence), and what it accepted."""
    handler = Capture()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: factory(handler, data_size_limit=SIZE_LIMIT), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        at = 0
        for cut in [*sorted(set(cuts)), len(client)]:
            try:
                writer.write(client[at:cut])
                await writer.drain()
            except ConnectionError:
                break  # (the server hung up: too many bogus commands after an early end of data)
            await asyncio.sleep(0.002)  # (the server sees the pieces apart)
            at = max(at, cut)
        replies = b""
        while chunk := await asyncio.wait_for(reader.read(65536), 1):
            replies += chunk
    except TimeoutError:
        replies += b"<silent>"
    finally:
        writer.close()
        server.close()
        await server.wait_closed()
    return replies, handler.messages


tokens = st.sampled_from(
    [b"a", b".", b"\r", b"\n", b"\r\n", b"\r\n.", b".\r\n", b"\r\n..", b"\x00", b"\xe3\x81\x82", b" "]
    + [b"x" * 997, b"y" * 998, b"z" * 1000, b"w" * 1500]
    + [b"\r\n.\r\nNOOP\r\n", b"\r\n.\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"]
    + [s.encode() for s in SEQUENCES]
)
bodies = st.lists(tokens, max_size=30).map(b"".join)


def client_bytes(body: bytes) -> bytes:
    return b"EHLO t\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n" + body + b"\r\n.\r\nQUIT\r\n"


async def both(client: bytes, cuts: list[int]) -> tuple[tuple[bytes, list[bytes]], tuple[bytes, list[bytes]]]:
    return await transcript(SMTP, client, cuts), await transcript(BlockDataSMTP, client, cuts)


# (no shrinking: a reader that misses the end leaves each example silent for a second)
@settings(max_examples=250, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(bodies, st.lists(st.integers(0, 6000), max_size=4))
def test_the_same_replies_and_messages_as_aiosmtpd(body: bytes, cuts: list[int]) -> None:
    client = client_bytes(body)
    with patch("aiosmtpd.smtp.BOGUS_LIMIT", 10**6):  # (what follows an early end is all commands)
        (theirs, their_messages), (ours, our_messages) = asyncio.run(both(client, cuts))
    assert b"<silent>" not in theirs + ours
    assert our_messages == their_messages
    if ours != theirs:
        # The one difference allowed: a message both too big and with too long a line, which
        # aiosmtpd may call too long (whichever its line loop met first) and this reader too big.
        assert ours.replace(TOO_MUCH, TOO_LONG) == theirs, (ours, theirs)


async def test_each_outcome_told_and_the_session_goes_on() -> None:
    client = (
        b"EHLO t\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"
        + b"q" * 1200
        + b"\r\n.\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"
        + (b"r" * 900 + b"\r\n") * 5
        + b".\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"
        + b"..dot\r\n.\r\nQUIT\r\n"
    )
    replies, messages = await transcript(BlockDataSMTP, client, [])
    assert TOO_LONG in replies and TOO_MUCH in replies
    assert replies.index(TOO_LONG) < replies.index(TOO_MUCH)
    assert messages == [b".dot\r\n"]  # the one that fitted, its dot unstuffed
    assert replies.endswith(b"250 OK\r\n221 Bye\r\n")


async def test_a_lone_dot_first_is_an_empty_message_and_what_follows_stays_unread() -> None:
    reader = asyncio.StreamReader(limit=1001)
    reader.feed_data(b".\r\nQUIT\r\n")
    assert await read_data(reader, None, 1001) == (Outcome.OK, b"")
    assert await reader.readline() == b"QUIT\r\n"


async def test_past_the_size_limit_nothing_is_kept_but_the_stream_is_read_to_its_end() -> None:
    reader = asyncio.StreamReader(limit=1001)
    for _ in range(200):
        reader.feed_data(b"s" * 998 + b"\r\n")
    reader.feed_data(b".\r\nNOOP\r\n")
    assert await read_data(reader, 10_000, 1001) == (Outcome.TOO_MUCH, b"")
    assert await reader.readline() == b"NOOP\r\n"


@pytest.mark.parametrize("size", range(SIZE_LIMIT - 4, SIZE_LIMIT + 5))
async def test_a_message_at_the_size_limit_as_aiosmtpd(size: int) -> None:
    body = (b"m" * 98 + b"\r\n") * (size // 100) + b"n" * (size % 100)
    client = client_bytes(body)  # (its \r\n before the lone dot makes the message `size` + 2 bytes)
    assert await transcript(BlockDataSMTP, client, []) == await transcript(SMTP, client, [])


def test_the_gateway_reads_data_in_blocks() -> None:
    assert issubclass(LimitedSMTP, BlockDataSMTP)
