"""Throughput and added latency of the gateway against a bare aiosmtpd→aiosmtplib relay, same run.

    .venv/bin/python bench/relay_throughput.py [--messages 400] [--list-messages 40] [--clients 8]
        [--rounds 5] [--registry-rows 1000000] [--profile spy.txt]

Starts a sink, then (a) a bare pass-through relay in one process, (b) the same relay in as many
processes as the gateway uses (its main process and its scan workers, on one SO_REUSEPORT socket:
the fair baseline), and (c) `dlp-gateway serve` (every detector, the example rules, a registry of
--registry-rows generated contracts), and drives each with two workloads over N concurrent
connections:

- text: 2–50 KB, ISO-2022-JP and UTF-8, 1–10 recipients, a fifth carrying customer records;
- list: 40 % with a CSV, XLSX or PDF customer list of 10–10,000 rows (log-uniform), the rest text.

Prints per workload messages/s, p50 and p99 latency, the gateway's ratio to each baseline and the
added latency, and the gateway's CPU seconds (with its scan workers) and peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiosmtplib

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.extract_throughput import make_csv, make_pdf, make_xlsx  # noqa: E402
from bench.registry_scale import make_csv as make_registry_csv  # noqa: E402
from tests.fixtures import multipart  # noqa: E402
from tests.helpers import make_message  # noqa: E402

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ATTACHMENTS = (
    ("text/csv", "list.csv", make_csv),
    (XLSX, "list.xlsx", make_xlsx),
    ("application/pdf", "list.pdf", make_pdf),
)

SINK = """
import asyncio
from aiosmtpd.smtp import SMTP
class H:
    async def handle_DATA(self, server, session, envelope):
        return "250 ok"
async def main():
    loop = asyncio.get_running_loop()
    await loop.create_server(lambda: SMTP(H()), "127.0.0.1", {port})
    await asyncio.Event().wait()
asyncio.run(main())
"""
BARE = """
import asyncio, aiosmtplib
from aiosmtpd.smtp import SMTP
class H:
    async def handle_DATA(self, server, session, envelope):
        await aiosmtplib.send(envelope.original_content, sender=envelope.mail_from, recipients=envelope.rcpt_tos,
                              hostname="127.0.0.1", port={upstream}, start_tls=False)
        return "250 ok"
async def main():
    loop = asyncio.get_running_loop()
    await loop.create_server(lambda: SMTP(H()), "127.0.0.1", {port}, reuse_port=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""
BARE_ONE, BARE_EQUAL, GATEWAY = "bare relay", "bare relay, equal processes", "dlp-gateway"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def workload(n: int, seed: int = 3) -> list[tuple[list[str], bytes]]:
    r = random.Random(seed)
    out = []
    for i in range(n):
        rcpts = [f"staff{k}@mirai-hoken.example.jp" for k in range(r.randint(1, 9))] + ["tanaka@sompo-japan.co.jp"]
        filler = "本日の会議資料を共有します。ご確認をお願いいたします。\n" * r.randint(30, 800)
        if i % 5 == 0:
            filler += "\n".join(f"証券番号：81000{i:03d}{k:02d}　契約者名：山田 太郎 様" for k in range(3))
        charset = "ISO-2022-JP" if i % 2 else "UTF-8"
        out.append((rcpts, make_message(filler, to=tuple(rcpts), charset=charset)))
    return out


def list_workload(n: int, seed: int = 5) -> list[tuple[list[str], bytes]]:
    r = random.Random(seed)
    text = workload(n, seed)
    out = []
    for i in range(n):
        if r.random() >= 0.4:
            out.append(text[i])
            continue
        ctype, name, make = ATTACHMENTS[i % 3]
        rows = int(10 ** r.uniform(1, 4))
        rcpts = ["staff1@mirai-hoken.example.jp", "tanaka@sompo-japan.co.jp"]
        data = multipart("一覧を送付します。", [(ctype, f'attachment; filename="{name}"', make(rows))], to=rcpts[1])
        out.append((rcpts, data))
    return out


async def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            return
        except OSError:
            await asyncio.sleep(0.2)
    raise TimeoutError(port)


async def drive(
    port: int, messages: list[tuple[list[str], bytes]], clients: int
) -> tuple[float, list[float], list[float]]:
    """(seconds, latency of every message, latency of the messages without an attachment)."""
    queue = list(enumerate(messages))
    latencies: list[float] = []
    plain: list[float] = []

    async def client() -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=60)
        await smtp.connect()
        while queue:
            _, (rcpts, data) = queue.pop()
            t = time.perf_counter()
            with contextlib.suppress(aiosmtplib.SMTPResponseException):  # held or rejected: still handled
                await smtp.sendmail("honbu@mirai-hoken.example.jp", rcpts, data)
            latencies.append(time.perf_counter() - t)
            if b"filename=" not in data:
                plain.append(latencies[-1])
        await smtp.quit()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - start, latencies, plain


