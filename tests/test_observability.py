"""Metrics, health endpoints, alert rules (promtool) and the promise that no customer data leaves
the quarantine: not in logs, metrics or SMTP replies."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import aiohttp

from dlp_gateway.model import Envelope, UnscannableKind
from dlp_gateway.observe.loop_lag import watch_loop
from dlp_gateway.observe.metrics import REGISTRY, observe_report
from dlp_gateway.pipeline import Pipeline
from dlp_gateway.registry import EMPTY_REGISTRY
from tests import fixtures as fx
from tests.helpers import BRANCH_A, HEAD_OFFICE, MSI, ROOT, SOMPO, example_config, free_port, make_message, submit
from tests.processes import start_serve

PROMETHEUS = ROOT / "deploy" / "prometheus"
CUSTOMERS = [(f"81000000{i:02d}", f"山田{n}", f"太郎{n}") for i, n in enumerate("一二三四五六七八九十", start=1)]
SECRETS = [s for c in CUSTOMERS for s in (c[0], c[1] + c[2], f"{c[1]} {c[2]}", c[2])] + ["MS1000001", "伊藤 健一"]


def promtool() -> str:
    path = shutil.which("promtool")
    assert path, "promtool is missing: install Debian's prometheus package (.ci/run does)"
    return path


def test_alert_rules_are_valid_and_their_unit_tests_pass() -> None:
    check = subprocess.run(
        [promtool(), "check", "rules", "alerts.yml"], cwd=PROMETHEUS, capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "10 rules found" in check.stdout
    test = subprocess.run(
        [promtool(), "test", "rules", "alerts_test.yml"], cwd=PROMETHEUS, capture_output=True, text=True, check=False
    )
    assert test.returncode == 0, test.stdout + test.stderr
    assert "SUCCESS" in test.stdout


def test_the_grafana_dashboard_shows_every_metric_and_alert_with_valid_queries(tmp_path: Path) -> None:
    """deploy/grafana/dlp-gateway.json: every query's metric exists, every metric is shown, every
    alert is counted by the alerts panel, and every query is valid PromQL (promtool, as rules)."""
    import re  # noqa: PLC0415

    import yaml  # noqa: PLC0415

    from dlp_gateway.observe.metrics import REGISTRY  # noqa: PLC0415

    dash = json.loads((ROOT / "deploy" / "grafana" / "dlp-gateway.json").read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", ())]
    assert exprs and all("${datasource}" in json.dumps(p.get("datasource", "${datasource}")) for p in dash["panels"])
    suffix = {"counter": "_total", "histogram": "_bucket", "gauge": "", "summary": ""}
    exported = {m.name + suffix[m.type] for m in REGISTRY.collect() if m.name.startswith("dlp_")}
    queried = {name for e in exprs for name in re.findall(r"\bdlp_[a-z_]+", e)}
    assert queried <= exported, queried - exported  # no query of a metric that does not exist
    assert exported <= queried, exported - queried  # and no metric left off the dashboard
    alerts = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text(encoding="utf-8"))
    names = [r["alert"] for g in alerts["groups"] for r in g["rules"]]
    assert names and all(re.fullmatch("Dlp.*", n) for n in names)  # the alerts panel's alertname=~"Dlp.*"
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query{i}", "expr": e.replace("$__rate_interval", "5m")}
                    for i, e in enumerate(exprs)
                ],
            }
        ]
    }
    (tmp_path / "dashboard.yml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    check = subprocess.run(
        [promtool(), "check", "rules", "dashboard.yml"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"{len(exprs)} rules found" in check.stdout


def test_an_unscannable_part_is_counted_under_the_kind_its_reader_gave() -> None:
    """The label is the kind set where reading failed, not words parsed back out of the reason."""
    raw = fx.multipart(
        "添付", [("application/zip", 'attachment; filename="ppap.zip"', fx.encrypted_zip({"a.csv": b"x"}))]
    )
    report = Pipeline(example_config(), EMPTY_REGISTRY).scan(
        raw, Envelope("a@mirai-hoken.example.jp", ("b@ms-ins.com",))
    )
    assert [u.kind for u in report.unscannable] == [UnscannableKind.ENCRYPTED]

    def count() -> float:
        return REGISTRY.get_sample_value("dlp_unscannable_total", {"reason": "encrypted"}) or 0.0

    before = count()
    observe_report(report)
    assert count() == before + 1


async def test_metrics_health_and_no_customer_data_in_logs_metrics_or_replies(site: Path) -> None:
    port, metrics_port = free_port(), free_port()
    proc = await start_serve(site, port, metrics_port=metrics_port)
    base = f"http://127.0.0.1:{metrics_port}"
    replies = []
    try:
        lines = [f"証券番号：{n}　契約者名：{f} {g} 様　引受：東京海上日動" for n, f, g in CUSTOMERS]
        for rcpts in ([BRANCH_A, SOMPO], [BRANCH_A, MSI, "x@example.com"]):  # bulk: held
            msg = make_message("\n".join(lines) + "\n証券番号 MS1000001 伊藤 健一 様", to=tuple(rcpts))
            replies.append(await submit(port, HEAD_OFFICE, rcpts, msg))
        for rcpts in ([SOMPO], [BRANCH_A, SOMPO]):  # a few records: stripping all rejects; else strip
            few = make_message("\n".join(lines[:2]), to=tuple(rcpts))
            replies.append(await submit(port, HEAD_OFFICE, rcpts, few))
        async with aiohttp.ClientSession() as http:
            async with http.get(base + "/healthz") as r:
                assert r.status == 200
            async with http.get(base + "/readyz") as r:
                doc = json.loads(await r.text())
                assert r.status == 200 and doc["ready"] and doc["checks"]["quarantine"] == "ok"
            await asyncio.sleep(0.2)
            async with http.get(base + "/metrics") as r:
                exposition = await r.text()
        proc.send_signal(signal.SIGHUP)  # a reload shows up in the metrics too
        after_reload = ""
        for _ in range(300):  # a reload starts new scan workers before it takes effect
            await asyncio.sleep(0.1)
            async with aiohttp.ClientSession() as http, http.get(base + "/metrics") as r:
                after_reload = await r.text()
            if 'dlp_config_reloads_total{result="ok"}' in after_reload:
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    log = err.decode()
    assert [code for code, _ in replies] == [250, 250, 550, 250]
    for name in (
        'dlp_messages_total{verdict="quarantine"} 2.0',
        'dlp_messages_total{verdict="reject"} 1.0',
        'dlp_messages_total{verdict="strip"} 1.0',
        'dlp_recipients_total{action="strip",party="insurer"} 2.0',
        'dlp_violations_total{kind="cross_insurer"}',
        'dlp_rule_hits_total{rule="cross-insurer-bulk",simulated="false"}',
        'dlp_records_total{attribution="explicit"}',
        'dlp_findings_total{detector="policy_number"}',
        'dlp_smtp_replies_total{code="550"} 1.0',
        'dlp_relay_total{result="delivered"}',
        "dlp_scan_duration_seconds_bucket",
        "dlp_message_duration_seconds_count 4.0",
        "dlp_messages_in_flight 0.0",
        "dlp_notices_total",
        "dlp_scan_wait_seconds_count 4.0",  # every scan waited (or not) for a worker
        "dlp_scan_workers_busy 0.0",
        "dlp_event_loop_lag_seconds_count",
    ):
        assert name in exposition, name
    [workers] = [float(line.split()[1]) for line in exposition.splitlines() if line.startswith("dlp_scan_workers ")]
    assert workers >= 1
    assert 'dlp_config_reloads_total{result="ok"} 1.0' in after_reload
    assert "dlp_config_last_reload_failed 0.0" in after_reload
    for secret in [*SECRETS, BRANCH_A, SOMPO, MSI, "x@example.com"]:
        assert secret not in exposition, secret
    for secret in SECRETS:
        assert secret not in log, secret
        for _, reply in replies:
            assert secret not in reply
    assert log.count('"event": "message"') == 4


async def test_readyz_fails_when_the_upstream_is_down(site: Path) -> None:
    (site / "rules" / "upstream.yaml").write_text(
        f"upstream: {{host: 127.0.0.1, port: {free_port()}}}\n", encoding="utf-8"
    )
    metrics_port = free_port()
    proc = await start_serve(site, free_port(), metrics_port=metrics_port)
    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{metrics_port}/readyz") as r:
            doc = json.loads(await r.text())
            assert r.status == 503
            assert "unreachable" in doc["checks"]["upstream"] and doc["checks"]["quarantine"] == "ok"
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), 30)


async def test_the_loop_lag_watch_sees_a_stalled_loop() -> None:
    samples: list[float] = []
    watch = asyncio.create_task(watch_loop(0.02, samples.append))
    try:
        await asyncio.sleep(0.2)
        time.sleep(0.3)  # something holding the event loop (a callback that takes 0.3 s)
        await asyncio.sleep(0.2)
    finally:
        watch.cancel()
    assert max(samples) >= 0.25  # the stall
    assert sorted(samples)[len(samples) // 2] < 0.05  # and the loop otherwise on time
