"""The `dlp-gateway` command line (DESIGN §4)."""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import logging
import os
import signal
import sys
from pathlib import Path

from dlp_gateway.cli_review import add_review_commands
from dlp_gateway.config import load_config
from dlp_gateway.config.reference import reference, splice
from dlp_gateway.errors import ConfigError, DlpError, NotFoundError
from dlp_gateway.model import Envelope, Report
from dlp_gateway.observe.logging import setup as setup_logging
from dlp_gateway.parse.mime import parse_message
from dlp_gateway.passwords import HASHER
from dlp_gateway.pipeline import Pipeline, envelope_from_headers
from dlp_gateway.registry import load_registry
from dlp_gateway.registry.importer import import_csv
from dlp_gateway.registry.open import staff_for
from dlp_gateway.registry.staff import import_staff_csv
from dlp_gateway.report import report_json
from dlp_gateway.ruletest import load_cases, run_cases
from dlp_gateway.serve import pid_file, registry_with_metrics, serve

log = logging.getLogger("dlp_gateway")


def _version() -> str:
    """The installed distribution's version (pyproject.toml), or `unknown` when run from a tree
    that was never installed."""
    try:
        return importlib.metadata.version("dlp-gateway")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def cmd_check(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if config.registry.path and config.registry.path.exists():
        load_registry(config.registry.path)
    staff_for(config)  # a broken staff directory is a broken configuration too
    print(
        f"OK 設定は有効です / configuration is valid: {len(config.insurers)} insurer(s), "
        f"{len(config.rules)} rule(s), from {config.source}"
    )
    return 0


def _print_text(report: Report) -> None:
    d = report.decision
    print(f"判定 verdict: {d.verdict.label}")
    print(f"該当ルール rules: {', '.join(d.rules) or '-'}")
    for r in d.recipients:
        kinds = ", ".join(f"{v.kind}{list(v.records) if v.records else ''}" for v in r.violations) or "-"
        print(f"  宛先 {r.address} [{r.party}] → {r.action.label}  違反 violations: {kinds}")
    for i, rec in enumerate(report.records):
        print(
            f"  記録 record {i}: 証券番号 {rec.policy_number or '-'} 氏名 {rec.name or '-'} "
            f"満期 {rec.expiry or '-'} 引受 {rec.underwriter or '不明 unknown'} ({rec.attribution}, "
            f"{rec.confidence:.2f}) @ {rec.location}"
        )
    for u in report.unscannable:
        print(f"  検査不能 unscannable: {u.location}: {u.reason}")
    for note in d.notes:
        print(f"  注記 note: {note}")


def cmd_scan(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    raw = Path(args.file).read_bytes()
    default = envelope_from_headers(parse_message(raw)[0])
    envelope = Envelope(args.mail_from or default.mail_from, tuple(args.to) if args.to else default.rcpt_tos)
    report = Pipeline(config, registry_with_metrics(config, quiet=args.json), staff_for(config)).scan(raw, envelope)
    if args.json:
        print(json.dumps(report_json(report), ensure_ascii=False, indent=2))
    else:
        _print_text(report)
    return 0


def cmd_test_rules(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    failed = 0
    total = 0
    for path in args.cases:
        for res in run_cases(load_cases(Path(path)), config):
            total += 1
            if res.passed:
                print(f"PASS  {res.name}")
                continue
            failed += 1
            print(f"FAIL  {res.name}")
            for failure in res.failures:
                print(f"        {failure}")
    print(f"{total - failed} passed, {failed} failed")
    return 1 if failed else 0


def cmd_registry_import(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    out = Path(args.output) if args.output else config.registry.path
    if out is None:
        raise DlpError("no registry.path in the configuration and no --output given")
    result = import_csv(Path(args.file), config)
    for line, problem in result.unmapped:
        print(f"{args.file}:{line}: skipped: {problem}", file=sys.stderr)
    if result.imported == 0:
        raise DlpError(f"{args.file}: no rows could be imported; the registry was not changed")
    result.index.save(out)
    print(f"取込 imported {result.imported} row(s) into {out}; 未対応 skipped {len(result.unmapped)}")
    return 1 if result.unmapped and args.strict else 0


def cmd_staff_import(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    out = Path(args.output) if args.output else config.staff.path
    if out is None:
        raise DlpError("no staff.path in the configuration and no --output given")
    result = import_staff_csv(Path(args.file))
    for line in result.skipped:
        print(f"{args.file}:{line}: skipped: no name", file=sys.stderr)
    if result.imported == 0:
        raise DlpError(f"{args.file}: no names could be imported; the staff directory was not changed")
    result.directory.save(out)
    print(f"取込 imported {result.imported} person(s) into {out}; 未対応 skipped {len(result.skipped)}")
    return 0


def cmd_hash_password(args: argparse.Namespace) -> int:
    password = sys.stdin.readline().rstrip("\n")
    if len(password) < 12:
        raise DlpError("a password needs at least 12 characters")
    print(HASHER.hash(password))
    return 0


def cmd_config_reference(args: argparse.Namespace) -> int:
    """Print the configuration reference, or with --write splice it into a document in place."""
    if args.write:
        doc = Path(args.write)
        doc.write_text(splice(doc.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        print(reference(), end="")
    return 0


def cmd_reload(args: argparse.Namespace) -> int:
    config = load_config(args.config)  # refuse to signal with a configuration that would be refused
    pid = pid_file(config)
    try:
        os.kill(int(pid.read_text(encoding="ascii").strip()), signal.SIGHUP)
    except (OSError, ValueError) as exc:
        raise DlpError(f"no running gateway found through {pid}: {exc}") from exc
    print(f"再読込を指示しました / reload signalled (configuration checked: {len(config.rules)} rule(s))")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    asyncio.run(serve(args.config))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dlp-gateway", description="Outbound mail DLP gateway for insurance agencies")
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="command", required=True)

    def with_config(sp: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sp.add_argument("--config", required=True, help="YAML file, or a directory of YAML files")
        return sp

    with_config(sub.add_parser("serve", help="run the gateway")).set_defaults(fn=cmd_serve)
    with_config(sub.add_parser("check", help="validate the configuration")).set_defaults(fn=cmd_check)
    ref = sub.add_parser("config-reference", help="print every configuration key (docs/configuration.md)")
    ref.add_argument("--write", metavar="DOC", help="replace the generated tables in DOC instead of printing")
    ref.set_defaults(fn=cmd_config_reference)
    hp = sub.add_parser("hash-password", help="read a password on stdin, print its Argon2 hash (smtp.auth_users)")
    hp.set_defaults(fn=cmd_hash_password)
    with_config(sub.add_parser("reload", help="make the running gateway reload its configuration")).set_defaults(
        fn=cmd_reload
    )
    scan = with_config(sub.add_parser("scan", help="what the gateway would do with one message"))
    scan.add_argument("--from", dest="mail_from")
    scan.add_argument("--to", action="append", default=[])
    scan.add_argument("--json", action="store_true")
    scan.add_argument("file")
    scan.set_defaults(fn=cmd_scan)

    tr = with_config(sub.add_parser("test-rules", help="run rule unit tests from cases files"))
    tr.add_argument("cases", nargs="+", help="YAML cases files")
    tr.set_defaults(fn=cmd_test_rules)

    reg = sub.add_parser("registry", help="customer registry").add_subparsers(dest="rcmd", required=True)
    imp = with_config(reg.add_parser("import", help="build the registry index from a contract CSV"))
    imp.add_argument("file")
    imp.add_argument("--output", help="index path (default: registry.path from the configuration)")
    imp.add_argument("--strict", action="store_true", help="exit 1 if any row was skipped")
    imp.set_defaults(fn=cmd_registry_import)

    staff = sub.add_parser("staff", help="staff directory").add_subparsers(dest="scmd", required=True)
    simp = with_config(staff.add_parser("import", help="build the staff directory from a mail/HR export CSV"))
    simp.add_argument("file")
    simp.add_argument("--output", help="directory path (default: staff.path from the configuration)")
    simp.set_defaults(fn=cmd_staff_import)

    add_review_commands(sub, with_config)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging()
    try:
        return int(args.fn(args))
    except ConfigError as exc:
        print("設定エラー configuration error:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    except NotFoundError as exc:
        print(f"見つかりません not found: {exc}", file=sys.stderr)
        return 1
    except (DlpError, OSError) as exc:
        print(f"エラー error: {exc}", file=sys.stderr)
        return 1
