"""Nothing lost under faults: thousands of messages while the gateway is SIGKILLed and restarted and
the upstream drops connections or answers 4xx. Every message the client saw accepted (250) must be
at the sink or in the quarantine afterwards; duplicates are counted and reported."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
from pathlib import Path

import aiosmtplib
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.helpers import BRANCH_A, HEAD_OFFICE, SOMPO, free_port, make_message
from tests.processes import start_serve

MESSAGES = int(os.environ.get("DLP_DURABILITY_MESSAGES", "2000"))
CLIENTS = 8


class FlakySink:
    """An upstream that answers 451 to some messages and drops the connection on others."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.rng = random.Random(7)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        roll = self.rng.random()
        if roll < 0.05:
            return "451 4.3.0 try again later"
        if roll < 0.08:
            assert server.transport is not None
            server.transport.close()  # dropped mid-transaction
            return "451 4.3.0 dropped"
        data = envelope.original_content or b""
        if b"X-Test-Id: " in data:  # (notices to the sender have none)
            self.ids.append(data.split(b"X-Test-Id: ", 1)[1].split(b"\r\n", 1)[0].decode())
        return "250 2.0.0 ok"


async def test_no_accepted_message_is_lost_under_kills_drops_and_tempfails(site: Path) -> None:
    sink = FlakySink()
    server = await asyncio.get_running_loop().create_server(lambda: SMTP(sink, hostname="sink"), "127.0.0.1", 0)
    port = free_port()
    cfg = site / "rules" / "gateway.yaml"
    text = cfg.read_text(encoding="utf-8")
    cfg.write_text(text.replace("max_messages_per_minute: 600", "max_messages_per_minute: 100000"), encoding="utf-8")
    (site / "rules" / "upstream.yaml").write_text(
        f"upstream: {{host: 127.0.0.1, port: {server.sockets[0].getsockname()[1]}, timeout: 5, tls: none}}\n",
        encoding="utf-8",
    )
    gateway = await start_serve(site, port, drain=True)
    accepted: set[str] = set()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(MESSAGES):
        queue.put_nowait(i)
    rng = random.Random(11)

    async def client() -> None:
        while not queue.empty():
            i = await queue.get()
            held = i % 10 == 0  # a tenth carries a bulk list of other insurers' customers: quarantined
            body = (
                "\n".join(f"証券番号：81000000{k:02d} 契約者名：山田 太郎 様 引受：東京海上日動" for k in range(12))
                if held
                else f"連絡 {i}"
            )
            msg = make_message(body, to=(BRANCH_A, SOMPO) if held else (BRANCH_A,))
            msg = msg.replace(b"\r\n\r\n", f"\r\nX-Test-Id: m{i}\r\n\r\n".encode(), 1)
            try:
                smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10, start_tls=False)
                await smtp.connect()
                await smtp.sendmail(HEAD_OFFICE, [BRANCH_A, SOMPO] if held else [BRANCH_A], msg)
                accepted.add(f"m{i}")
                smtp.close()
            except (aiosmtplib.SMTPException, OSError):
                queue.put_nowait(i)  # not accepted: the client keeps it and retries, as an MTA would
                await asyncio.sleep(0.05)

    kills = 0

    async def killer() -> None:
        nonlocal gateway, kills
        while not queue.empty() and kills < 6:
            await asyncio.sleep(rng.uniform(1.0, 2.5))
            gateway.send_signal(signal.SIGKILL)
            await gateway.wait()
            kills += 1
            gateway = await start_serve(site, port, drain=True)

    await asyncio.gather(killer(), *(client() for _ in range(CLIENTS)))
    gateway.send_signal(signal.SIGTERM)
    await gateway.wait()
    server.close()
    db = sqlite3.connect(site / "var" / "quarantine.db")
    held_ids = set()
    for (raw,) in db.execute("SELECT raw FROM held"):
        held_ids.add(bytes(raw).split(b"X-Test-Id: ", 1)[1].split(b"\r\n", 1)[0].decode())
    delivered = set(sink.ids)
    lost = accepted - delivered - held_ids
    duplicates = len(sink.ids) - len(delivered)
    print(
        f"\n{kills} SIGKILLs; accepted {len(accepted)} of {MESSAGES}, delivered {len(delivered)}, "
        f"held {len(held_ids)}, duplicates {duplicates}, lost {len(lost)}"
    )
    assert kills >= 1
    assert len(accepted) == MESSAGES
    assert lost == set()
    assert len(held_ids) == MESSAGES // 10
