"""The delivery service end to end over loopback sockets: bounces, refused recipients, the last-resort
451, releases of uninspected mail, and a release after SIGHUP moved the upstream."""

from __future__ import annotations

import asyncio
import email
import email.policy
import math
import signal
from pathlib import Path

import aiohttp
import aiosmtplib
import pytest

from dlp_gateway.config.schema import Console
from dlp_gateway.console.app import ConsoleApp, bound_port, start_console
from dlp_gateway.decide.parties import PartyClassifier
from dlp_gateway.delivery import ReleasePlan, release_plan
from dlp_gateway.held import HeldMessage, HeldSummary, HeldVerdict, User
from dlp_gateway.model import Envelope, Report
from dlp_gateway.passwords import HASHER
from dlp_gateway.quarantine.review import Review
from dlp_gateway.quarantine.sqlite import SqliteStore
from dlp_gateway.quarantine.store import list_messages
from dlp_gateway.smtp.relay import OutboxRelay
from tests.helpers import (
    BRANCH_A,
    BRANCH_B,
    HEAD_OFFICE,
    SOMPO,
    TOKIO_LIST,
    Sink,
    example_config,
    free_port,
    make_message,
    start_gateway,
    submit,
)
from tests.processes import cli, start_serve

OUTSIDER = "info@example.com"
PASSWORD = "correct horse battery staple"
SECRET = "8100000001"
# A month-end list to a branch with a rival insurer in Cc: quarantined by cross-insurer-bulk.
BULK = make_message(
    "\n".join(f"証券番号：81000000{i:02d}　契約者名：山田 太郎 様" for i in range(12)), to=(BRANCH_A,), cc=(SOMPO,)
)


def dsns(sink: Sink) -> list[email.message.Message]:
    return [email.message_from_bytes(d) for frm, _, d in sink.received if frm in ("", "<>")]


async def test_a_bounce_is_relayed_with_the_null_reverse_path(tmp_path: Path, sink: Sink) -> None:
    gw = await start_gateway(tmp_path, sink)
    try:
        dsn = make_message("Delivery to the following recipient failed permanently.", to=(BRANCH_A,))
        code, reply = await submit(gw.port, "", [BRANCH_A], dsn)  # aiosmtplib sends MAIL FROM:<>
    finally:
        await gw.stop()
    assert code == 250, reply
    [(mail_from, rcpts, data)] = sink.received
    assert mail_from in ("", "<>") and rcpts == (BRANCH_A,) and data == dsn


async def test_a_recipient_the_upstream_refuses_gets_the_sender_a_dsn(tmp_path: Path, sink: Sink) -> None:
    sink.refuse = {BRANCH_B}
    gw = await start_gateway(tmp_path, sink)
    msg = make_message("来週の会議資料をお送りします。", to=(BRANCH_A, BRANCH_B))
    try:
        code, reply = await submit(gw.port, HEAD_OFFICE, [BRANCH_A, BRANCH_B], msg)
    finally:
        await gw.stop()
    assert code == 250, reply
    assert [(f, r) for f, r, d in sink.received if d == msg] == [(HEAD_OFFICE, (BRANCH_A,))]
    [report] = dsns(sink)
    assert report["To"] == HEAD_OFFICE and report.get_content_type() == "multipart/report"
    assert report.get_param("report-type") == "delivery-status"
    parts = report.get_payload()
    assert isinstance(parts, list)
    human_part, status = parts[0], parts[1]
    assert isinstance(human_part, email.message.Message) and isinstance(status, email.message.Message)
    assert status.get_content_type() == "message/delivery-status"
    text = status.as_string()
    assert f"Final-Recipient: rfc822; {BRANCH_B}" in text and "Status: 5.1.1" in text and "Action: failed" in text
    payload = human_part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    human = payload.decode()
    assert "配信できませんでした" in human and "could not be delivered" in human and BRANCH_B in human
    assert BRANCH_A not in text  # only the refused recipient


async def test_a_bounce_that_is_refused_gets_no_dsn(tmp_path: Path, sink: Sink) -> None:
    sink.refuse = {BRANCH_B}
    gw = await start_gateway(tmp_path, sink)
    try:
        code, _ = await submit(gw.port, "", [BRANCH_A, BRANCH_B], make_message("bounce", to=(BRANCH_A,)))
    finally:
        await gw.stop()
    assert code == 250 and len(sink.received) == 1  # the bounce itself, and no notification of it


