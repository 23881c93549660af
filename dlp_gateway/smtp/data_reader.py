"""DATA read in blocks rather than a line at a time.

aiosmtpd reads a message with one `readuntil(b"\\r\\n")` per line and joins the lines again: for a
40 KB mail of 500 lines that loop was a quarter of the gateway process's CPU on text mail (py-spy,
bench/relay_throughput.py), more than the whole rest of SMTP. Here the stream is searched for the
lone-dot line itself: `readuntil(b".\\r\\n")` stops at the first dot before a line end, which is the
end of the message when a line ending stands right before it (or it is the very first line), and at
worst at a line that ends with a full stop. Nothing after the lone dot is read, so pipelined commands
stay in the reader for aiosmtpd.

The outcome is aiosmtpd's, by construction and by test (tests/test_data_reader.py sends the same
generated streams to this reader and to the library's own, over loopback): only CRLF ends a line, a
line longer than `line_length_limit` with its CRLF gets 500 after the end of the data, more than
`data_size_limit` bytes get 552, and the first dot of every line is removed (RFC 5321 §4.5.2). When a
message is both too big and has too long a line, the two readers may name different ones of the two
(aiosmtpd tells whichever its line loop met first); both refuse it.
"""

from __future__ import annotations

import asyncio
import enum
import logging

from aiosmtpd.smtp import MISSING, SMTP

log = logging.getLogger(__name__)

END = b".\r\n"  # a lone dot ends the data when it starts a line
CRLF = b"\r\n"


class Outcome(enum.Enum):
    OK = "ok"
    TOO_LONG = "too long"  # a line over line_length_limit
    TOO_MUCH = "too much"  # over data_size_limit


REFUSALS = {  # aiosmtpd's own replies
    Outcome.TOO_LONG: "500 Line too long (see RFC5321 4.5.3.1.6)",
    Outcome.TOO_MUCH: "552 Error: Too much mail data",
}


async def read_data(reader: asyncio.StreamReader, size_limit: int | None, line_limit: int) -> tuple[Outcome, bytes]:
    """The message after 354, dot-unstuffed, up to and consuming the lone-dot line and nothing after
    it; or why it is refused."""
    size, raw = await _read_raw(reader, size_limit)
    if size_limit and size > size_limit:
        return Outcome.TOO_MUCH, b""
    if len(raw) + 2 > line_limit and max(map(len, raw.split(CRLF))) + len(CRLF) > line_limit:
        return Outcome.TOO_LONG, b""
    if raw.startswith(b"."):
        raw = raw[1:]
    return Outcome.OK, raw.replace(b"\r\n.", CRLF)


async def _read_raw(reader: asyncio.StreamReader, size_limit: int | None) -> tuple[int, bytes]:
    """The message's size as sent (without the lone dot: what aiosmtpd counts) and its bytes, or
    none past `size_limit`. The reader's own limit (aiosmtpd makes it line_length_limit) bounds each
    search; what is past it without a `.\r\n` is taken as it is and the search goes on. Past
    `size_limit` nothing more is kept, but the stream is read to its end all the same (RFC 5321
    §4.2.5: the reply comes after the data)."""
    pieces: list[bytes] = []
    size = 0
    keep = True
    tail = CRLF  # the last two bytes read: DATA's own line ending comes first
    while True:
        try:
            piece = await reader.readuntil(END)
        except asyncio.LimitOverrunError as exc:
            piece = await reader.read(exc.consumed)  # (`consumed` bytes cannot hold a `.\r\n`'s start)
        else:
            if (piece[-5:-3] if len(piece) >= 5 else (tail + piece)[-5:-3]) == CRLF:  # the dot starts a line
                size += len(piece) - len(END)
                pieces.append(piece[: -len(END)])
                return size, b"".join(pieces) if keep else b""
        size += len(piece)
        if keep:
            pieces.append(piece)
            if size_limit and size > size_limit:
                keep = False
                pieces.clear()  # (memory stays bounded whatever is sent)
        tail = piece[-2:]  # (a piece is 3 bytes at least: a dot and CRLF, or past the reader's limit)


class BlockDataSMTP(SMTP):
    """aiosmtpd's SMTP with DATA read by read_data. The checks before 354 and everything after the
    data is read are the library's smtp_DATA's own, for a server that does not decode data and has a
    handle_DATA hook (the gateway's); any other keeps the library's reader."""

    async def smtp_DATA(self, arg: str) -> None:  # noqa: N802 - aiosmtpd's name
        if self._decode_data or "DATA" not in self._handle_hooks:
            await super().smtp_DATA(arg)
            return
        if not await self._may_send_data(arg):
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        try:
            outcome, content = await read_data(self._reader, self.data_size_limit, self.line_length_limit)
        except asyncio.CancelledError:
            log.info("Connection lost during DATA")
            self._writer.close()
            raise
        except asyncio.IncompleteReadError:
            self._writer.close()  # the client went away mid-message: nothing is accepted
            return
        if self.transport is None:
            return  # (the connection closed as the data ended: no one to accept it for)
        if outcome is not Outcome.OK:
            self.data_refused(outcome)
            await self.push(REFUSALS[outcome])
            self._set_post_data_state()  # type: ignore[no-untyped-call]
            return
        assert self.envelope is not None
        self.envelope.content = content
        self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()  # type: ignore[no-untyped-call]
        await self.push("250 OK" if status is MISSING else status)

    def data_refused(self, outcome: Outcome) -> None:
        """Told of a message refused at the end of its data (the gateway counts and logs it)."""

    async def _may_send_data(self, arg: str) -> bool:
        """aiosmtpd's checks before 354, each with its reply."""
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return False
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return False
        if arg:
            await self.push("501 Syntax: DATA")
            return False
        return True
