"""How long a month-end list holds the gateway's event loop: every other SMTP session, the console
and the metrics endpoint wait that long.

    .venv/bin/python bench/loop_stall.py --registry r.idx [--rows 130000] [--rounds 3]

Runs the gateway in this process (two scan workers, the example rules, the registry given, a SQLite
quarantine in a temporary directory) and submits one XLSX list of --rows rows to a rival insurer,
which holds it for review, from a client in another process. Meanwhile it samples the event loop
every 5 ms: the longest wait beyond those 5 ms is how long the loop stood still. Each round runs
the list twice, alternating with a baseline in the same run: the summary keeping every record and
the worker's reply unpickled on the loop, as the gateway did before (`limits.summary_records`,
`WorkerPool.large_reply`).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.extract_throughput import mail, make_xlsx
from bench.relay_throughput import peak_rss_mb
from dlp_gateway.config.load import load_config
from dlp_gateway.config.schema import FilePath, Outbox, Quarantine
from dlp_gateway.quarantine.sqlite import SqliteStore
from dlp_gateway.runtime import Runtime
from dlp_gateway.scanner import ProcessScanner
from dlp_gateway.smtp.relay import relay_for
from dlp_gateway.smtp.server import Gateway

SENDER, RIVAL = "honbu@mirai-hoken.example.jp", "tanaka@ms-ins.com"
TICK = 0.005


async def longest_stall(stop: asyncio.Event) -> float:
    worst = 0.0
    while not stop.is_set():
        t = time.perf_counter()
        await asyncio.sleep(TICK)
        worst = max(worst, time.perf_counter() - t - TICK)
    return worst


# The client runs in its own process: on this loop, sending 6.6 MB would be counted as the gateway's.
CLIENT = """
import re, smtplib, sys
data = re.sub(rb"\\r?\\n", b"\\r\\n", open(sys.argv[4], "rb").read())  # smtplib sends bytes as they are
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=120) as s:
    s.ehlo()
    s.mail(sys.argv[2])
    s.rcpt(sys.argv[3])
    code, reply = s.data(data)
print(code, reply.decode())
"""


async def one(gateway: Gateway, store: SqliteStore, message: Path) -> tuple[float, float]:
    """(the loop's longest stall, seconds to the reply) for one list."""
    stop = asyncio.Event()
    probe = asyncio.create_task(longest_stall(stop))
    started = time.perf_counter()
    client = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLIENT, str(gateway.port), SENDER, RIVAL, str(message), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await client.communicate()
    reply = out.decode().strip()
    took = time.perf_counter() - started
    stop.set()
    ref = reply.rpartition("(ref ")[2].rstrip(")")
    assert "Held" in reply, reply
    assert (await store.get(ref)).summary.scan_error is None, "the scan failed"  # held after a whole scan
    return await probe, took


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--registry", type=Path, required=True, help="a registry index (bench/registry_scale.py)")
    ap.add_argument("--rows", type=int, default=130_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    raw = mail("list.xlsx", "application/octet-stream", make_xlsx(args.rows))
    with tempfile.TemporaryDirectory() as tmp:
        message = Path(tmp) / "list.eml"
        message.write_bytes(raw)
        base = load_config(Path(__file__).resolve().parent.parent / "rules")
        base = dataclasses.replace(
            base,
            registry=FilePath(Path(args.registry) if args.registry else None),
            quarantine=Quarantine(path=Path(tmp) / "q.db"),
            upstream=None,
            outbox=Outbox(Path(tmp) / "outbox"),
            notices=None,
        )
        scanner = ProcessScanner(base, 2)
        await scanner.start()
        store = SqliteStore(base.quarantine.path)
        modes = {
            "now": (base, scanner.pool.large_reply),
            "before": (
                dataclasses.replace(base, limits=dataclasses.replace(base.limits, summary_records=10**9)),
                1 << 62,
            ),
        }
        results: dict[str, list[tuple[float, float]]] = {m: [] for m in modes}
        relay = relay_for(base)
        gateway = Gateway(base, scanner, relay, store)
        await gateway.start(port=0)
        try:
            for r in range(args.rounds):
                for mode in sorted(modes, reverse=r % 2 == 1):  # the order flips every round
                    config, scanner.pool.large_reply = modes[mode]
                    gateway.reload(Runtime(config, scanner, relay, store))  # the same workers throughout
                    results[mode].append(await one(gateway, store, message))
            peaks = [peak_rss_mb(pid) for pid in scanner.pool.pids] + [peak_rss_mb(os.getpid())]
        finally:
            await gateway.stop()
            await store.close()
    print(f"one XLSX list of {args.rows:,} rows ({len(raw) / 1e6:.1f} MB as mail), held; {args.rounds} rounds")
    print(f"{'':8} {'longest loop stall':>20} {'reply after':>12}")
    for mode, runs in results.items():
        stall = statistics.median(s for s, _ in runs)
        took = statistics.median(t for _, t in runs)
        rounds = ", ".join(f"{s * 1000:.0f}" for s, _ in runs)
        print(f"{mode:8} {stall * 1000:17.0f} ms {took:10.1f} s   (rounds: {rounds} ms)")
    print(f"peak RSS: scan workers {', '.join(f'{m:.0f}' for m in peaks[:-1])} MB, gateway {peaks[-1]:.0f} MB")
    now, before = (statistics.median(s for s, _ in results[m]) for m in ("now", "before"))
    print(f"stall now / before: {now / before:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
