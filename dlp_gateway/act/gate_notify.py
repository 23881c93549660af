"""Notices for gated mail: the sender's cancel link (hold), the approver's request and the
sender's notice (approval), and the sender's notice when the approver rejects. Masked values only."""

from __future__ import annotations

import datetime as dt

from dlp_gateway.act.notify import Notice, _compose, _template
from dlp_gateway.config.schema import Config
from dlp_gateway.held import HeldMessage, HeldVerdict
from dlp_gateway.ports import TOKYO


def console_base(config: Config) -> str:
    console = config.console
    if console is None:
        return ""
    return console.public_url.rstrip("/") or f"http://{console.host}:{console.port}"


def gate_link(config: Config, item: HeldMessage, token: str) -> str:
    path = "hold" if item.verdict == HeldVerdict.HOLD else "approval"
    return f"{console_base(config)}/{path}/{item.ref}/{token}"


def _values(item: HeldMessage, **extra: str) -> dict[str, str]:
    summary = item.summary
    examples = [" ".join(v for v in (r.policy_number, r.name) if v) for r in summary.records[:3]]
    gate = summary.gate
    due = gate.due if gate else None
    return {
        "ref": item.ref,
        "sender": item.mail_from,
        "sender_name": item.mail_from.partition("@")[0],
        "approver": (gate.approver if gate else None) or "-",
        "recipients": ", ".join(item.rcpt_tos),
        "records": str(summary.records_total),
        "examples": " / ".join(e for e in examples if e) or "-",
        "rules": ", ".join(item.rules) or "-",
        "due_jst": dt.datetime.fromisoformat(due).astimezone(TOKYO).strftime("%Y-%m-%d %H:%M") if due else "-",
        **extra,
    }


def gate_notices(config: Config, item: HeldMessage, token: str) -> list[Notice]:
    """What to send when a message starts waiting (the summary's records are already masked)."""
    notices = config.notices
    if notices is None:
        return []
    values = _values(item, link=gate_link(config, item, token))
    sender = notices.sender

    def compose(name: str, to: str) -> Notice:
        return Notice(to, _compose(_template(notices, name), values, sender, to, item.ref))

    if item.verdict == HeldVerdict.HOLD:
        return [compose("hold_sender.txt", item.mail_from)]
    return [compose("approval_request.txt", values["approver"]), compose("approval_sender.txt", item.mail_from)]


def rejection_notice(config: Config, item: HeldMessage, reason: str) -> Notice | None:
    notices = config.notices
    if notices is None:
        return None
    values = _values(item, reason=reason)
    data = _compose(_template(notices, "approval_rejected.txt"), values, notices.sender, item.mail_from, item.ref)
    return Notice(item.mail_from, data)
