"""Test helpers: build messages, ISO-2022-JP with CP50220 extensions, a loopback SMTP sink."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import functools
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from dlp_gateway.config import Config, load_config
from dlp_gateway.config.schema import Quarantine

if TYPE_CHECKING:
    from dlp_gateway.quarantine.review import Review

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
CORPORA = ROOT.parent / "shared" / "corpora"
MESSAGE_DIRS = ("mime", "ja_mail")  # the corpora that hold messages


def corpus_files() -> list[Path]:
    """Every third-party message file (read in place, never copied)."""
    files = [f for d in MESSAGE_DIRS for f in sorted((CORPORA / d).rglob("*")) if f.is_file()]
    return [f for f in files if f.suffix not in (".json", ".gitattributes")]


HEAD_OFFICE = "honbu@mirai-hoken.example.jp"
BRANCH_A = "shiten-a@mirai-hoken.example.jp"
BRANCH_B = "shiten-b@mirai-hoken.example.jp"
SOMPO = "tanaka@sompo-japan.co.jp"
MSI = "kimura@ms-ins.com"
TOKIO = "suzuki@tokiomarine-nichido.co.jp"

TOKIO_LIST = """各拠点ご担当者様

今月満期の東京海上日動のご契約一覧です。

証券番号：8100000001　契約者名：山田 太郎 様　満期日：2024/10/01　引受：東京海上日動
証券番号：8100000002　契約者名：佐藤 花子 様　満期日：2024/11/15　引受：東京海上日動

本部 営業推進課
"""


@functools.cache
def _example() -> Config:
    return load_config(RULES)  # frozen, and its paths stay relative: safe to share between tests


def example_config(**changes: Any) -> Config:
    return dataclasses.replace(_example(), **changes)


def to_iso2022jp(text: str) -> bytes:
    """Encode like Windows' CP50220: JIS X 0208 via cp932, so NEC row 13 (①, ㈱) survives."""
    out = bytearray()
    mode = b"\x1b(B"

    def switch(to: bytes) -> None:
        nonlocal mode
        if mode != to:
            out.extend(to)
            mode = to

    for ch in text:
        b = ch.encode("cp932")
        if len(b) == 1 and b[0] >= 0xA1:  # half-width katakana: JIS X 0201 kana set
            switch(b"\x1b(I")
            out.append(b[0] - 0x80)
            continue
        if len(b) == 1:
            switch(b"\x1b(B")
            out.extend(b)
            continue
        switch(b"\x1b$B")
        s1, s2 = b
        j1 = (((s1 - 0x40 if s1 >= 0xE0 else s1) - 0x81) << 1) + 0x21
        if s2 >= 0x9F:
            j1, j2 = j1 + 1, s2 - 0x7E
        else:
            j2 = s2 - (0x20 if s2 > 0x7F else 0x1F)
        out += bytes((j1, j2))
    switch(b"\x1b(B")
    return bytes(out)


def encode(text: str, charset: str) -> bytes:
    """Encode as a Windows mail client would under this label."""
    if charset.upper() == "ISO-2022-JP":
        return to_iso2022jp(text)
    return text.encode("cp932" if charset.upper() == "SHIFT_JIS" else charset)


def b64_word(text: str, charset: str = "UTF-8") -> str:
    raw = encode(text, charset)
    return f"=?{charset}?B?{base64.b64encode(raw).decode()}?="


def make_message(
    body: str,
    *,
    to: Sequence[str] = (BRANCH_A,),
    cc: Sequence[str] = (),
    sender: str = HEAD_OFFICE,
    subject: str = "満期一覧",
    charset: str = "UTF-8",
) -> bytes:
    lines = [f"From: {sender}", f"To: {', '.join(to)}"]
    if cc:
        lines.append(f"Cc: {', '.join(cc)}")
    lines += [
        f"Subject: {b64_word(subject, charset)}",
        "MIME-Version: 1.0",
        f"Content-Type: text/plain; charset={charset}",
        "Message-ID: <t1@mirai-hoken.example.jp>",
    ]
    if charset.upper() == "ISO-2022-JP":
        lines.append("Content-Transfer-Encoding: 7bit")
        payload = to_iso2022jp(body.replace("\n", "\r\n"))
    else:
        lines.append("Content-Transfer-Encoding: base64")
        payload = base64.encodebytes(encode(body, charset)).replace(b"\n", b"\r\n")
    return "\r\n".join(lines).encode() + b"\r\n\r\n" + payload


