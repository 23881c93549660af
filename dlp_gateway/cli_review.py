"""The review commands of the CLI: quarantine, users, audit export, incident reports."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from dlp_gateway.config import Config, load_config
from dlp_gateway.delivery import DeliveryService
from dlp_gateway.errors import DlpError
from dlp_gateway.held import AuditEntry, HeldStatus, User
from dlp_gateway.pipeline import Pipeline
from dlp_gateway.ports import QuarantineStore, iso, utc_now
from dlp_gateway.quarantine.export import audit_csv, incident_for
from dlp_gateway.quarantine.incident import incident_csv
from dlp_gateway.quarantine.open import open_store
from dlp_gateway.quarantine.review import Review
from dlp_gateway.quarantine.store import list_messages
from dlp_gateway.registry.open import staff_for
from dlp_gateway.runtime import Runtime, Runtimes
from dlp_gateway.scanner import ThreadScanner
from dlp_gateway.smtp.relay import relay_for

ROLES = ("reviewer", "admin")


def _run(args: argparse.Namespace, work: Callable[[Config, QuarantineStore], Awaitable[int]]) -> int:
    config = load_config(args.config)

    async def run() -> int:
        store = await open_store(config)
        try:
            return await work(config, store)
        finally:
            await store.close()

    return asyncio.run(run())


def _review(config: Config, store: QuarantineStore) -> Review:
    """Review operations on the configuration's runtime (its relay; a release never scans)."""
    runtime = Runtime(config, ThreadScanner(Pipeline(config, staff=staff_for(config))), relay_for(config), store)
    return Review(DeliveryService(Runtimes(runtime)))


def _actor(args: argparse.Namespace) -> str:
    return str(getattr(args, "reviewer", None) or getpass.getuser())


