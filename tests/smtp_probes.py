"""The SMTP smuggling probes of ../shared/corpora and a client that speaks SMTP byte for byte:
shared by the gateway's own hardening tests and the tests against real Postfix."""

from __future__ import annotations

import asyncio
import json

from tests.helpers import BRANCH_A, CORPORA, HEAD_OFFICE

PROBES = json.loads((CORPORA / "smtp" / "smuggling_and_injection_probes.json").read_text(encoding="utf-8"))
SEQUENCES = sorted(
    set(PROBES["smtpsmug"]["sequences"].values())
    | set(PROBES["sec_consult_smtp_smuggling_tools"]["inbound_eod_sequences"])
    | set(PROBES["sec_consult_smtp_smuggling_tools"]["outbound_eod_sequences"])
)


async def raw_session(port: int, lines: list[bytes]) -> list[bytes]:
    """Speak SMTP byte for byte (no client library fixes anything up) and collect the replies."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    replies = [await reader.readline()]
    for chunk in lines:
        writer.write(chunk)
        await writer.drain()
        reply = await asyncio.wait_for(reader.readline(), 10)
        while reply[3:4] == b"-":  # multi-line reply
            reply = await asyncio.wait_for(reader.readline(), 10)
        replies.append(reply)
    writer.close()
    return replies


def envelope_lines(body: bytes) -> list[bytes]:
    return [
        b"EHLO probe\r\n",
        f"MAIL FROM:<{HEAD_OFFICE}>\r\n".encode(),
        f"RCPT TO:<{BRANCH_A}>\r\n".encode(),
        b"DATA\r\n",
        body,
    ]
