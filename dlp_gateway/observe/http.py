"""/metrics, /healthz and /readyz for Prometheus and orchestrators, on their own port.

/healthz: the process answers. /readyz: the configuration is loaded, the quarantine answers, and
the upstream accepts a TCP connection (or the outbox is writable) — each check named in the body.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from dlp_gateway.config.schema import Config
from dlp_gateway.errors import DlpError
from dlp_gateway.held import Query
from dlp_gateway.observe.metrics import REGISTRY
from dlp_gateway.ports import QuarantineStore

CHECK_TIMEOUT = 2.0


async def check_upstream(config: Config) -> str | None:
    """None when deliveries can go out; otherwise what is wrong."""
    if config.upstream is None:
        folder = config.outbox.path
        folder.mkdir(parents=True, exist_ok=True)
        return None if os.access(folder, os.W_OK) else f"outbox {folder} not writable"
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(config.upstream.host, config.upstream.port), CHECK_TIMEOUT
        )
    except (OSError, TimeoutError) as exc:
        return f"upstream {config.upstream.host}:{config.upstream.port} unreachable: {type(exc).__name__}"
    writer.close()
    return None


async def check_store(store: QuarantineStore) -> str | None:
    try:
        await asyncio.wait_for(store.search(Query(limit=1)), CHECK_TIMEOUT)
    except (DlpError, TimeoutError) as exc:
        return f"quarantine: {type(exc).__name__}"
    return None


def health_app(config: Callable[[], Config], store: QuarantineStore) -> web.Application:
    async def metrics(request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(request: web.Request) -> web.Response:
        problems = {"upstream": await check_upstream(config()), "quarantine": await check_store(store)}
        failing = {k: v for k, v in problems.items() if v}
        body = json.dumps({"ready": not failing, "checks": {k: v or "ok" for k, v in problems.items()}})
        return web.Response(text=body, status=503 if failing else 200, content_type="application/json")

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app
