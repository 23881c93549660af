"""Hold-and-cancel (一時保留) and approval (上長承認), end to end over loopback: client → gateway →
sink, the links in the notices opened on the real console, and a controllable clock for the scheduler."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import email
import email.policy
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from dlp_gateway import serve
from dlp_gateway.config.schema import Approver, Console, Quarantine, Rule, Upstream
from dlp_gateway.console.app import ConsoleApp, bound_port, start_console
from dlp_gateway.decide.conditions import Condition
from dlp_gateway.held import HeldVerdict
from dlp_gateway.model import Action
from dlp_gateway.observe import metrics
from dlp_gateway.pipeline import Pipeline
from dlp_gateway.quarantine.gates import Gates
from dlp_gateway.quarantine.sqlite import SqliteStore
from dlp_gateway.smtp.relay import SmtpRelay
from dlp_gateway.smtp.server import Gateway
from tests.helpers import (
    BRANCH_A,
    HEAD_OFFICE,
    SOMPO,
    TOKIO,
    TOKIO_LIST,
    Clock,
    Sink,
    example_config,
    make_message,
    review_for,
    submit,
)

APPROVER = "bucho@mirai-hoken.example.jp"
NOTICE_SENDER = "dlp-gateway@mirai-hoken.example.jp"
GATE_RULES = (
    Rule(
        "hold-insurer-mail",
        Condition(violation=(), min_records=1, recipient_party=("insurer",)),
        Action.HOLD,
        hold_minutes=10,
    ),
    Rule("approve-branch-b", Condition(senders=("shiten-b@mirai-hoken.example.jp",), min_records=1), Action.APPROVE),
)


@dataclasses.dataclass
class Rig:
    gateway: Gateway
    store: SqliteStore
    gates: Gates
    clock: Clock
    console: web.AppRunner


@pytest.fixture
async def rig(tmp_path: Path, sink: Sink) -> AsyncIterator[Rig]:
    clock = Clock()
    store = SqliteStore(tmp_path / "q.db")
    relay = SmtpRelay(Upstream("127.0.0.1", sink.port, timeout=5))
    review = review_for(store, relay, clock=clock)
    base = example_config()
    config = dataclasses.replace(
        base, rules=base.rules + GATE_RULES, approvers=(Approver(("shiten-b@mirai-hoken.example.jp",), APPROVER),)
    )

    async def on_reject(item: object, reason: str) -> None:
        from dlp_gateway.act.gate_notify import rejection_notice  # noqa: PLC0415

        notice = rejection_notice(gateway.config, item, reason)  # type: ignore[arg-type]
        assert notice is not None
        await relay.send(NOTICE_SENDER, [notice.to], notice.data)

    runner = await start_console(ConsoleApp(store, review, Console(), on_reject=on_reject), "127.0.0.1", 0)
    config = dataclasses.replace(
        config,
        quarantine=Quarantine(path=tmp_path / "q.db"),
        upstream=relay.upstream,
        console=Console(port=bound_port(runner), public_url=f"http://127.0.0.1:{bound_port(runner)}"),
    )
    gateway = Gateway(config, Pipeline(config), relay, store, clock=clock)
    await gateway.start(port=0)
    yield Rig(gateway, store, Gates(review), clock, runner)
    await gateway.stop(timeout=1)
    await runner.cleanup()


def mail_to(sink: Sink, sender: str) -> list[tuple[tuple[str, ...], bytes]]:
    return [(rcpts, data) for frm, rcpts, data in sink.received if frm == sender]


def notice_link(sink: Sink, to: str) -> str:
    for rcpts, data in mail_to(sink, NOTICE_SENDER):
        if rcpts == (to,):
            part = email.message_from_bytes(data, policy=email.policy.default).get_body()
            assert part is not None
            body = part.get_content()
            found = re.search(r"http://\S+/(?:hold|approval)/\S+", body)
            if found:
                return found.group()
    raise AssertionError(f"no link in a notice to {to}")


async def http(method: str, url: str, **form: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as s, s.request(method, url, data=form or None) as resp:
        return resp.status, await resp.text()


async def test_held_mail_goes_out_once_when_due(rig: Rig, sink: Sink) -> None:
    waiting = metrics.GATED.labels("hold", "waiting")._value.get()
    code, reply = await submit(rig.gateway.port, HEAD_OFFICE, [BRANCH_A, TOKIO], make_message(TOKIO_LIST, cc=(TOKIO,)))
    assert code == 250 and "Held until" in reply, reply
    assert mail_to(sink, HEAD_OFFICE) == []
    assert notice_link(sink, HEAD_OFFICE).startswith("http://127.0.0.1:")  # the sender's cancel link
    assert metrics.GATED.labels("hold", "waiting")._value.get() == waiting + 1

    rig.clock.advance(9)
    assert await rig.gates.deliver_due() == 0  # not yet
    rig.clock.advance(2)
    assert await rig.gates.deliver_due() == 1
    assert await rig.gates.deliver_due() == 0  # once
    [(rcpts, _)] = mail_to(sink, HEAD_OFFICE)
    assert rcpts == (BRANCH_A, TOKIO)
    actions = [e.action for e in await rig.store.audit()]
    assert "hold_delivered" in actions


async def test_the_sender_cancels_in_time_and_nothing_is_delivered(rig: Rig, sink: Sink) -> None:
    await submit(rig.gateway.port, HEAD_OFFICE, [BRANCH_A, TOKIO], make_message(TOKIO_LIST, cc=(TOKIO,)))
    link = notice_link(sink, HEAD_OFFICE)
    status, page = await http("GET", link)  # a mail scanner fetching the link changes nothing
    assert status == 200 and "Cancel this message" in page and "8100000001" not in page  # masked
    status, page = await http("POST", link)
    assert status == 200 and "Cancelled" in page
    assert (await http("POST", link))[0] == 409  # one time only
    assert (await http("GET", link.rsplit("/", 1)[0] + "/not-the-token"))[0] == 404
    rig.clock.advance(30)
    assert await rig.gates.deliver_due() == 0
    assert mail_to(sink, HEAD_OFFICE) == []
    assert "cancel" in [e.action for e in await rig.store.audit()]


async def test_held_mail_survives_a_restart(rig: Rig, sink: Sink, tmp_path: Path) -> None:
    await submit(rig.gateway.port, HEAD_OFFICE, [BRANCH_A, TOKIO], make_message(TOKIO_LIST, cc=(TOKIO,)))
    await rig.gateway.stop(timeout=1)
    # A new process: a new store object on the same file, its own scheduler.
    again = SqliteStore(tmp_path / "q.db")
    relay = SmtpRelay(Upstream("127.0.0.1", sink.port, timeout=5))
    later = Clock()
    later.advance(11)
    assert await Gates(review_for(again, relay, clock=later)).deliver_due() == 1
    assert await rig.gates.deliver_due() == 0  # the first instance's scheduler cannot deliver it again
    assert len(mail_to(sink, HEAD_OFFICE)) == 1


async def test_stripping_still_applies_to_held_mail(rig: Rig, sink: Sink) -> None:
    code, _ = await submit(
        rig.gateway.port, HEAD_OFFICE, [BRANCH_A, SOMPO, TOKIO], make_message(TOKIO_LIST, cc=(SOMPO, TOKIO))
    )
    assert code == 250
    rig.clock.advance(11)
    assert await rig.gates.deliver_due() == 1
    [(rcpts, data)] = mail_to(sink, HEAD_OFFICE)
    assert SOMPO not in rcpts and SOMPO.encode() not in data.split(b"\r\n\r\n")[0]


async def test_the_approver_approves_and_the_mail_goes_out_once(rig: Rig, sink: Sink) -> None:
    branch_b = "shiten-b@mirai-hoken.example.jp"
    code, reply = await submit(rig.gateway.port, branch_b, [BRANCH_A], make_message(TOKIO_LIST, sender=branch_b))
    assert code == 250 and "Awaiting approval" in reply, reply
    link = notice_link(sink, APPROVER)
    assert any(rcpts == (branch_b,) for rcpts, _ in mail_to(sink, NOTICE_SENDER))  # the sender is told
    status, page = await http("GET", link)
    assert status == 200 and "Approve and deliver" in page and mail_to(sink, branch_b) == []
    status, page = await http("POST", link, decision="approve")
    assert status == 200 and "Approved" in page
    assert (await http("POST", link, decision="approve"))[0] == 409
    assert [rcpts for rcpts, _ in mail_to(sink, branch_b)] == [(BRANCH_A,)]
    entries = [(e.actor, e.action) for e in await rig.store.audit()]
    assert (f"approver:{APPROVER}", "approve") in entries


async def test_the_approver_rejects_and_the_sender_is_told(rig: Rig, sink: Sink) -> None:
    branch_b = "shiten-b@mirai-hoken.example.jp"
    await submit(rig.gateway.port, branch_b, [BRANCH_A], make_message(TOKIO_LIST, sender=branch_b))
    link = notice_link(sink, APPROVER)
    assert (await http("POST", link, decision="reject", reason=""))[0] == 409  # a reason is required
    status, page = await http("POST", link, decision="reject", reason="宛先誤り")
    assert status == 200 and "Rejected" in page
    assert mail_to(sink, branch_b) == []
    told = [
        email.message_from_bytes(d, policy=email.policy.default)
        for r, d in mail_to(sink, NOTICE_SENDER)
        if r == (branch_b,)
    ]
    assert any("承認されませんでした" in str(m["Subject"]) for m in told)
    assert ("approval_reject", "宛先誤り") in [(e.action, e.reason) for e in await rig.store.audit()]


async def test_serve_runs_the_scheduler(tmp_path: Path, sink: Sink, monkeypatch: pytest.MonkeyPatch) -> None:
    """The loop `serve` starts: a message whose hold ended while no instance ran goes out by itself."""
    from dlp_gateway.held import GateInfo, HeldMessage, HeldSummary  # noqa: PLC0415

    store = SqliteStore(tmp_path / "q.db")
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat(timespec="seconds")
    raw = make_message("会議資料です。")
    summary = HeldSummary("a1b2c3", "deliver", gate=GateInfo("hold", "x", due=past))
    await store.put(HeldMessage("a1b2c3", past, HEAD_OFFICE, (BRANCH_A,), raw, HeldVerdict.HOLD, ("h",), summary))
    monkeypatch.setattr(serve, "HOLD_CHECK_SECONDS", 0.05)
    relay = SmtpRelay(Upstream("127.0.0.1", sink.port, timeout=5))
    task = asyncio.get_running_loop().create_task(serve.open_gates(Gates(review_for(store, relay))))
    try:
        for _ in range(100):
            if mail_to(sink, HEAD_OFFICE):
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
    assert [rcpts for rcpts, _ in mail_to(sink, HEAD_OFFICE)] == [(BRANCH_A,)]
    assert (await store.get("a1b2c3")).status == "released"


async def test_a_reviewer_denying_an_approval_in_the_console_tells_the_sender(rig: Rig, sink: Sink) -> None:
    from dlp_gateway.held import User  # noqa: PLC0415
    from dlp_gateway.passwords import HASHER  # noqa: PLC0415

    await rig.store.put_user(User("suzuki", HASHER.hash("pw-pw-pw-pw"), "reviewer"))
    branch_b = "shiten-b@mirai-hoken.example.jp"
    _, reply = await submit(rig.gateway.port, branch_b, [BRANCH_A], make_message(TOKIO_LIST, sender=branch_b))
    ref = reply.rsplit("ref ", 1)[1].rstrip(")")
    auth = "Basic " + base64.b64encode(b"suzuki:pw-pw-pw-pw").decode()
    url = f"http://127.0.0.1:{bound_port(rig.console)}/api/messages/{ref}/deny"
    async with aiohttp.ClientSession() as s, s.post(url, data={"reason": "不要"}, headers={"Authorization": auth}) as r:
        assert r.status == 200
    told = [d for r, d in mail_to(sink, NOTICE_SENDER) if r == (branch_b,)]
    subjects = [str(email.message_from_bytes(d, policy=email.policy.default)["Subject"]) for d in told]
    assert any("承認されませんでした" in subject for subject in subjects), subjects
    assert mail_to(sink, branch_b) == []


def test_scan_json_says_a_message_would_wait() -> None:
    from dlp_gateway.model import Envelope  # noqa: PLC0415
    from dlp_gateway.report import report_json  # noqa: PLC0415

    base = example_config()
    config = dataclasses.replace(base, rules=base.rules + GATE_RULES)
    report = Pipeline(config).scan(make_message(TOKIO_LIST, cc=(TOKIO,)), Envelope(HEAD_OFFICE, (BRANCH_A, TOKIO)))
    doc = report_json(report)
    assert (doc["verdict"], doc["gate"], doc["hold_minutes"]) == ("deliver", "hold", 10)
    plain = report_json(Pipeline(base).scan(make_message(TOKIO_LIST, cc=(TOKIO,)), Envelope(HEAD_OFFICE, (TOKIO,))))
    assert plain["gate"] is None
