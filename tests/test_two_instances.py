"""Two `serve` processes on one PostgreSQL quarantine (as in deploy/k8s): a message held by one is
released from the other's console and delivered exactly once, even when both release it at once."""

from __future__ import annotations

import asyncio
import base64
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from dlp_gateway.held import User
from dlp_gateway.passwords import HASHER
from dlp_gateway.quarantine.postgres import PostgresStore
from tests.helpers import BRANCH_A, HEAD_OFFICE, RULES, SOMPO, Sink, free_port, make_message, submit
from tests.postgres import POSTGRES
from tests.processes import start_serve

PASSWORD = "correct horse battery staple"
BULK = "\n".join(f"証券番号：81000000{i:02d}　契約者名：山田 太郎 様　引受：東京海上日動" for i in range(12))


async def instance(root: Path, name: str, sink: Sink, schema: str) -> tuple[int, int, asyncio.subprocess.Process]:
    site = root / name
    shutil.copytree(RULES, site / "rules")
    cfg = site / "rules" / "gateway.yaml"
    text = cfg.read_text(encoding="utf-8").replace(
        "  # dsn: postgresql://dlp@db.example.jp/dlp", f"  dsn: {POSTGRES}\n  schema: {schema}"
    )
    cfg.write_text(text, encoding="utf-8")
    (site / "rules" / "upstream.yaml").write_text(
        f"upstream: {{host: 127.0.0.1, port: {sink.port}, timeout: 5, tls: none}}\n", encoding="utf-8"
    )
    smtp, console = free_port(), free_port()
    proc = await start_serve(site, smtp, console_port=console, drain=True)
    return smtp, console, proc


@pytest.fixture
async def pair(tmp_path: Path, sink: Sink, pg_schema: str) -> AsyncIterator[list[tuple[int, int]]]:
    store = await PostgresStore.connect(POSTGRES, pg_schema)
    await store.put_user(User("suzuki", HASHER.hash(PASSWORD), "reviewer"))
    await store.close()
    started = [await instance(tmp_path, name, sink, pg_schema) for name in ("a", "b")]
    yield [(smtp, console) for smtp, console, _ in started]
    for _, _, proc in started:
        proc.terminate()
        await proc.wait()


async def release(console: int, ref: str) -> int:
    auth = {"Authorization": "Basic " + base64.b64encode(f"suzuki:{PASSWORD}".encode()).decode()}
    async with aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{console}/api/messages/{ref}/release"
        async with http.post(url, headers=auth, data={"reason": "確認済み"}) as resp:
            return resp.status


async def held_at(smtp: int) -> str:
    code, reply = await submit(smtp, HEAD_OFFICE, [BRANCH_A, SOMPO], make_message(BULK, to=(BRANCH_A, SOMPO)))
    assert code == 250 and "Held" in reply, reply
    found = re.search(r"ref ([0-9a-f]+)", reply)
    assert found
    return found.group(1)


async def test_held_by_one_released_from_the_other_delivered_once(pair: list[tuple[int, int]], sink: Sink) -> None:
    (smtp_a, console_a), (_, console_b) = pair
    ref = await held_at(smtp_a)
    assert mail(sink) == []  # (the sender's and compliance's notices do reach the sink)
    assert await release(console_b, ref) == 200
    assert await release(console_a, ref) == 409  # already released: the other instance knows
    assert [rcpts for rcpts, _ in mail(sink)] == [(BRANCH_A, SOMPO)]


async def test_simultaneous_releases_from_both_deliver_once(pair: list[tuple[int, int]], sink: Sink) -> None:
    (smtp_a, console_a), (smtp_b, console_b) = pair
    refs = [await held_at(smtp_a), await held_at(smtp_b), await held_at(smtp_a)]
    for ref in refs:
        statuses = sorted(await asyncio.gather(release(console_a, ref), release(console_b, ref)))
        assert statuses == [200, 409], (ref, statuses)
    await asyncio.sleep(0.5)
    assert len(mail(sink)) == len(refs)


def mail(sink: Sink) -> list[tuple[tuple[str, ...], bytes]]:
    """What the sink got from the sender (not the gateway's notices)."""
    return [(rcpts, data) for sender, rcpts, data in sink.received if sender == HEAD_OFFICE]