@dataclass
class Sink:
    """A recording upstream MTA on loopback; `answer` makes it refuse DATA (e.g. 451), `refuse`
    makes it refuse those recipients at RCPT (550 5.1.1 user unknown)."""

    received: list[tuple[str, tuple[str, ...], bytes]] = field(default_factory=list)
    answer: str | None = None
    refuse: set[str] = field(default_factory=set)
    server: asyncio.Server | None = None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 <" + address + ">: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.answer:
            return self.answer
        self.received.append((envelope.mail_from or "", tuple(envelope.rcpt_tos), envelope.original_content or b""))
        return "250 2.0.0 sink accepted"

    async def start(self, port: int = 0) -> int:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: SMTP(self, hostname="sink"), "127.0.0.1", port)
        return int(self.server.sockets[0].getsockname()[1])

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.server:
            self.server.close()
            await self.server.wait_closed()
            self.server = None


async def start_gateway(
    tmp_path: Path, sink: Sink | None, pipeline: Any = None, *, upstream_port: int = 0, **changes: Any
) -> Any:
    """A gateway on a free loopback port, relaying to `sink` (or `upstream_port`), on the example
    configuration with `changes`."""
    from dlp_gateway.config.schema import Upstream  # noqa: PLC0415 - helpers stay import-light
    from dlp_gateway.pipeline import Pipeline  # noqa: PLC0415
    from dlp_gateway.quarantine.sqlite import SqliteStore  # noqa: PLC0415
    from dlp_gateway.smtp.relay import SmtpRelay  # noqa: PLC0415
    from dlp_gateway.smtp.server import Gateway  # noqa: PLC0415

    if sink is not None:
        assert sink.server is not None
        upstream_port = sink.server.sockets[0].getsockname()[1]
    upstream = Upstream("127.0.0.1", upstream_port, timeout=5)
    cfg = example_config(upstream=upstream, quarantine=Quarantine(path=tmp_path / "q.db"), **changes)
    gw = Gateway(cfg, pipeline or Pipeline(cfg), SmtpRelay(upstream), SqliteStore(cfg.quarantine.path))
    await gw.start(port=0)
    return gw


class Clock:
    """A clock the test sets: fixtures are dated from it, so none ages out as the calendar moves."""

    def __init__(self, now: str = "2026-06-15T03:00:00+00:00") -> None:
        self.now = dt.datetime.fromisoformat(now)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += dt.timedelta(minutes=minutes)

    def ago(self, days: float = 0, minutes: float = 0) -> str:
        return (self.now - dt.timedelta(days=days, minutes=minutes)).isoformat(timespec="seconds")


def review_for(store: Any, relay: Any, config: Config | None = None, clock: Any = None) -> Review:
    """Review operations (and the delivery service under them) over `store` and `relay`."""
    from dlp_gateway.delivery import DeliveryService  # noqa: PLC0415
    from dlp_gateway.pipeline import Pipeline  # noqa: PLC0415
    from dlp_gateway.ports import utc_now  # noqa: PLC0415
    from dlp_gateway.quarantine.review import Review  # noqa: PLC0415
    from dlp_gateway.runtime import Runtime, Runtimes  # noqa: PLC0415
    from dlp_gateway.scanner import ThreadScanner  # noqa: PLC0415

    cfg = config or example_config()
    runtime = Runtime(cfg, ThreadScanner(Pipeline(cfg)), relay, store)
    return Review(DeliveryService(Runtimes(runtime), clock or utc_now))


async def submit(port: int, mail_from: str, rcpts: Sequence[str], data: bytes) -> tuple[int, str]:
    """One message through a real SMTP client: (250, reply) or the refusal's (code, text)."""
    import aiosmtplib  # noqa: PLC0415 - helpers stay import-light

    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10, start_tls=False)
    await client.connect()
    try:
        _, reply = await client.sendmail(mail_from, list(rcpts), data)
        return 250, reply
    except aiosmtplib.SMTPResponseException as exc:
        return exc.code, exc.message
    finally:
        client.close()


def free_port() -> int:
    """A port free now and never handed out before in this run: the kernel may give the port it
    just released to the next bind, and two calls in a row (an instance's SMTP and console ports)
    then returned the same one."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


_HANDED_OUT: set[int] = set()
