"""The SQL both quarantine stores share: versioned migrations, queries, and row mapping.

Statements are written once with `?` placeholders; the PostgreSQL store numbers them ($1, $2 …).
Timestamps are ISO 8601 text in UTC, which sorts correctly in both databases.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from dlp_gateway.held import Activity, AuditEntry, HeldMessage, HeldStatus, HeldSummary, HeldVerdict, Query, User

_HELD_V1 = """CREATE TABLE IF NOT EXISTS held (
    ref TEXT PRIMARY KEY, received_at TEXT NOT NULL, mail_from TEXT NOT NULL, rcpt_tos TEXT NOT NULL,
    raw {blob}, verdict TEXT NOT NULL, rules TEXT NOT NULL, summary TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'held', reviewer TEXT, reason TEXT, decided_at TEXT)"""

MIGRATIONS: dict[str, list[tuple[int, list[str]]]] = {
    "sqlite": [
        (1, [_HELD_V1.format(blob="BLOB"), "CREATE INDEX IF NOT EXISTS held_status ON held(status, received_at)"]),
        (
            2,
            [
                "ALTER TABLE held ADD COLUMN insurers TEXT NOT NULL DEFAULT ','",
                "ALTER TABLE held ADD COLUMN rcpt_domains TEXT NOT NULL DEFAULT ','",
                "ALTER TABLE held ADD COLUMN purged_at TEXT",
                "CREATE INDEX held_received ON held(received_at)",
                """CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL,
                action TEXT NOT NULL, ref TEXT, reason TEXT NOT NULL DEFAULT '', details TEXT NOT NULL DEFAULT '{}')""",
                "CREATE INDEX audit_ref ON audit(ref)",
                "CREATE INDEX audit_at ON audit(at)",
                # Append-only: no update and no delete, whoever connects.
                "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END",
                "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END",
                """CREATE TABLE users (name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL,
                disabled INTEGER NOT NULL DEFAULT 0)""",
            ],
        ),
    ],
    "postgres": [
        (1, [_HELD_V1.format(blob="BYTEA"), "CREATE INDEX IF NOT EXISTS held_status ON held(status, received_at)"]),
        (
            2,
            [
                "ALTER TABLE held ADD COLUMN IF NOT EXISTS insurers TEXT NOT NULL DEFAULT ','",
                "ALTER TABLE held ADD COLUMN IF NOT EXISTS rcpt_domains TEXT NOT NULL DEFAULT ','",
                "ALTER TABLE held ADD COLUMN IF NOT EXISTS purged_at TEXT",
                "CREATE INDEX IF NOT EXISTS held_received ON held(received_at)",
                """CREATE TABLE audit (id BIGSERIAL PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL,
                action TEXT NOT NULL, ref TEXT, reason TEXT NOT NULL DEFAULT '', details TEXT NOT NULL DEFAULT '{}')""",
                "CREATE INDEX audit_ref ON audit(ref)",
                "CREATE INDEX audit_at ON audit(at)",
                """CREATE OR REPLACE FUNCTION dlp_audit_append_only() RETURNS trigger AS $$
                BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$ LANGUAGE plpgsql""",
                """CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
                FOR EACH ROW EXECUTE FUNCTION dlp_audit_append_only()""",
                """CREATE TABLE users (name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL,
                disabled BOOLEAN NOT NULL DEFAULT FALSE)""",
            ],
        ),
    ],
}
SCHEMA_VERSION = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"

COLUMNS = (
    "ref, received_at, mail_from, rcpt_tos, raw, verdict, rules, summary, status, reviewer, reason, "
    "decided_at, insurers, rcpt_domains, purged_at"
)
LIGHT_COLUMNS = COLUMNS.replace(" raw,", " NULL,")  # everything but the content
INSERT_HELD = f"INSERT INTO held ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
GET_HELD = f"SELECT {COLUMNS} FROM held WHERE ref = ?"
DECIDE = "UPDATE held SET status = ?, reviewer = ?, reason = ?, decided_at = ? WHERE ref = ? AND status = ?"
STATUS_OF = "SELECT status FROM held WHERE ref = ?"
INSERT_AUDIT = "INSERT INTO audit (at, actor, action, ref, reason, details) VALUES (?,?,?,?,?,?)"
EXPIRABLE = "SELECT ref FROM held WHERE status = 'held' AND received_at < ?"
EXPIRE = "UPDATE held SET status = 'expired', reviewer = 'system', reason = 'retention', decided_at = ? WHERE ref = ?"
PURGEABLE = "SELECT ref FROM held WHERE raw IS NOT NULL AND received_at < ?"
PURGE = "UPDATE held SET raw = NULL, purged_at = ? WHERE ref = ?"
RECENT = f"SELECT {LIGHT_COLUMNS} FROM held WHERE received_at >= ? ORDER BY received_at"
ACTIVITY = "SELECT received_at, status, rules, insurers FROM held WHERE received_at >= ? ORDER BY received_at"
PUT_USER_SQLITE = (
    "INSERT INTO users (name, password_hash, role, disabled) VALUES (?,?,?,?) ON CONFLICT (name) "
    "DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role, "
    "disabled = excluded.disabled"
)
GET_USER = "SELECT name, password_hash, role, disabled FROM users WHERE name = ?"
ALL_USERS = "SELECT name, password_hash, role, disabled FROM users ORDER BY name"


def tags(values: Sequence[str]) -> str:
    """ ",tokio,msi,": searchable with LIKE '%,tokio,%' without a join table."""
    return "," + ",".join(values) + ","


def held_params(item: HeldMessage) -> tuple[Any, ...]:
    return (
        item.ref,
        item.received_at,
        item.mail_from,
        json.dumps(list(item.rcpt_tos)),
        item.raw or None,
        item.verdict,
        json.dumps(list(item.rules)),
        json.dumps(item.summary.to_json(), ensure_ascii=False),
        item.status,
        item.reviewer,
        item.reason,
        item.decided_at,
        tags(item.insurers),
        tags(item.recipient_domains),
        item.purged_at,
    )


def activity_from_row(r: Sequence[Any]) -> Activity:
    return Activity(str(r[0]), str(r[1]), tuple(json.loads(str(r[2]))), tuple(t for t in str(r[3]).split(",") if t))


def held_from_row(r: Sequence[Any]) -> HeldMessage:
    def text(v: Any) -> str | None:
        return v if isinstance(v, str) else None

    return HeldMessage(
        ref=str(r[0]),
        received_at=str(r[1]),
        mail_from=str(r[2]),
        rcpt_tos=tuple(json.loads(str(r[3]))),
        raw=bytes(r[4]) if r[4] is not None else b"",
        verdict=HeldVerdict(str(r[5])),
        rules=tuple(json.loads(str(r[6]))),
        summary=HeldSummary.read(json.loads(str(r[7]))),
        status=HeldStatus(str(r[8])),
        reviewer=text(r[9]),
        reason=text(r[10]),
        decided_at=text(r[11]),
        purged_at=text(r[14]),
    )


def audit_params(e: AuditEntry) -> tuple[Any, ...]:
    return (e.at, e.actor, e.action, e.ref, e.reason, json.dumps(e.details, ensure_ascii=False))


def audit_from_row(r: Sequence[Any]) -> AuditEntry:
    return AuditEntry(
        at=str(r[0]), actor=str(r[1]), action=str(r[2]), ref=r[3], reason=str(r[4]), details=json.loads(str(r[5]))
    )


def user_from_row(r: Sequence[Any]) -> User:
    return User(name=str(r[0]), password_hash=str(r[1]), role=str(r[2]), disabled=bool(r[3]))


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_sql(q: Query) -> tuple[str, str, list[Any]]:
    """(page query, count query, parameters) for the console's filters; oldest first."""
    where: list[str] = []
    args: list[Any] = []
    if q.status:
        where.append("status = ?")
        args.append(q.status)
    if q.rule:
        where.append("rules LIKE ? ESCAPE '\\'")
        args.append(f'%"{_like(q.rule)}"%')
    if q.sender:
        where.append("lower(mail_from) LIKE ? ESCAPE '\\'")
        args.append(f"%{_like(q.sender.lower())}%")
    if q.recipient_domain:
        where.append("rcpt_domains LIKE ? ESCAPE '\\'")
        args.append(f"%,{_like(q.recipient_domain.lower())},%")
    if q.insurer:
        where.append("insurers LIKE ? ESCAPE '\\'")
        args.append(f"%,{_like(q.insurer)},%")
    if q.since:
        where.append("received_at >= ?")
        args.append(q.since)
    if q.until:
        where.append("received_at < ?")
        args.append(q.until)
    if q.verdict:
        where.append("verdict = ?")
        args.append(q.verdict)
    if q.search:
        where.append("(ref = ? OR lower(mail_from) LIKE ? ESCAPE '\\')")
        args += [q.search, f"%{_like(q.search.lower())}%"]
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    page = f"SELECT {LIGHT_COLUMNS} FROM held{clause} ORDER BY received_at, ref LIMIT {int(q.limit)} OFFSET {int(q.offset)}"
    return page, f"SELECT count(*) FROM held{clause}", args


def audit_sql(ref: str | None, since: str | None, until: str | None, limit: int) -> tuple[str, list[Any]]:
    where, args = [], []
    for column, op, value in (("ref", "=", ref), ("at", ">=", since), ("at", "<", until)):
        if value is not None:
            where.append(f"{column} {op} ?")
            args.append(value)
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    return f"SELECT at, actor, action, ref, reason, details FROM audit{clause} ORDER BY id LIMIT {int(limit)}", args