def own_cpu(pid: int) -> float:
    """CPU seconds of one process alone (not its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """One process's peak resident memory (VmHWM), in MB."""
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024


def proc_stats(pid: int) -> tuple[float, float]:
    """(CPU seconds, peak RSS MB) of a process and its children (the scan workers), from /proc."""
    cpu = peak = 0.0
    for proc in [pid, *children(pid)]:
        cpu += own_cpu(proc)
        peak += peak_rss_mb(proc)
    return cpu, peak


def current_rss(pid: int) -> float:
    """Resident MB now, of the gateway and its scan workers."""
    total = 0
    for proc in [pid, *children(pid)]:
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{proc}/status").read_text().splitlines()
            total += next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))
    return total / 1024


async def run_soak(
    pid: int, port: int, messages: list[tuple[list[str], bytes]], clients: int, seconds: float
) -> list[tuple[int, float]]:
    """Drive the gateway for `seconds`; (messages sent, RSS MB) every 30 s."""
    samples: list[tuple[int, float]] = [(0, current_rss(pid))]
    sent = 0
    deadline = time.monotonic() + seconds
    next_sample = time.monotonic() + 30
    while time.monotonic() < deadline:
        await drive(port, messages[:80], clients)
        sent += 80
        if time.monotonic() >= next_sample:
            samples.append((sent, current_rss(pid)))
            next_sample += 30
    samples.append((sent, current_rss(pid)))
    return samples


