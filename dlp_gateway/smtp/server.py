"""The SMTP adapter: aiosmtpd hands us an envelope and bytes; we run the pipeline off the event
loop, carry out the verdict and translate the outcome into an SMTP reply. Nothing else."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from aiosmtpd.smtp import SMTP, Session
from aiosmtpd.smtp import Envelope as SmtpEnvelope

from dlp_gateway.act.execute import Outcome, Plan, carry_out
from dlp_gateway.act.notify import notices_for
from dlp_gateway.config.schema import Config
from dlp_gateway.errors import RelayError
from dlp_gateway.model import Action, Envelope, Report
from dlp_gateway.observe import metrics
from dlp_gateway.observe.logging import message_line
from dlp_gateway.pipeline import Pipeline
from dlp_gateway.quarantine.store import QuarantineStore
from dlp_gateway.report import report_json
from dlp_gateway.smtp.relay import Relay

log = logging.getLogger(__name__)
NOTICE_TIMEOUT = 30.0


def new_ref() -> str:
    return secrets.token_hex(6)


@dataclass(frozen=True)
class Runtime:
    """What a message is handled with. Replaced whole on reload; a message keeps the one it began with."""

    config: Config
    pipeline: Pipeline
    relay: Relay


def plan_for(report: Report, ref: str) -> Plan:
    d = report.decision
    return Plan(
        d.verdict,
        ref,
        d.rules,
        tuple(d.recipients_with(Action.STRIP)),
        tuple(d.recipients_with(Action.REDACT)),
        report.redacted,
        summary=report_json(report, ref=ref, masked=True),
        simulated=d.simulated_verdict,
    )


class GatewayHandler:
    def __init__(self, runtime: Runtime, store: QuarantineStore) -> None:
        self.runtime = runtime
        self.store = store

    async def handle_DATA(self, server: SMTP, session: Session, envelope: SmtpEnvelope) -> str:
        rt = self.runtime  # in-flight messages finish under the configuration they started with
        with metrics.IN_FLIGHT.track_inprogress():
            return await self._handle(rt, envelope)

    async def _handle(self, rt: Runtime, envelope: SmtpEnvelope) -> str:
        started = time.perf_counter()
        ref = new_ref()
        raw = envelope.original_content or b""
        env = Envelope(envelope.mail_from or "", tuple(envelope.rcpt_tos))
        fields: dict[str, Any] = {"ref": ref, "size": len(raw), "recipients": len(env.rcpt_tos)}
        report = None
        try:
            report = await asyncio.wait_for(
                asyncio.get_running_loop().run_in_executor(None, rt.pipeline.scan, raw, env),
                timeout=rt.config.limits.scan_timeout,
            )
            plan = plan_for(report, ref)
            metrics.observe_report(report)
            fields.update(
                records=len(report.records), unscannable=len(report.unscannable), findings=report.finding_counts
            )
            if report.decision.simulated_verdict:
                fields["simulated_verdict"] = report.decision.simulated_verdict.label
        except Exception as exc:  # noqa: BLE001 - any scanner failure must fail closed, never pass
            reason = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
            log.error("scan failed ref=%s reason=%s", ref, reason)
            plan = Plan(
                rt.config.on_error,
                ref,
                ("on_error",),
                summary={"reference": ref, "error": f"scan failed: {reason}", "verdict": "error"},
            )
            fields["error"] = reason
            metrics.SCAN_ERRORS.labels(reason).inc()
            metrics.MESSAGES.labels(plan.verdict.label).inc()
        scan_seconds = time.perf_counter() - started
        metrics.SCAN_SECONDS.observe(scan_seconds)
        scan_ms = round(scan_seconds * 1000, 1)
        outcome = await carry_out(plan, env, raw, rt.relay, self.store)
        if report is not None and outcome.code in (250, 550):
            fields["notices"] = await self.notify(rt, report, ref, outcome)
        metrics.REPLIES.labels(str(outcome.code)).inc()
        metrics.MESSAGE_SECONDS.observe(time.perf_counter() - started)
        message_line(
            **fields,
            verdict=plan.verdict.label,
            rules=list(plan.rules),
            reply=outcome.code,
            delivered_to=outcome.delivered_to,
            stripped=outcome.stripped,
            redacted=outcome.redacted,
            held=outcome.held,
            scan_ms=scan_ms,
            total_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return outcome.reply

    async def notify(self, rt: Runtime, report: Report, ref: str, outcome: Outcome) -> int:
        """Send the notices; a failure is logged and never changes the reply (the mail is safe)."""
        notices = rt.config.notices
        if notices is None:
            return 0
        sent = 0
        for notice in notices_for(report, ref, notices, report.auto_submitted):
            try:
                await asyncio.wait_for(rt.relay.send(notices.sender, [notice.to], notice.data), NOTICE_TIMEOUT)
                sent += 1
                metrics.NOTICES.labels("sent").inc()
            except (RelayError, TimeoutError) as exc:
                metrics.NOTICES.labels("failed").inc()
                log.warning("notice not sent ref=%s reason=%s", ref, type(exc).__name__)
        return sent


class Gateway:
    """The listening gateway. `port=0` picks a free port (tests); `.port` tells which."""

    def __init__(self, config: Config, pipeline: Pipeline, relay: Relay, store: QuarantineStore) -> None:
        self.handler = GatewayHandler(Runtime(config, pipeline, relay), store)
        self.server: asyncio.Server | None = None

    @property
    def config(self) -> Config:
        return self.handler.runtime.config

    def reload(self, runtime: Runtime) -> None:
        """Swap in a new configuration, registry and relay at once (messages in flight keep theirs)."""
        if (runtime.config.listen, runtime.config.quarantine_path) != (self.config.listen, self.config.quarantine_path):
            log.warning("listen address and quarantine path changes take effect only after a restart")
        self.handler.runtime = runtime

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
