"""What leaves the quarantine for people: the audit log as CSV and the incident report's scope.

The console (`/audit.csv`, `/incident…`) and the CLI (`audit`, `incident`) both export through
here, so a spreadsheet made from either has the same columns and covers the same messages.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

from dlp_gateway.held import AuditEntry
from dlp_gateway.ports import QuarantineStore, iso
from dlp_gateway.quarantine.incident import incident_report

AUDIT_COLUMNS = ("at", "actor", "action", "ref", "reason", "details")
DEFAULT_PERIOD = dt.timedelta(days=30)  # an incident report without a period covers the last 30 days


def audit_csv(entries: list[AuditEntry]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(AUDIT_COLUMNS)
    for e in entries:
        w.writerow([e.at, e.actor, e.action, e.ref or "", e.reason, json.dumps(e.details, ensure_ascii=False)])
    return buf.getvalue()


async def incident_for(
    store: QuarantineStore, now: dt.datetime, ref: str | None = None, since: str | None = None, until: str | None = None
) -> dict[str, Any]:
    """The incident report for one message, or for the messages received in [since, until)."""
    if ref:
        items = [await store.get(ref)]
        scope = f"ref {ref}"
    else:
        since = since or iso(now - DEFAULT_PERIOD)
        items = [i for i in await store.recent(since) if until is None or i.received_at < until]
        scope = f"{since} – {until or 'now'}"
    return incident_report(items, scope, iso(now))
