"""Incident reports: what Japan's personal-information rules (個人情報保護法 漏えい等報告) ask a
business to report, filled in from what the gateway recorded. Items the gateway cannot know are
marked 要記入 (to be completed by the compliance team)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from dlp_gateway.held import HeldMessage, HeldStatus
from dlp_gateway.ports import TOKYO

TO_FILL = "要記入 / to be completed"
ITEM_NAMES = {"policy_number": "証券番号", "name": "契約者氏名", "expiry": "満期日", "underwriter": "引受保険会社"}


def jst(iso: str | None) -> str:
    if not iso:
        return ""
    return dt.datetime.fromisoformat(iso).astimezone(TOKYO).strftime("%Y-%m-%d %H:%M JST")


def _affected(item: HeldMessage) -> list[str]:
    return [r.address for r in item.summary.recipients if r.violations]


def incident_report(items: list[HeldMessage], scope: str, generated_at: str) -> dict[str, Any]:
    records = [r for i in items for r in i.summary.records]
    data_items = sorted({ITEM_NAMES[k] for r in records for k in ITEM_NAMES if getattr(r, k)})
    delivered = [i for i in items if i.status == HeldStatus.RELEASED]
    prevented = [
        i for i in items if i.status in (HeldStatus.HELD, HeldStatus.DENIED, HeldStatus.EXPIRED, HeldStatus.RELEASING)
    ]
    rules = sorted({r for i in items for r in i.rules})
    if delivered:
        occurred = (
            f"{len(delivered)} 通がレビュー後に配信されました（他社宛てを含む可能性あり）/ {len(delivered)} "
            "message(s) were released after review"
        )
    else:
        occurred = "配信は止められ、漏えいは発生していません / delivery was stopped; no disclosure occurred"
    return {
        "generated_at": jst(generated_at),
        "scope": scope,
        "概要 summary": (
            f"送信メール {len(items)} 通がデータ保護ルール（{', '.join(rules) or '-'}）に該当し、"
            f"ゲートウェイで保留されました。{occurred}"
        ),
        "発生日時 first_seen": jst(min((i.received_at for i in items), default=None)),
        "発覚日時 detected": jst(min((i.received_at for i in items), default=None)),
        "個人データの項目 data_items": data_items,
        "本人の数 people": sum(i.summary.records_total for i in items),
        "本人の数の注記 people_note": "記録件数（同一人物の重複を含む場合あり）/ records found, may repeat a person",
        "原因 cause": (
            f"保険会社等の宛先への顧客情報の送信（該当ルール: {', '.join(rules) or '-'}）。"
            f"送信者: {', '.join(sorted({i.mail_from for i in items})) or '-'}"
        ),
        "二次被害 harm": ("なし（配信されていません）/ none: not delivered" if not delivered else TO_FILL),
        "対応 response": (
            f"保留 {len(items)} 通、うち配信 {len(delivered)}、配信停止 {len(prevented)}。"
            "本人への通知・公表は" + TO_FILL
        ),
        "再発防止策 prevention": f"ゲートウェイのルール（{', '.join(rules) or '-'}）による自動保留を継続。{TO_FILL}",
        "messages": [
            {
                "ref": i.ref,
                "received_at": jst(i.received_at),
                "sender": i.mail_from,
                "affected_recipients": _affected(i),
                "status": i.status,
                "decided_by": i.reviewer or "",
                "decided_at": jst(i.decided_at),
                "reason": i.reason or "",
                "rules": list(i.rules),
                "records": i.summary.records_total,
                "masked_examples": [" ".join(v for v in (r.policy_number, r.name) if v) for r in i.summary.records[:3]],
            }
            for i in items
        ],
    }


def incident_csv(report: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        [
            "ref",
            "received_at",
            "sender",
            "affected_recipients",
            "status",
            "decided_by",
            "decided_at",
            "reason",
            "rules",
            "records",
            "masked_examples",
        ]
    )
    for m in report["messages"]:
        w.writerow(
            [
                m["ref"],
                m["received_at"],
                m["sender"],
                " ".join(m["affected_recipients"]),
                m["status"],
                m["decided_by"],
                m["decided_at"],
                m["reason"],
                " ".join(m["rules"]),
                m["records"],
                " / ".join(m["masked_examples"]),
            ]
        )
    return buf.getvalue()
