"""The `dlp-gateway` command line, run as a user runs it: a real process, real files, real sockets."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from pathlib import Path

from tests.helpers import BRANCH_A, HEAD_OFFICE, MSI, ROOT, SOMPO, TOKIO_LIST, Sink, free_port, make_message, submit
from tests.processes import cli, start_serve

EXAMPLE = ROOT / "examples" / "seed-scenario.eml"


def test_scan_json_has_the_documented_fields(site: Path) -> None:
    doc = json.loads(cli("scan", "--config", "rules", "--json", str(EXAMPLE), cwd=site).stdout)
    assert doc["verdict"] == "strip"
    assert doc["rules"] == ["cross-insurer"]
    by_addr = {r["address"]: r for r in doc["recipients"]}
    assert by_addr["tanaka@sompo-japan.co.jp"]["party"] == "insurer:sompo"
    assert by_addr["tanaka@sompo-japan.co.jp"]["action"] == "strip"
    assert by_addr["tanaka@sompo-japan.co.jp"]["violations"] == [{"kind": "cross_insurer", "records": [0, 1, 2]}]
    assert by_addr["shiten-a@mirai-hoken.example.jp"]["action"] == "deliver"
    rec = doc["records"][1]
    assert rec == {
        "policy_number": "8100000002",
        "name": "佐藤 花子",
        "expiry": "2024-11-15",
        "underwriter": "tokio",
        "attribution": "explicit",
        "confidence": 0.9,
        "location": "body:line 7",
        "basis": "section heading",
    }
    assert doc["unscannable"] == []


def test_scan_with_an_explicit_envelope(site: Path) -> None:
    doc = json.loads(
        cli(
            "scan",
            "--config",
            "rules",
            "--from",
            HEAD_OFFICE,
            "--to",
            BRANCH_A,
            "--to",
            MSI,
            "--json",
            str(EXAMPLE),
            cwd=site,
        ).stdout
    )
    assert [r["address"] for r in doc["recipients"]] == [BRANCH_A, MSI]
    assert doc["sender"]["party"] == "internal"


def test_registry_import_then_scan_attributes_by_registry(site: Path) -> None:
    out = cli("registry", "import", "--config", "rules", "rules/sample-registry.csv", cwd=site)
    assert "10" in out.stdout
    assert (site / "var" / "registry.idx").exists()
    doc = json.loads(cli("scan", "--config", "rules", "--json", str(EXAMPLE), cwd=site).stdout)
    assert {r["attribution"] for r in doc["records"]} == {"registry"}


def test_registry_import_reports_rows_it_cannot_map(site: Path) -> None:
    (site / "c.csv").write_text(
        "policy_number,name,insurer\n8100000001,山田 太郎,アクサ\n8100000002,a,tokio\n", encoding="utf-8"
    )
    proc = cli("registry", "import", "--config", "rules", "--strict", "c.csv", cwd=site, check=False)
    assert proc.returncode == 1
    assert "c.csv:2: skipped: insurer 'アクサ'" in proc.stderr


def test_check_accepts_the_example_and_names_file_and_key_of_errors(site: Path) -> None:
    assert "valid" in cli("check", "--config", "rules", cwd=site).stdout
    (site / "rules" / "zz.yaml").write_text(
        "rules:\n  - {name: x, when: {violation: leak}, action: strip}\n", encoding="utf-8"
    )
    proc = cli("check", "--config", "rules", cwd=site, check=False)
    assert proc.returncode == 2
    assert "rules/zz.yaml: rules[0].when.violation[0]: unknown value 'leak'" in proc.stderr


def test_serve_refuses_to_start_with_a_bad_configuration(site: Path) -> None:
    (site / "rules" / "zz.yaml").write_text(
        "insurers:\n  axa: {name: AXA, domains: [a.jp], policy_numbers: ['(']}\n", encoding="utf-8"
    )
    proc = cli("serve", "--config", "rules", cwd=site, check=False)
    assert proc.returncode == 2
    assert "zz.yaml: insurers.axa.policy_numbers[0]: invalid regular expression" in proc.stderr


async def test_serve_on_embedded_defaults_writes_delivered_mail_to_the_outbox(site: Path) -> None:
    port = free_port()
    proc = await start_serve(site, port)
    try:
        msg = make_message(TOKIO_LIST, to=(BRANCH_A,), cc=(SOMPO,))
        code, reply = await submit(port, HEAD_OFFICE, [BRANCH_A, SOMPO], msg)
        assert code == 250, reply
        outbox = [f.read_bytes() for f in (site / "var" / "outbox").glob("*.eml")]
        [data] = [d for d in outbox if b"X-DLP-Notice" not in d.partition(b"\r\n\r\n")[0]]
        notices = [d for d in outbox if d is not data]
        assert len(notices) == 2  # to the sender and to compliance (rules/gateway.yaml)
        assert all(b"8100000001" not in n for n in notices)
        assert data.startswith(f"Return-Path: <{HEAD_OFFICE}>\r\nX-DLP-Envelope-To: {BRANCH_A}\r\n".encode())
        assert b"tanaka@" not in data.partition(b"\r\n\r\n")[0]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0
    log = err.decode()
    assert '"verdict": "strip"' in log
    assert "shutting down" in log
    for secret in ("8100000001", "山田", "佐藤", "tanaka@", BRANCH_A):  # no customer data or addresses in logs
        assert secret not in log


async def test_quarantine_cli_list_show_release_deny(site: Path, sink: Sink) -> None:
    assert sink.server is not None
    port = free_port()
    (site / "rules" / "upstream.yaml").write_text(
        f"upstream: {{host: 127.0.0.1, port: {sink.server.sockets[0].getsockname()[1]}}}\n", encoding="utf-8"
    )
    proc = await start_serve(site, port)
    try:
        rows = "\n".join(f"証券番号：81000000{i:02d}　契約者名：山田 太郎 様" for i in range(10))
        for _ in range(2):
            code, _ = await submit(port, HEAD_OFFICE, [BRANCH_A, SOMPO], make_message(rows, to=(BRANCH_A, SOMPO)))
            assert code == 250
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), 30)
    assert not [r for r in sink.received if r[0] == HEAD_OFFICE]  # notices only, nothing of the held mail
    sink.received.clear()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return cli("quarantine", *args, "--config", "rules", cwd=site)

    held = json.loads((await asyncio.to_thread(run, "list", "--json")).stdout)
    assert len(held) == 2
    assert {h["status"] for h in held} == {"held"}
    first, second = held[0]["ref"], held[1]["ref"]
    shown = json.loads((await asyncio.to_thread(run, "show", first)).stdout)
    assert shown["report"]["verdict"] == "quarantine"
    assert "8100000001" not in json.dumps(shown)
    # A full release sends to the rival insurer the policy withheld: only with a reason.
    bare = await asyncio.to_thread(cli, "quarantine", "release", first, "--config", "rules", cwd=site, check=False)
    assert bare.returncode == 1 and "reason is required" in bare.stderr and not sink.received
    out = await asyncio.to_thread(run, "release", first, "--reviewer", "officer", "--reason", "本社確認済み")
    assert "released by officer" in out.stdout
    assert [r[1] for r in sink.received] == [(BRANCH_A, SOMPO)]
    out = await asyncio.to_thread(run, "deny", second, "--reason", "他社顧客を含むため", "--reviewer", "officer")
    assert "denied" in out.stdout
    assert json.loads((await asyncio.to_thread(run, "list", "--json")).stdout) == []
    again = await asyncio.to_thread(cli, "quarantine", "release", first, "--config", "rules", cwd=site, check=False)
    assert again.returncode == 1
    assert "already released" in again.stderr
    assert len(sink.received) == 1


def test_user_audit_incident_and_purge_commands(site: Path) -> None:
    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return cli(*args, "--config", "rules", cwd=site, check=False, stdin=stdin)

    added = run("user", "add", "suzuki", "--role", "reviewer", "--password-stdin", stdin="correct horse battery\n")
    assert added.returncode == 0, added.stderr
    short = run("user", "add", "tanaka", "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "at least 12 characters" in short.stderr
    assert run("user", "role", "suzuki", "--role", "admin").returncode == 0
    assert run("user", "disable", "suzuki").returncode == 0
    assert run("user", "list").stdout.strip() == "suzuki\tadmin\tdisabled"
    audit = run("audit").stdout.splitlines()
    assert audit[0] == "at,actor,action,ref,reason,details"
    assert [line.split(",")[2] for line in audit[1:]] == ["user_add", "user_role", "user_disable"]
    report = json.loads(run("incident").stdout)
    assert report["本人の数 people"] == 0 and report["messages"] == []
    assert "expired 0" in run("quarantine", "purge").stdout


def test_version_is_the_packages() -> None:
    import importlib.metadata  # noqa: PLC0415

    out = cli("--version")
    assert out.stdout.strip() == f"dlp-gateway {importlib.metadata.version('dlp-gateway')}"