class BrokenStore(SqliteStore):
    async def put(self, item: HeldMessage) -> None:
        raise RuntimeError(f"database exploded near {SECRET}")


async def test_an_unexpected_error_answers_451_with_a_reference_and_no_exception_text(
    tmp_path: Path, sink: Sink, caplog: pytest.LogCaptureFixture
) -> None:
    gw = await start_gateway(tmp_path, sink)
    gw.runtimes.current = gw.runtimes.current.__class__(
        gw.config, gw.runtimes.current.scanner, gw.runtimes.current.relay, BrokenStore(tmp_path / "x.db")
    )
    try:  # a list to a rival insurer is quarantined: the store's bug surfaces in DATA
        code, reply = await submit(gw.port, HEAD_OFFICE, [BRANCH_A, SOMPO], BULK)
        with pytest.MonkeyPatch.context() as mp:  # and a bug before DATA, in aiosmtpd's own hook
            mp.setattr(gw.handler, "_allowed", lambda session: 1 / 0)
            client = aiosmtplib.SMTP(hostname="127.0.0.1", port=gw.port, timeout=10, start_tls=False)
            await client.connect()
            with pytest.raises(aiosmtplib.SMTPResponseException) as early:
                await client.mail(HEAD_OFFICE)
            client.close()
    finally:
        await gw.stop()
    assert code == 451 and reply.startswith("4.3.0") and "(ref " in reply, reply
    assert early.value.code == 451 and "(ref " in early.value.message
    for text in (reply, early.value.message):
        assert "RuntimeError" not in text and "ZeroDivision" not in text and SECRET not in text
    assert sink.received == []  # nothing delivered: the client retries
    ref = reply.rpartition("(ref ")[2].rstrip(")")
    assert any(ref in r.getMessage() and r.exc_info for r in caplog.records)  # the traceback, under the ref


class FailingScanner:
    async def scan(self, raw: bytes, envelope: Envelope, deadline: float = math.inf) -> Report:
        raise RuntimeError("the scanner broke")

    def close(self) -> None:
        pass


async def test_a_message_held_by_on_error_is_never_released_uninspected_to_an_insurer(
    tmp_path: Path, sink: Sink
) -> None:
    gw = await start_gateway(tmp_path, sink)
    rt = gw.runtimes.current
    gw.runtimes.swap(rt.__class__(rt.config, FailingScanner(), rt.relay, rt.store))
    store = rt.store
    await store.put_user(User("suzuki", HASHER.hash(PASSWORD), "reviewer"))
    runner = await start_console(ConsoleApp(store, Review(gw.delivery), Console()), "127.0.0.1", 0)
    url = f"http://127.0.0.1:{bound_port(runner)}"
    auth = {"Authorization": aiohttp.encode_basic_auth("suzuki", PASSWORD)}
    msg = make_message(TOKIO_LIST, to=(BRANCH_A, SOMPO), cc=(OUTSIDER,))
    try:
        code, reply = await submit(gw.port, HEAD_OFFICE, [BRANCH_A, SOMPO, OUTSIDER], msg)
        assert code == 250 and "Held" in reply
        [held] = await list_messages(store)
        assert held.rules == ("on_error",) and not held.summary.inspected
        async with aiohttp.ClientSession() as s:
            async with s.post(f"{url}/api/messages/{held.ref}/release", json={}, headers=auth) as r:
                assert r.status == 409 and "reason is required" in (await r.json())["result"]
            assert sink.received == []
            async with s.post(f"{url}/api/messages/{held.ref}/release", json={"strip": "1"}, headers=auth) as r:
                assert r.status == 200, await r.text()
        [(_, rcpts, data)] = sink.received
        assert rcpts == (BRANCH_A,)  # the insurer and the outsider were never inspected for
        head = data.partition(b"\r\n\r\n")[0]
        assert SOMPO.encode() not in head and OUTSIDER.encode() not in head
        [entry] = [e for e in await store.audit(ref=held.ref) if e.action == "release_stripped"]
        assert entry.details["uninspected"] == 2 and entry.details["recipients"] == 1
    finally:
        await runner.cleanup()
        await gw.stop()


def summary_failed() -> HeldSummary:
    return HeldSummary.failed("r1", "timeout")


