"""The gateway's SMTP session remembers each MAIL FROM / RCPT TO argument's parse
(smtp/server.py LimitedSMTP._getaddr): held to aiosmtpd's own parse of the same argument, the
first time and from memory, over generated arguments (angle brackets, quoting, parameters,
non-ASCII, malformed) and with a local-part limit; and through a real socket."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiosmtpd.smtp import SMTP
from hypothesis import given, settings
from hypothesis import strategies as st

from dlp_gateway.smtp import server
from dlp_gateway.smtp.server import LimitedSMTP
from tests.helpers import HEAD_OFFICE, Sink, start_gateway

PIECES = [
    "<",
    ">",
    "@",
    "a",
    "tanaka",
    "b.c",
    '"x y"',
    " ",
    "SIZE=100",
    "田中",
    "ms-ins.com",
    ".",
    "\\",
    ":",
    ",",
    "()",
]
arguments = st.lists(st.sampled_from(PIECES), max_size=8).map("".join)


def _sessions(limit: int) -> tuple[SMTP, LimitedSMTP]:
    loop = asyncio.new_event_loop()
    try:
        stock = SMTP(object(), loop=loop)
        ours = LimitedSMTP(object(), object(), loop=loop)  # type: ignore[arg-type]
    finally:
        loop.close()
    stock.local_part_limit = ours.local_part_limit = limit
    return stock, ours


STOCK, OURS = _sessions(0)
STOCK_LIMITED, OURS_LIMITED = _sessions(6)


def _outcome(session: SMTP, arg: str) -> object:
    """The parse, or the exception it raises (aiosmtpd's parser fails on `<` alone; its session
    answers 500 then), which is not remembered: it is raised again the next time."""
    try:
        return session._getaddr(arg)
    except Exception as exc:  # noqa: BLE001 - what the stock parse raises is the expectation
        return type(exc)


@settings(max_examples=500, deadline=None)
@given(arguments)
def test_a_remembered_parse_is_aiosmtpds_parse(arg: str) -> None:
    for stock, ours in ((STOCK, OURS), (STOCK_LIMITED, OURS_LIMITED)):
        expected = _outcome(stock, arg)
        assert _outcome(ours, arg) == expected
        assert _outcome(ours, arg) == expected  # from memory


def test_the_memory_is_bounded() -> None:
    server._PARSED_ADDRESSES.clear()
    for i in range(server.MAX_PARSED_ADDRESSES + 10):
        assert OURS._getaddr(f"<u{i}@example.jp>") == (f"u{i}@example.jp", "")
    assert len(server._PARSED_ADDRESSES) <= server.MAX_PARSED_ADDRESSES


async def test_the_same_addresses_get_the_same_replies_through_a_socket(tmp_path: Path) -> None:
    """A malformed recipient (two @) is refused and a good one taken, the second time (from memory) as the
    first; the message reaches the sink with the recipients it was given."""
    sink = Sink()
    await sink.start()
    gw = await start_gateway(tmp_path, sink)
    port = gw.server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def say(line: str) -> str:
        writer.write(line.encode() + b"\r\n")
        await writer.drain()
        reply = await reader.readline()
        while reply[3:4] == b"-":
            reply = await reader.readline()
        return reply.decode()

    try:
        await reader.readline()
        await say("EHLO client.example.jp")
        replies = [await say(f"MAIL FROM:<{HEAD_OFFICE}>")]
        for rcpt in ("<a@b@ms-ins.com>", "<a@b@ms-ins.com>", f"<{HEAD_OFFICE}>", f"<{HEAD_OFFICE}>"):
            replies.append(await say(f"RCPT TO:{rcpt}"))
        replies.append(await say("DATA"))
        replies.append(await say("Subject: hello\r\n\r\n本日の会議は15時からです。\r\n."))
        await say("QUIT")
    finally:
        writer.close()
        await gw.stop()
        await sink.stop()
    assert [r[:3] for r in replies] == ["250", "553", "553", "250", "250", "354", "250"], replies
    assert [(frm, to) for frm, to, _ in sink.received] == [(HEAD_OFFICE, (HEAD_OFFICE, HEAD_OFFICE))]
