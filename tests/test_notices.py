"""Notices: bilingual, masked, to the sender and the compliance team, never looping."""

from __future__ import annotations

import asyncio
import dataclasses
import email
import email.policy
from collections.abc import Sequence
from pathlib import Path

from dlp_gateway.act.notify import notices_for
from dlp_gateway.config.schema import Notices
from dlp_gateway.delivery import DeliveryService
from dlp_gateway.model import Action, Envelope, Report
from dlp_gateway.pipeline import Pipeline
from dlp_gateway.ports import Refused
from dlp_gateway.quarantine.store import MemoryStore
from dlp_gateway.runtime import Runtime, Runtimes
from dlp_gateway.scanner import ThreadScanner
from dlp_gateway.smtp.relay import MemoryRelay
from tests.helpers import BRANCH_A, HEAD_OFFICE, MSI, SOMPO, example_config, make_message

NOTICES = Notices(
    sender="dlp@mirai-hoken.example.jp",
    compliance=("compliance@mirai-hoken.example.jp",),
    review_url="https://dlp.example.jp/",
)


def report(
    sender: str = HEAD_OFFICE, rcpts: tuple[str, ...] = (BRANCH_A, SOMPO, MSI), rows: int = 2, extra: str = ""
) -> Report:
    body = "\n".join(
        f"証券番号：81000000{i:02d}　契約者名：山田 太郎 様　引受：東京海上日動" for i in range(1, rows + 1)
    )
    raw = make_message(body + extra, to=rcpts, subject="山田太郎様 満期")
    return Pipeline(example_config()).scan(raw, Envelope(sender, rcpts))


def text(data: bytes) -> tuple[str, str]:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    return str(msg["Subject"]), msg.get_body().get_content()  # type: ignore[union-attr]


def test_sender_and_compliance_are_told_in_japanese_and_english_without_full_values() -> None:
    rep = report()
    assert rep.decision.verdict == Action.STRIP
    notices = notices_for(rep, "abc123", NOTICES)
    assert [n.to for n in notices] == [HEAD_OFFICE, "compliance@mirai-hoken.example.jp"]
    subject, body = text(notices[0].data)
    assert "abc123" in subject and "DLP" in subject
    assert "一部の宛先を削除して送信" in body and "delivered without some recipients" in body
    assert "cross-insurer" in body and "81******01" in body and "山田 **" in body
    assert f"{SOMPO} (strip)" in body and f"{MSI} (strip)" in body
    for data in (n.data for n in notices):
        raw = data.decode("ascii", "replace") + "".join(text(data))
        for secret in ("8100000001", "8100000002", "太郎"):
            assert secret not in raw
    msg = email.message_from_bytes(notices[0].data, policy=email.policy.default)
    assert msg["Auto-Submitted"] == "auto-generated"


def test_quarantine_notice_explains_review() -> None:
    rep = report(rows=12)
    assert rep.decision.verdict == Action.QUARANTINE
    _, body = text(notices_for(rep, "r1", NOTICES)[0].data)
    assert "コンプライアンス担当が内容を確認" in body and "https://dlp.example.jp/" in body
    assert "12 件" in body or "12件" in body.replace(" ", "")


def test_no_notice_for_delivered_mail_external_senders_or_automatic_messages() -> None:
    assert notices_for(report(rcpts=(BRANCH_A,)), "r", NOTICES) == []  # delivered
    external = notices_for(report(sender="someone@example.com"), "r", NOTICES)
    assert [n.to for n in external] == ["compliance@mirai-hoken.example.jp"]
    automatic = notices_for(report(), "r", NOTICES, auto_submitted=True)
    assert [n.to for n in automatic] == ["compliance@mirai-hoken.example.jp"]
    only_sender = dataclasses.replace(NOTICES, compliance=(), actions=(Action.QUARANTINE,))
    assert notices_for(report(), "r", only_sender) == []  # strip is not in `actions`


def test_templates_can_be_replaced(tmp_path: Path) -> None:
    (tmp_path / "sender.txt").write_text("Subject: 社内様式 $ref\n\n$records 件 / $rules\n", encoding="utf-8")
    custom = dataclasses.replace(NOTICES, templates=tmp_path)
    notices = notices_for(report(), "r9", custom)
    assert text(notices[0].data)[0] == "社内様式 r9"
    assert text(notices[0].data)[1].strip() == "2 件 / cross-insurer"
    assert "コンプライアンス担当各位" in text(notices[1].data)[1]  # the built-in one where none is given


class SlowRelay(MemoryRelay):
    """Each send takes a while; records how many were in flight at once."""

    def __init__(self) -> None:
        super().__init__()
        self.in_flight = self.most = 0

    async def send(self, mail_from: str, rcpt_tos: Sequence[str], data: bytes) -> Refused:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        await asyncio.sleep(0.05)
        self.in_flight -= 1
        return await super().send(mail_from, rcpt_tos, data)


async def test_the_notices_of_a_message_are_sent_side_by_side() -> None:
    # The client's reply waits for the notices: two in a row cost two upstream round trips.
    cfg = example_config()
    assert cfg.notices is not None
    notices = notices_for(report(), "ref1", cfg.notices, False)
    assert len(notices) == 2
    relay = SlowRelay()
    runtime = Runtime(cfg, ThreadScanner(Pipeline(cfg)), relay, MemoryStore())
    assert await DeliveryService(Runtimes(runtime)).send_notices(runtime, "ref1", notices) == 2
    assert relay.most == 2
    assert sorted(to for _, (to,), _ in relay.sent) == sorted(n.to for n in notices)