def children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(stat.parent.name))
    return out


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=400)
    ap.add_argument("--list-messages", type=int, default=40)
    ap.add_argument("--registry-rows", type=int, default=1_000_000)
    ap.add_argument("--soak", type=float, default=0, help="then drive text mail for this many seconds, sampling RSS")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=1, help="repeat bare and gateway runs, alternating; print medians")
    ap.add_argument(
        "--profile",
        type=Path,
        help="py-spy the gateway and its workers: X.txt → X.text.txt, X.list.txt",
    )
    args = ap.parse_args()
    workloads = {"text": workload(args.messages)}
    if args.list_messages:  # --list-messages 0: text mail alone
        workloads["list"] = list_workload(args.list_messages)
    sink_port, bare_port, equal_port, gw_port = free_port(), free_port(), free_port(), free_port()
    procs = [subprocess.Popen([sys.executable, "-c", SINK.format(port=sink_port)])]
    bare = subprocess.Popen([sys.executable, "-c", BARE.format(port=bare_port, upstream=sink_port)])
    procs.append(bare)
    site = Path(tempfile.mkdtemp())
    shutil.copytree(ROOT / "rules", site / "rules")
    cfg = site / "rules" / "gateway.yaml"
    text = cfg.read_text(encoding="utf-8").replace("port: 10025", f"port: {gw_port}")
    text = text.replace("port: 9125", f"port: {free_port()}").replace("port: 8025", f"port: {free_port()}")
    cfg.write_text(text.replace("max_messages_per_minute: 600", "max_messages_per_minute: 1000000"), encoding="utf-8")
    (site / "rules" / "upstream.yaml").write_text(
        f"upstream: {{host: 127.0.0.1, port: {sink_port}, tls: none}}\n", encoding="utf-8"
    )
    make_registry_csv(site / "contracts.csv", args.registry_rows)
    subprocess.run(
        [sys.executable, "-m", "dlp_gateway", "registry", "import", "--config", "rules", "contracts.csv"],
        cwd=site,
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    gw = subprocess.Popen(
        [sys.executable, "-m", "dlp_gateway", "serve", "--config", "rules"],
        cwd=site,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stderr=subprocess.DEVNULL,
    )
    procs.append(gw)
    try:
        for port in (sink_port, bare_port, gw_port):
            await wait_port(port)
        await drive(gw_port, workloads["text"][:20], 2)  # warm-up: imports, dictionaries
        processes = 1 + len(children(gw.pid))  # the gateway and its scan workers
        equal = [
            subprocess.Popen([sys.executable, "-c", BARE.format(port=equal_port, upstream=sink_port)])
            for _ in range(processes)
        ]
        procs += equal
        await wait_port(equal_port)
        cpu0, _ = proc_stats(gw.pid)
        results: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
        plain_p99: dict[tuple[str, str], list[float]] = {}
        cpu_ms: dict[tuple[str, str], list[float]] = {}  # CPU ms per message, per process
        relays = [(BARE_ONE, bare_port), (BARE_EQUAL, equal_port), (GATEWAY, gw_port)]
        # Bare and gateway runs alternate, the order flipped every round: the machine's own drift
        # (other tenants, frequency) then falls on both sides of each ratio.
        runs = [
            (relay, workload)
            for r in range(args.rounds)
            for workload in workloads.items()
            for relay in (relays if r % 2 == 0 else relays[::-1])
        ]
        for (label, port), (name, messages) in runs:
            spy = None
            if args.profile and port == gw_port:
                out = args.profile.with_name(f"{args.profile.stem}.{name}{args.profile.suffix}")
                spy = subprocess.Popen(
                    ["py-spy", "record", "--subprocesses", "--format", "raw", "-o", str(out), "--pid", str(gw.pid)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            pids = [bare.pid] if label == BARE_ONE else [p.pid for p in equal]
            before = sum(map(own_cpu, pids)), own_cpu(gw.pid), proc_stats(gw.pid)[0]
            secs, lat, plain = await drive(port, messages, args.clients)
            after = sum(map(own_cpu, pids)), own_cpu(gw.pid), proc_stats(gw.pid)[0]
            if label != GATEWAY:
                cpu_ms.setdefault((label, name), []).append((after[0] - before[0]) / len(messages) * 1000)
            else:
                main_ms = (after[1] - before[1]) / len(messages) * 1000
                cpu_ms.setdefault(("gateway process", name), []).append(main_ms)
                workers_ms = (after[2] - before[2]) / len(messages) * 1000 - main_ms
                cpu_ms.setdefault(("scan workers", name), []).append(workers_ms)
            if spy:
                spy.send_signal(2)
                spy.wait()
            rate, p50, p99 = len(messages) / secs, statistics.median(lat), statistics.quantiles(lat, n=100)[98]
            results.setdefault((label, name), []).append((rate, p50, p99))
            plain_p99.setdefault((label, name), []).append(
                statistics.quantiles(plain, n=100)[98] if len(plain) > 1 else 0.0
            )
        cpu1, rss = proc_stats(gw.pid)
        soak = await run_soak(gw.pid, gw_port, workloads["text"], args.clients, args.soak) if args.soak else []
    finally:
        for p in procs:
            p.terminate()
    print(
        f"{args.clients} concurrent clients, registry of {args.registry_rows:,} contracts, {args.rounds} round(s); "
        f"the gateway runs {processes} processes, and so does the equal-process relay"
    )
    for name, messages in workloads.items():
        mb = sum(len(d) for _, d in messages) / 1e6
        print(f"\n{name} workload: {len(messages)} messages ({mb:.1f} MB); medians over the rounds")
        print(f"{'':28} {'msg/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
        med = {
            label: tuple(statistics.median(run[i] for run in results[label, name]) for i in range(3))
            for label in (BARE_ONE, BARE_EQUAL, GATEWAY)
        }
        for label, (rate, p50, p99) in med.items():
            print(f"{label:28} {rate:8.1f} {p50 * 1000:8.1f} {p99 * 1000:8.1f}")
        for base in (BARE_EQUAL, BARE_ONE):
            pairs = list(zip(results[base, name], results[GATEWAY, name], strict=True))
            ratios = [b[0] / a[0] for a, b in pairs]
            added = [1000 * (b[2] - a[2]) for a, b in pairs]
            print(
                f"gateway / {base}: {statistics.median(ratios):.2f} (rounds: "
                + ", ".join(f"{r:.2f}" for r in ratios)
                + f"); added latency p50 {1000 * (med[GATEWAY][1] - med[base][1]):.1f} ms, "
                f"p99 {statistics.median(added):.1f} ms (rounds: " + ", ".join(f"{a:.0f}" for a in added) + ")"
            )
        per = {who: statistics.median(cpu_ms[who, name]) for who in (BARE_ONE, "gateway process", "scan workers")}
        print(
            f"CPU per message: bare relay {per[BARE_ONE]:.2f} ms; gateway process {per['gateway process']:.2f} ms"
            f" + scan workers {per['scan workers']:.2f} ms (1/{os.sysconf('SC_CLK_TCK')} s ticks, medians)"
        )
        if name == "list":
            pa, pb = (statistics.median(plain_p99[label, name]) for label in (BARE_EQUAL, GATEWAY))
            print(f"messages without an attachment among them: p99 {pa * 1000:.1f} ms bare, {pb * 1000:.1f} ms gateway")
    if soak:
        print(f"\nsoak: {args.soak:.0f} s of text mail; gateway RSS (MB, with workers) every 30 s:")
        print("  " + " ".join(f"{mb:.0f}" for _, mb in soak))
        settled = soak[min(2, len(soak) - 1)][1]  # after the first minute: caches and pools are warm
        print(f"  growth after the first minute: {soak[-1][1] - settled:+.0f} MB; messages sent {soak[-1][0]}")
    print(f"gateway CPU {cpu1 - cpu0:.1f} s for the run (with its scan workers), peak RSS {rss:.0f} MB (summed)")


if __name__ == "__main__":
    asyncio.run(main())
