"""`dlp-gateway serve`: the long-running process and what it runs beside SMTP.

Start and reload build a Runtime the same way (configuration, registry, staff, scan workers,
relay) so a reload refuses exactly what a start would refuse; the schedulers (held-mail gates,
retention, queue gauges) run in every instance and rely on the store's claims to act once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import signal
from pathlib import Path

from aiohttp import web

from dlp_gateway.config import Config, load_config
from dlp_gateway.console.app import ConsoleApp, start_console
from dlp_gateway.errors import ConfigError, DlpError
from dlp_gateway.held import HeldStatus, Query
from dlp_gateway.observe import metrics
from dlp_gateway.observe.http import health_app
from dlp_gateway.observe.loop_lag import watch_loop
from dlp_gateway.pipeline import Pipeline
from dlp_gateway.ports import QuarantineStore, utc_now
from dlp_gateway.quarantine.gates import Gates
from dlp_gateway.quarantine.open import open_store
from dlp_gateway.quarantine.review import Review
from dlp_gateway.registry import Registry, RegistryIndex
from dlp_gateway.registry.open import registry_for, staff_for
from dlp_gateway.runtime import Runtime, Runtimes
from dlp_gateway.scanner import ProcessScanner, Scanner, ThreadScanner, default_workers
from dlp_gateway.smtp.relay import relay_for
from dlp_gateway.smtp.server import Gateway

log = logging.getLogger("dlp_gateway")
HOLD_CHECK_SECONDS = 5.0  # how late a held message may go out after its time


def registry_with_metrics(config: Config, quiet: bool = False) -> Registry:
    registry = registry_for(config, quiet)
    if isinstance(registry, RegistryIndex):
        metrics.REGISTRY_ROWS.set(registry.rows)
        if registry.created:
            metrics.REGISTRY_BUILT.set(dt.datetime.fromisoformat(registry.created).timestamp())
    return registry


def pid_file(config: Config) -> Path:
    return config.quarantine.path.parent / "dlp-gateway.pid"


def load_runtime(path: str, store: QuarantineStore) -> Runtime:
    """Configuration, registry and relay, loaded and validated together (for start and reload).

    The registry is loaded here even when worker processes scan: a broken index refuses the reload
    before any worker starts, and its row count feeds the metrics."""
    config = load_config(path)
    registry = registry_with_metrics(config)
    workers = config.limits.scan_workers or default_workers()
    staff = staff_for(config)  # a broken directory refuses the start or reload, like the registry
    scanner: Scanner = (
        ProcessScanner(config, workers) if workers > 1 else ThreadScanner(Pipeline(config, registry, staff))
    )
    return Runtime(config, scanner, relay_for(config), store)


async def started(runtime: Runtime) -> Runtime:
    """Bring the scan workers up (and their dictionaries loaded) before the runtime takes mail."""
    if isinstance(runtime.scanner, ProcessScanner):
        pids = await runtime.scanner.start()
        log.info("%d scan worker process(es) ready", len(pids))
    if isinstance(runtime.scanner, (ProcessScanner, ThreadScanner)):
        runtime.scanner.watch()
    return runtime


async def reload(gateway: Gateway, path: str) -> str:
    try:
        store = gateway.runtimes.current.store  # the store stays: its path or DSN needs a restart
        runtime = await started(await asyncio.to_thread(load_runtime, path, store))
    except ConfigError as exc:
        log.error("reload refused, the running configuration stays in force: %s", "; ".join(exc.problems))
        metrics.RELOADS.labels("refused").inc()
        metrics.RELOAD_FAILED.set(1)
        return "reload refused: " + "; ".join(exc.problems)
    except (DlpError, OSError) as exc:
        log.error("reload refused, the running configuration stays in force: %s", exc)
        metrics.RELOADS.labels("refused").inc()
        metrics.RELOAD_FAILED.set(1)
        return f"reload refused: {exc}"
    gateway.reload(runtime)
    metrics.RELOADS.labels("ok").inc()
    metrics.RELOAD_FAILED.set(0)
    metrics.CONFIG_LOADED.set_to_current_time()
    log.info(
        "configuration reloaded: %d insurer(s), %d rule(s)", len(runtime.config.insurers), len(runtime.config.rules)
    )
    return f"configuration reloaded: {len(runtime.config.rules)} rule(s)"


async def watch_queue(store: QuarantineStore) -> None:
    """Keep the queue gauges current for alerting (depth, age of the oldest unreviewed message)."""
    while True:
        try:
            page = await store.search(Query(status=HeldStatus.HELD, limit=1))
            metrics.QUARANTINE_DEPTH.set(page.total)
            oldest = page.items[0].received_at if page.items else None
            age = (utc_now() - dt.datetime.fromisoformat(oldest)).total_seconds() if oldest else 0
            metrics.QUARANTINE_OLDEST.set(age)
        except DlpError as exc:
            log.warning("queue gauges not updated: %s", exc)
        await asyncio.sleep(15)


async def open_gates(gates: Gates) -> None:
    """Deliver held (hold) messages once due. Every instance runs this; the store's claim makes
    each delivery happen once, and a restart loses nothing (the waiting messages are in the store)."""
    while True:
        try:
            delivered = await gates.deliver_due()
            if delivered:
                log.info("hold: %d message(s) delivered after their hold period", delivered)
        except DlpError as exc:
            log.error("hold scheduler: %s", exc)
        await asyncio.sleep(HOLD_CHECK_SECONDS)


async def retention(review: Review, runtimes: Runtimes) -> None:
    """Daily: held messages past retention expire, and their content is purged (the audit stays)."""
    while True:
        try:
            expired, purged = await review.retention(runtimes.current.config.quarantine.retention_days)
            if expired or purged:
                log.info("retention: %d expired, %d purged", expired, purged)
        except DlpError as exc:
            log.error("retention failed: %s", exc)
        await asyncio.sleep(24 * 3600)


async def serve(path: str) -> None:
    """Run the gateway until SIGTERM: SMTP, scan workers, console, metrics and the schedulers."""
    store = await open_store(load_config(path))
    runtime = await started(load_runtime(path, store))
    config = runtime.config
    gateway = Gateway(config, runtime.scanner, runtime.relay, store)
    await gateway.start()
    pid = pid_file(config)
    pid.parent.mkdir(parents=True, exist_ok=True)  # with PostgreSQL, nothing else creates var/
    pid.write_text(f"{os.getpid()}\n", encoding="ascii")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    reloads: set[asyncio.Task[str]] = set()

    def on_hup() -> None:
        task = loop.create_task(reload(gateway, path))
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, on_hup)
    review = Review(gateway.delivery)  # reads the runtime in force: a release after a reload uses the new one
    background = [
        loop.create_task(retention(review, gateway.runtimes)),
        loop.create_task(watch_queue(store)),
        loop.create_task(open_gates(Gates(review))),
        loop.create_task(watch_loop()),
    ]

    metrics.CONFIG_LOADED.set_to_current_time()
    runners = []
    if config.metrics is not None:
        health = web.AppRunner(health_app(lambda: gateway.config, store), access_log=None)
        await health.setup()
        await web.TCPSite(health, config.metrics.host, config.metrics.port).start()
        runners.append(health)
        log.info("metrics and health on http://%s:%d/metrics", config.metrics.host, config.metrics.port)
    runner = None
    if config.console is not None:
        console = ConsoleApp(
            store,
            review,
            config.console,
            reload=lambda: reload(gateway, path),
            on_reject=gateway.delivery.tell_rejection,
        )
        runner = await start_console(console, config.console.host, config.console.port)
        log.info("review console on http://%s:%d/", config.console.host, config.console.port)
    where = (
        f"upstream {config.upstream.host}:{config.upstream.port}"
        if config.upstream
        else f"the local outbox {config.outbox.path}/ (no upstream configured)"
    )
    log.info(
        "dlp-gateway listening on %s:%d, delivering to %s, quarantine %s",
        config.listen.host,
        gateway.port,
        where,
        config.quarantine.path,
    )
    await stop.wait()
    log.info("shutting down")
    for task in background:
        task.cancel()
    for r in ([runner] if runner is not None else []) + runners:
        await r.cleanup()
    await gateway.stop()
    await store.close()
    pid.unlink(missing_ok=True)
