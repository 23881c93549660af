"""Notices: the sender (and the compliance team) are told what happened and why, in Japanese and
English, from templates — with counts, rule names, masked examples and a reference id, never a
full policy number or name."""

from __future__ import annotations

import base64
import email.utils
import re
from dataclasses import dataclass
from email.header import Header
from pathlib import Path
from string import Template

from dlp_gateway.config.schema import Notices
from dlp_gateway.model import Action, PartyKind, Report
from dlp_gateway.report import mask

BUILTIN = Path(__file__).parent / "templates"
VERDICT_JA = {
    Action.STRIP: "一部の宛先を削除して送信",
    Action.REDACT: "一部の宛先にマスキングして送信",
    Action.QUARANTINE: "保留（審査待ち）",
    Action.REJECT: "送信拒否",
    Action.MONITOR: "記録して送信",
    Action.DELIVER: "送信",
}
VERDICT_EN = {
    Action.STRIP: "delivered without some recipients",
    Action.REDACT: "delivered with values masked for some recipients",
    Action.QUARANTINE: "held for compliance review",
    Action.REJECT: "rejected",
    Action.MONITOR: "delivered and recorded",
    Action.DELIVER: "delivered",
}
MAX_EXAMPLES = 3


@dataclass(frozen=True)
class Notice:
    to: str
    data: bytes


def _next_steps(verdict: Action, review_url: str) -> tuple[str, str]:
    if verdict == Action.QUARANTINE:
        where = f" ({review_url})" if review_url else ""
        return (
            f"コンプライアンス担当が内容を確認し、送信するか破棄するかを判断します{where}。再送はしないでください。",
            f"The compliance team will review it and release or deny it{where}. Please do not resend it.",
        )
    if verdict == Action.REJECT:
        return (
            "メールは配信されていません。宛先と内容を見直してください。",
            "Nothing was delivered. Please check the recipients and the content.",
        )
    return ("上記以外の宛先には配信されました。", "The other recipients received the message.")


def _template(notices: Notices, name: str) -> Template:
    for folder in (notices.templates, BUILTIN):
        if folder is not None and (folder / name).is_file():
            return Template((folder / name).read_text(encoding="utf-8"))
    raise FileNotFoundError(name)


def _compose(template: Template, values: dict[str, str], sender: str, to: str, ref: str) -> bytes:
    """The notice as MIME, written out directly: EmailMessage with the SMTP policy took 3 ms a notice,
    more than scanning the message it is about."""
    text = template.safe_substitute(values)
    first, _, body = text.partition("\n")
    subject = Header(first.removeprefix("Subject:").strip(), "utf-8").encode(linesep="\r\n")
    headers = {
        "From": sender,
        "To": to,
        "Subject": subject,
        "Date": email.utils.formatdate(localtime=False),
        "Message-ID": email.utils.make_msgid(domain=sender.rpartition("@")[2] or None),
        "Auto-Submitted": "auto-generated",  # RFC 3834: never answered automatically, never looped
        "X-DLP-Notice": ref,
        "MIME-Version": "1.0",
        "Content-Type": 'text/plain; charset="utf-8"',
        "Content-Transfer-Encoding": "base64",
    }
    # Addresses passed the SMTP adapter's control-character check; a line break would still forge a header.
    head = "".join(f"{k}: {_LINE_BREAK.sub(' ', v) if k != 'Subject' else v}\r\n" for k, v in headers.items())
    payload = base64.encodebytes(body.lstrip("\n").replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8"))
    return head.encode("ascii", "replace") + b"\r\n" + payload.replace(b"\n", b"\r\n")


_LINE_BREAK = re.compile(r"[\r\n]+")


def notices_for(report: Report, ref: str, notices: Notices, auto_submitted: bool = False) -> list[Notice]:
    d = report.decision
    if d.verdict not in notices.actions:
        return []
    affected = [
        r
        for r in d.recipients
        if r.action in (Action.STRIP, Action.REDACT, Action.QUARANTINE, Action.REJECT) and r.violations
    ] or [r for r in d.recipients if r.rules]
    involved = sorted({i for r in affected for v in r.violations for i in v.records})
    examples = []
    for i in involved[:MAX_EXAMPLES]:
        rec = report.records[i]
        examples.append(" ".join(mask(v) for v in (rec.policy_number, rec.name) if v))
    next_ja, next_en = _next_steps(d.verdict, notices.review_url)
    values = {
        "ref": ref,
        "verdict_ja": VERDICT_JA[d.verdict],
        "verdict_en": VERDICT_EN[d.verdict],
        "rules": ", ".join(d.rules) or "-",
        "records": str(len(involved)),
        "examples": " / ".join(examples) or "-",
        "affected": ", ".join(f"{r.address} ({r.action.label})" for r in affected) or "-",
        "message_id": report.message_id or "-",
        "date": report.date or "-",
        "sender": report.envelope.mail_from,
        "sender_name": report.envelope.mail_from.partition("@")[0],
        "why": "; ".join(m.why for m in d.matches) or "-",
        "next_ja": next_ja,
        "next_en": next_en,
    }
    out = []
    sender = report.envelope.mail_from
    # Never notify an external or empty sender (bounces), ourselves, or an automatic message.
    if (
        notices.to_sender
        and sender
        and report.sender_party.kind == PartyKind.INTERNAL
        and sender != notices.sender
        and not auto_submitted
    ):
        out.append(Notice(sender, _compose(_template(notices, "sender.txt"), values, notices.sender, sender, ref)))
    for address in notices.compliance:
        out.append(
            Notice(address, _compose(_template(notices, "compliance.txt"), values, notices.sender, address, ref))
        )
    return out
