"""What the console's pages and JSON API show, worked out from the store: no aiohttp here."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections import Counter
from collections.abc import Mapping
from typing import Any

from dlp_gateway.held import STATUSES, HeldMessage, HeldStatus, Query
from dlp_gateway.parse.mime import decode_header_value
from dlp_gateway.ports import TOKYO, QuarantineStore, iso

PAGE = 50


async def dashboard_stats(store: QuarantineStore, now: dt.datetime, days: int = 30) -> dict[str, Any]:
    """The dashboard's figures, counted from the store's columns (never the summaries)."""
    items = await store.activity(iso(now - dt.timedelta(days=days)))
    per_day: dict[str, Counter[str]] = {
        (now - dt.timedelta(days=d)).astimezone(TOKYO).strftime("%Y-%m-%d"): Counter() for d in range(days - 1, -1, -1)
    }
    for i in items:
        day = dt.datetime.fromisoformat(i.received_at).astimezone(TOKYO).strftime("%Y-%m-%d")
        if day in per_day:
            per_day[day][i.status] += 1
    held = await store.search(Query(status=HeldStatus.HELD, limit=1))
    return {
        "per_day": [(d, dict(c)) for d, c in per_day.items()],
        "top_rules": Counter(r for i in items for r in i.rules).most_common(8),
        "insurers": Counter(x for i in items for x in i.insurers).most_common(8),
        "held_now": held.total,
        "oldest_held": held.items[0].received_at if held.items else None,
    }


def query_of(q: Mapping[str, str]) -> Query:
    """The queue's filters from a page's or the API's query string."""

    def opt(key: str) -> str | None:
        return q.get(key) or None

    status = q.get("status", "held")
    page = max(int(q.get("page", "1") or 1), 1) if q.get("page", "1").isdigit() else 1
    return Query(
        status=None if status == "all" else HeldStatus(status) if status in STATUSES else HeldStatus.HELD,
        rule=opt("rule"),
        sender=opt("sender"),
        recipient_domain=opt("domain"),
        insurer=opt("insurer"),
        since=opt("since"),
        until=opt("until"),
        search=opt("q"),
        offset=(page - 1) * PAGE,
        limit=PAGE,
    )


def message_json(item: HeldMessage, full: bool = False) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "ref": item.ref,
        "received_at": item.received_at,
        "status": item.status,
        "mail_from": item.mail_from,
        "recipients": list(item.rcpt_tos),
        "rules": list(item.rules),
        "insurers": list(item.insurers),
        "reviewer": item.reviewer,
        "reason": item.reason,
        "decided_at": item.decided_at,
    }
    if full:
        doc["report"] = item.summary.to_json()
    return doc


SHOWN_HEADERS = ("From", "To", "Cc", "Date", "Message-ID", "X-Mailer", "User-Agent")


def shown_headers(raw: bytes) -> list[tuple[str, str]]:
    """Addressing headers for the reviewer. The subject is left to the audited raw view: it often
    names the customer (「山田太郎様 満期のご案内」)."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    msg = email.message_from_bytes(head + b"\r\n\r\n", policy=email.policy.compat32)
    return [(name, decode_header_value(str(value))) for name in SHOWN_HEADERS for value in msg.get_all(name, [])]
