"""The SMTP adapter: aiosmtpd hands us an envelope and bytes; we run the pipeline off the event
loop, carry out the verdict and translate the outcome into an SMTP reply. Nothing else."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import Any

from aiosmtpd.smtp import SMTP, Session
from aiosmtpd.smtp import Envelope as SmtpEnvelope

from dlp_gateway.act.execute import Plan, carry_out
from dlp_gateway.config.schema import Config
from dlp_gateway.model import Action, Envelope, Report
from dlp_gateway.observe.logging import message_line
from dlp_gateway.pipeline import Pipeline
from dlp_gateway.quarantine.store import QuarantineStore
from dlp_gateway.report import report_json
from dlp_gateway.smtp.relay import Relay

log = logging.getLogger(__name__)


def new_ref() -> str:
    return secrets.token_hex(6)


def plan_for(report: Report, ref: str) -> Plan:
    d = report.decision
    return Plan(
        d.verdict,
        ref,
        d.rules,
        tuple(d.recipients_with(Action.STRIP)),
        summary=report_json(report, ref=ref, masked=True),
    )


class GatewayHandler:
    def __init__(self, config: Config, pipeline: Pipeline, relay: Relay, store: QuarantineStore) -> None:
        self.config = config
        self.pipeline = pipeline
        self.relay = relay
        self.store = store

    async def handle_DATA(self, server: SMTP, session: Session, envelope: SmtpEnvelope) -> str:
        started = time.perf_counter()
        ref = new_ref()
        raw = envelope.original_content or b""
        env = Envelope(envelope.mail_from or "", tuple(envelope.rcpt_tos))
        fields: dict[str, Any] = {"ref": ref, "size": len(raw), "recipients": len(env.rcpt_tos)}
        try:
            report = await asyncio.wait_for(
                asyncio.get_running_loop().run_in_executor(None, self.pipeline.scan, raw, env),
                timeout=self.config.limits.scan_timeout,
            )
            plan = plan_for(report, ref)
            fields.update(
                records=len(report.records), unscannable=len(report.unscannable), findings=report.finding_counts
            )
        except Exception as exc:  # noqa: BLE001 - any scanner failure must fail closed, never pass
            reason = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
            log.error("scan failed ref=%s reason=%s", ref, reason)
            plan = Plan(
                self.config.on_error,
                ref,
                ("on_error",),
                summary={"reference": ref, "error": f"scan failed: {reason}", "verdict": "error"},
            )
            fields["error"] = reason
        scan_ms = round((time.perf_counter() - started) * 1000, 1)
        outcome = await carry_out(plan, env, raw, self.relay, self.store)
        message_line(
            **fields,
            verdict=plan.verdict.label,
            rules=list(plan.rules),
            reply=outcome.code,
            delivered_to=outcome.delivered_to,
            stripped=outcome.stripped,
            scan_ms=scan_ms,
            total_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return outcome.reply


class Gateway:
    """The listening gateway. `port=0` picks a free port (tests); `.port` tells which."""

    def __init__(self, config: Config, pipeline: Pipeline, relay: Relay, store: QuarantineStore) -> None:
        self.config = config
        self.handler = GatewayHandler(config, pipeline, relay, store)
        self.server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    def _protocol(self) -> SMTP:
        return SMTP(
            self.handler,
            data_size_limit=self.config.limits.max_message_size,
            hostname="dlp-gateway",
            ident="dlp-gateway ESMTP",
        )

    async def start(self, host: str | None = None, port: int | None = None) -> None:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            self._protocol, host or self.config.listen.host, self.config.listen.port if port is None else port
        )

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