@pytest.mark.parametrize(
    ("summary", "strip", "expected"),
    [
        (summary_failed(), True, ReleasePlan((BRANCH_A,), ((SOMPO, "uninspected"), (OUTSIDER, "uninspected")))),
        (summary_failed(), False, ReleasePlan((BRANCH_A, SOMPO, OUTSIDER))),
        # a summary stored before versions: a failed scan was only {"verdict": "error", "error": …}
        (
            HeldSummary.read({"reference": "r1", "error": "scan failed: x", "verdict": "error"}),
            True,
            ReleasePlan((BRANCH_A,), ((SOMPO, "uninspected"), (OUTSIDER, "uninspected"))),
        ),
        (
            HeldSummary.read(
                {
                    "verdict": "quarantine",
                    "recipients": [
                        {"address": BRANCH_A, "party": "internal", "violations": []},
                        {"address": SOMPO, "party": "insurer:sompo", "violations": [{"kind": "cross_insurer"}]},
                        {"address": OUTSIDER, "party": "external", "violations": []},
                    ],
                    "unscannable": [{"location": "attachment[0]:a.zip", "reason": "encrypted"}],
                }
            ),
            True,
            ReleasePlan((BRANCH_A,), ((SOMPO, "violation"), (OUTSIDER, "uninspected"))),
        ),
        (
            HeldSummary.read(
                {
                    "verdict": "quarantine",
                    "recipients": [
                        {"address": SOMPO, "party": "insurer:sompo", "violations": [{"kind": "cross_insurer"}]},
                        {"address": OUTSIDER, "party": "external", "violations": []},
                    ],
                }
            ),
            True,
            ReleasePlan((BRANCH_A, OUTSIDER), ((SOMPO, "violation"),)),  # BRANCH_A: internal, always
        ),
    ],
)
def test_release_plan(summary: HeldSummary, strip: bool, expected: ReleasePlan) -> None:
    item = HeldMessage(
        "r1",
        "2026-06-15T00:00:00+00:00",
        HEAD_OFFICE,
        (BRANCH_A, SOMPO, OUTSIDER),
        b"x",
        HeldVerdict.QUARANTINE,
        (),
        summary,
    )
    assert release_plan(item, strip, PartyClassifier(example_config())) == expected


async def test_after_sighup_a_release_goes_to_the_new_upstream(site: Path) -> None:
    old, new = Sink(), Sink()
    await old.start()
    await new.start()
    upstream = site / "rules" / "upstream.yaml"
    upstream.write_text(f"upstream: {{host: 127.0.0.1, port: {old.port}, timeout: 5}}\n", encoding="utf-8")
    added = cli("user", "add", "suzuki", "--password-stdin", "--config", "rules", cwd=site, stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    port, console = free_port(), free_port()
    proc = await start_serve(site, port, console_port=console, drain=True)
    try:
        bulk = BULK
        assert (await submit(port, HEAD_OFFICE, [BRANCH_A, SOMPO], bulk))[0] == 250  # held (bulk)
        old.received.clear()
        upstream.write_text(f"upstream: {{host: 127.0.0.1, port: {new.port}, timeout: 5}}\n", encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        auth = {"Authorization": aiohttp.encode_basic_auth("suzuki", PASSWORD)}
        async with aiohttp.ClientSession() as s:
            for _ in range(100):  # the reload is done once a live message reaches the new upstream
                await submit(port, HEAD_OFFICE, [BRANCH_A], make_message("テスト", to=(BRANCH_A,)))
                if new.received:
                    break
                await asyncio.sleep(0.1)
            assert new.received, "the reload never took effect"
            new.received.clear()
            async with s.get(f"http://127.0.0.1:{console}/api/messages", headers=auth) as r:
                [item] = (await r.json())["items"]
            release = f"http://127.0.0.1:{console}/api/messages/{item['ref']}/release"
            async with s.post(release, json={"strip": "1"}, headers=auth) as r:
                assert r.status == 200, await r.text()
        body = bulk.partition(b"\r\n\r\n")[2]
        assert [rc for f, rc, d in new.received if body in d] == [(BRANCH_A,)]
        assert not [d for _, _, d in old.received if body in d]  # nothing through the old upstream
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 30)
        await old.stop()
        await new.stop()


@pytest.mark.parametrize("mail_from", ["", "<>"])
async def test_the_outbox_keeps_a_bounce_s_null_reverse_path(tmp_path: Path, mail_from: str) -> None:
    await OutboxRelay(tmp_path / "outbox").send(mail_from, [BRANCH_A], b"Subject: x\r\n\r\nbody\r\n")
    [written] = (tmp_path / "outbox").glob("*.eml")
    assert written.read_bytes().startswith(b"Return-Path: <>\r\n")