async def q_list(args: argparse.Namespace, config: Config, store: QuarantineStore) -> int:
    items = await list_messages(store, None if args.status == "all" else args.status, args.limit)
    rows = [
        {
            "ref": i.ref,
            "received_at": i.received_at,
            "status": i.status,
            "verdict": i.verdict,
            "rules": list(i.rules),
            "mail_from": i.mail_from,
            "recipients": len(i.rcpt_tos),
        }
        for i in items
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    for i in items:
        print(
            f"{i.ref}  {i.received_at}  {i.status:9}  {i.verdict:10}  {','.join(i.rules)}  from {i.mail_from}  "
            f"to {len(i.rcpt_tos)} recipient(s)"
        )
    return 0


async def q_show(args: argparse.Namespace, config: Config, store: QuarantineStore) -> int:
    item = await store.get(args.ref)
    doc = {
        "ref": item.ref,
        "received_at": item.received_at,
        "status": item.status,
        "mail_from": item.mail_from,
        "rcpt_tos": list(item.rcpt_tos),
        "reviewer": item.reviewer,
        "reason": item.reason,
        "decided_at": item.decided_at,
        "report": item.summary.to_json(),
    }
    print(json.dumps(doc, ensure_ascii=False, indent=2))
    if args.raw:
        raw = await _review(config, store).raw(args.ref, _actor(args), "cli show --raw")
        sys.stdout.flush()
        sys.stdout.buffer.write(raw)
    return 0


async def q_release(args: argparse.Namespace, config: Config, store: QuarantineStore) -> int:
    review = _review(config, store)
    try:
        item = await review.release(args.ref, _actor(args), args.reason or "", args.strip)
    finally:
        await review.delivery.runtimes.current.relay.close()
    print(f"{item.ref}: {item.status} by {item.reviewer}")
    return 0


async def q_deny(args: argparse.Namespace, config: Config, store: QuarantineStore) -> int:
    item = await _review(config, store).deny(args.ref, _actor(args), args.reason)
    print(f"{item.ref}: {item.status} by {item.reviewer}")
    return 0


async def q_purge(args: argparse.Namespace, config: Config, store: QuarantineStore) -> int:
    expired, purged = await _review(config, store).retention(args.days or config.quarantine.retention_days)
    print(f"期限切れ expired {expired}, 内容削除 purged {purged}")
    return 0


def _hash(password: str) -> str:
    from argon2 import PasswordHasher  # noqa: PLC0415 - only user commands need it

    return PasswordHasher().hash(password)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("パスワード / password: ")
        if getpass.getpass("確認 / again: ") != password:
            raise DlpError("the passwords differ")
    if len(password) < 12:
        raise DlpError("a password needs at least 12 characters")
    return password


async def user_add(args: argparse.Namespace, config: Config, store: QuarantineStore) -> int:
    existing = await store.get_user(args.name)
    if existing and args.command_name == "add":
        raise DlpError(f"user {args.name} exists (use `user passwd` or `user role`)")
    if not existing and args.command_name != "add":
        raise DlpError(f"no user {args.name}")
    role = args.role if getattr(args, "role", None) else (existing.role if existing else "reviewer")
    password_hash = _hash(_password(args)) if args.command_name in ("add", "passwd") else existing.password_hash  # type: ignore[union-attr]
    disabled = {"disable": True, "enable": False}.get(args.command_name, existing.disabled if existing else False)
    await store.put_user(User(args.name, password_hash, role, disabled))
    await store.append_audit(
        AuditEntry(
            iso(utc_now()), getpass.getuser(), f"user_{args.command_name}", None, "", {"user": args.name, "role": role}
        )
    )
    print(f"{args.name}: {role}{' (disabled)' if disabled else ''}")
    return 0


async def user_list(args: argparse.Namespace, config: Config, store: QuarantineStore) -> int:
    for u in await store.users():
        print(f"{u.name}\t{u.role}\t{'disabled' if u.disabled else 'active'}")
    return 0


async def audit_export(args: argparse.Namespace, config: Config, store: QuarantineStore) -> int:
    sys.stdout.write(audit_csv(await store.audit(since=args.since, until=args.until)))
    return 0


async def incident(args: argparse.Namespace, config: Config, store: QuarantineStore) -> int:
    report = await incident_for(store, utc_now(), args.ref, args.since, args.until)
    if args.format == "csv":
        sys.stdout.write(incident_csv(report))
    else:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


def add_review_commands(sub: Any, with_config: Callable[[argparse.ArgumentParser], argparse.ArgumentParser]) -> None:
    def command(parser: argparse.ArgumentParser, fn: Callable[..., Awaitable[int]]) -> None:
        parser.set_defaults(fn=lambda args: _run(args, lambda config, store: fn(args, config, store)))

    q = sub.add_parser("quarantine", help="the review queue").add_subparsers(dest="qcmd", required=True)
    ql = with_config(q.add_parser("list"))
    ql.add_argument("--status", default="held", choices=[*HeldStatus, "all"])
    ql.add_argument("--limit", type=int, default=100)
    ql.add_argument("--json", action="store_true")
    command(ql, q_list)
    qs = with_config(q.add_parser("show"))
    qs.add_argument("ref")
    qs.add_argument("--raw", action="store_true", help="also print the full message (customer data; audited)")
    qs.add_argument("--reviewer", help="who looks (default: the login name)")
    command(qs, q_show)
    qr = with_config(q.add_parser("release"))
    qr.add_argument("ref")
    qr.add_argument("--strip", action="store_true", help="release without the violating recipients")
    qr.add_argument("--reason")
    qd = with_config(q.add_parser("deny"))
    qd.add_argument("ref")
    qd.add_argument("--reason", required=True)
    for sp in (qr, qd):
        sp.add_argument("--reviewer", help="who decides (default: the login name)")
    command(qr, q_release)
    command(qd, q_deny)
    qp = with_config(q.add_parser("purge", help="apply retention now (also runs daily in `serve`)"))
    qp.add_argument("--days", type=int, help="default: quarantine.retention_days")
    command(qp, q_purge)

    u = sub.add_parser("user", help="console users").add_subparsers(dest="ucmd", required=True)
    for name in ("add", "passwd", "role", "disable", "enable"):
        up = with_config(u.add_parser(name))
        up.add_argument("name")
        up.set_defaults(command_name=name)
        if name in ("add", "role"):
            up.add_argument(
                "--role", choices=ROLES, default="reviewer" if name == "add" else None, required=name == "role"
            )
        if name in ("add", "passwd"):
            up.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
        else:
            up.set_defaults(password_stdin=False)
        command(up, user_add)
    command(with_config(u.add_parser("list")), user_list)

    a = with_config(sub.add_parser("audit", help="export the audit log as CSV"))
    a.add_argument("--since")
    a.add_argument("--until")
    command(a, audit_export)

    i = with_config(sub.add_parser("incident", help="incident report (漏えい等報告) for a message or a period"))
    i.add_argument("--ref")
    i.add_argument("--since", help="ISO date, UTC (default: 30 days ago)")
    i.add_argument("--until")
    i.add_argument("--format", choices=["json", "csv"], default="json")
    command(i, incident)
