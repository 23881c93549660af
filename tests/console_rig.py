"""A running console on loopback with a SQLite quarantine, a recording sink and two users."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from aiohttp import web

from dlp_gateway.config.schema import Console, Upstream
from dlp_gateway.console.app import ConsoleApp, bound_port, start_console
from dlp_gateway.held import HeldMessage, HeldVerdict, User
from dlp_gateway.model import Envelope
from dlp_gateway.passwords import HASHER
from dlp_gateway.pipeline import Pipeline
from dlp_gateway.quarantine.sqlite import SqliteStore
from dlp_gateway.report import summary_of
from dlp_gateway.smtp.relay import SmtpRelay
from tests.helpers import BRANCH_A, HEAD_OFFICE, SOMPO, Clock, Sink, example_config, make_message, review_for

PASSWORD = "correct horse battery staple"


@dataclasses.dataclass
class ConsoleRig:
    url: str
    store: SqliteStore
    runner: web.AppRunner
    reloads: list[str]
    clock: Clock  # the console's "now": fixtures are dated from it, never from the calendar


async def held(store: SqliteStore, ref: str, at: str, rows: int = 12, keep: int = 1000) -> bytes:
    body = "\n".join(f"証券番号：81000000{i:02d}　契約者名：山田 太郎 様　引受：東京海上日動" for i in range(rows))
    raw = make_message(body, to=(BRANCH_A, SOMPO))
    report = Pipeline(example_config()).scan(raw, Envelope(HEAD_OFFICE, (BRANCH_A, SOMPO)))
    await store.put(
        HeldMessage(
            ref,
            at,
            HEAD_OFFICE,
            (BRANCH_A, SOMPO),
            raw,
            HeldVerdict.QUARANTINE,
            report.decision.rules,
            summary_of(report, ref, keep),  # what the gateway stores
        )
    )
    return raw


async def start(tmp_path: Path, sink: Sink) -> ConsoleRig:
    assert sink.server is not None
    store = SqliteStore(tmp_path / "q.db")
    await store.put_user(User("suzuki", HASHER.hash(PASSWORD), "reviewer"))
    await store.put_user(User("admin", HASHER.hash(PASSWORD), "admin"))
    await store.put_user(User("gone", HASHER.hash(PASSWORD), "reviewer", disabled=True))
    relay = SmtpRelay(Upstream("127.0.0.1", sink.server.sockets[0].getsockname()[1], timeout=5))
    reloads: list[str] = []

    async def reload() -> str:
        reloads.append("reload")
        return "configuration reloaded: 7 rule(s)"

    clock = Clock()
    app = ConsoleApp(store, review_for(store, relay, clock=clock), Console(), reload=reload)
    runner = await start_console(app, "127.0.0.1", 0)
    return ConsoleRig(f"http://127.0.0.1:{bound_port(runner)}", store, runner, reloads, clock)
