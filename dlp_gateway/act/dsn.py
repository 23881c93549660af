"""Delivery status notifications (RFC 3464) for recipients the upstream refused after the gateway
had already answered 250 — the sender is told, in Japanese and English, instead of the refusal
vanishing into a log line.

The report carries the refused addresses, the upstream's status and the original Message-ID; it
never carries the message's content or subject (the subject often names the customer). A bounce
(null sender) gets no DSN (RFC 3464 §2: never answer a notification with a notification), and the
DSN itself goes out with the null reverse-path so that it cannot bounce back.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import re

from dlp_gateway.act.notify import Notice
from dlp_gateway.ports import Refused

REPORTING_MTA = "dlp-gateway"
_UNSAFE = re.compile(r"[^\x21-\x7e ]")  # keep an upstream's text to printable ASCII on one line


def _status(code: int, text: str) -> str:
    """The enhanced status code from the upstream's text (`5.1.1`), or one derived from its code."""
    m = re.match(r"\s*([245]\.\d{1,3}\.\d{1,3})\b", text)
    if m:
        return m.group(1)
    return "4.0.0" if 400 <= code < 500 else "5.0.0"


def dsn_for(
    mail_from: str, refused: Refused, ref: str, message_id: str, postmaster: str, now: dt.datetime
) -> Notice | None:
    """The DSN to `mail_from` for `refused`, or None for a bounce or when nothing was refused."""
    if not refused or mail_from.strip() in ("", "<>"):
        return None
    lines_ja = [f"  {address}  ({r.code} {_UNSAFE.sub('?', r.text)[:200]})" for address, r in refused.items()]
    human = "\r\n".join(
        [
            "送信されたメールは、次の宛先に配信できませんでした（宛先のサーバーが受け取りを拒否しました）。",
            "他の宛先には配信されています。宛先のアドレスをご確認ください。",
            "",
            *lines_ja,
            "",
            f"参照番号: {ref}",
            "",
            "Your message could not be delivered to the recipients above: their mail server refused them.",
            "The other recipients received it. Please check the addresses.",
            f"Reference: {ref}",
            "",
        ]
    )
    arrival = email.utils.format_datetime(now)
    per_recipient = "\r\n".join(
        "\r\n".join(
            [
                f"Final-Recipient: rfc822; {address}",
                "Action: failed",  # the gateway does not retry a recipient the upstream refused
                f"Status: {_status(r.code, r.text)}",
                f"Diagnostic-Code: smtp; {r.code} {_UNSAFE.sub('?', r.text)[:200]}",
            ]
        )
        + "\r\n"
        for address, r in refused.items()
    )
    status = (
        f"Reporting-MTA: dns; {REPORTING_MTA}\r\nX-DLP-Ref: {ref}\r\nArrival-Date: {arrival}\r\n\r\n{per_recipient}"
    )
    headers_part = f"Message-ID: {_UNSAFE.sub('?', message_id)}\r\n" if message_id else ""
    boundary = f"dlp-dsn-{ref}"
    domain = postmaster.rpartition("@")[2] or None
    subject = "=?UTF-8?B?" + base64.b64encode("配信できなかった宛先があります".encode()).decode() + "?="
    head = "".join(
        f"{k}: {v}\r\n"
        for k, v in {
            "From": f"Mail Delivery System <{postmaster}>",
            "To": mail_from,
            "Subject": f"{subject} / Undelivered recipients",
            "Date": email.utils.format_datetime(now),
            "Message-ID": email.utils.make_msgid(domain=domain),
            "Auto-Submitted": "auto-replied",
            "X-DLP-Notice": ref,
            "MIME-Version": "1.0",
            "Content-Type": f'multipart/report; report-type=delivery-status; boundary="{boundary}"',
        }.items()
    )
    body = (
        f"--{boundary}\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + base64.encodebytes(human.encode()).decode().replace("\n", "\r\n")
        + f"\r\n--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n{status}"
        + f"\r\n--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n{headers_part}"
        + f"\r\n--{boundary}--\r\n"
    )
    data = (head + "\r\n" + body).encode("ascii", "replace")
    return Notice(mail_from, data)
