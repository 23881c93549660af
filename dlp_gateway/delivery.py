"""The delivery service: one message's life — scan, plan, carry out, tell, log, answer.

Everything that sends a message goes through here: the SMTP adapter (a live message), and releases
from the console, its JSON API, the CLI and the gate scheduler (a held one). A held message is
released through the same per-recipient plan as a live one: a "without the violating recipients"
release withholds every recipient with a violation and every recipient outside the organisation
whose content was not inspected (scan failed, unscannable content). Only a reviewer's explicit full
release, with a reason, in the audit log, sends a message as it is.

Every delivery reports the recipients its upstream refused after accepting others, and the sender is
told by a delivery status notification (act/dsn.py): the gateway has already answered 250.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from dlp_gateway.act.dsn import dsn_for
from dlp_gateway.act.execute import Outcome, Plan, carry_out
from dlp_gateway.act.gate import new_token
from dlp_gateway.act.gate_notify import gate_notices, rejection_notice
from dlp_gateway.act.notify import Notice, notices_for
from dlp_gateway.act.rewrite import remove_recipients
from dlp_gateway.config.schema import Config
from dlp_gateway.decide.parties import PartyClassifier
from dlp_gateway.errors import DlpError, RelayError, ScanTimeoutError, StoreError
from dlp_gateway.held import AuditEntry, HeldMessage, HeldStatus, HeldSummary
from dlp_gateway.model import Action, Envelope, PartyKind, Report
from dlp_gateway.observe import metrics
from dlp_gateway.observe.logging import message_line
from dlp_gateway.ports import Clock, Refused, iso, utc_now
from dlp_gateway.report import summary_of
from dlp_gateway.runtime import Runtime, Runtimes

log = logging.getLogger(__name__)
NOTICE_TIMEOUT = 30.0


def new_ref() -> str:
    return secrets.token_hex(6)


def plan_for(report: Report, ref: str, config: Config) -> Plan:
    d = report.decision
    approver = config.approver_for(report.envelope.mail_from) if d.gate == Action.APPROVE else None
    return Plan(
        d.verdict,
        ref,
        d.rules,
        tuple(d.recipients_with(Action.STRIP)),
        tuple(d.recipients_with(Action.REDACT)),
        report.redacted,
        summary=summary_of(report, ref, config.limits.summary_records),
        simulated=d.simulated_verdict,
        gate=d.gate,
        hold_minutes=d.hold_minutes,
        approver=approver,
        token=new_token() if d.gate else "",
    )


@dataclass(frozen=True)
class ReleasePlan:
    """Who a held message goes to, and who it is withheld from and why (violation, uninspected)."""

    deliver_to: tuple[str, ...]
    withheld: tuple[tuple[str, str], ...] = ()


def release_plan(item: HeldMessage, strip: bool, parties: PartyClassifier) -> ReleasePlan:
    """The per-recipient plan for releasing `item`. Pure: the summary and the party table decide."""
    if not strip:
        return ReleasePlan(item.rcpt_tos)
    summary = item.summary
    violating = summary.violating()
    inspected = {r.address.lower() for r in summary.recipients} if summary.inspected else set()
    deliver: list[str] = []
    withheld: list[tuple[str, str]] = []
    for address in item.rcpt_tos:
        if address.lower() in violating:
            withheld.append((address, "violation"))
        elif parties.classify(address).kind == PartyKind.INTERNAL or address.lower() in inspected:
            deliver.append(address)
        else:  # the content was never read for this recipient: fail closed
            withheld.append((address, "uninspected"))
    return ReleasePlan(tuple(deliver), tuple(withheld))


class DeliveryService:
    def __init__(self, runtimes: Runtimes, clock: Clock = utc_now) -> None:
        self.runtimes = runtimes
        self.clock = clock

    # --- a live message ----------------------------------------------------------------------

    async def receive(self, raw: bytes, envelope: Envelope, ref: str) -> Outcome:
        """Scan, plan and carry out one message; the outcome is the SMTP reply. What follows the
        delivery (notices, the log line) can fail without changing a reply the mail depends on."""
        rt = self.runtimes.current  # in-flight messages finish under the runtime they started with
        started = time.perf_counter()
        fields: dict[str, Any] = {"ref": ref, "size": len(raw), "recipients": len(envelope.rcpt_tos)}
        report = None
        try:
            timeout = rt.config.limits.scan_timeout
            report = await asyncio.wait_for(rt.scanner.scan(raw, envelope, time.monotonic() + timeout), timeout)
            plan = plan_for(report, ref, rt.config)
            metrics.observe_report(report)
            fields.update(
                records=len(report.records), unscannable=len(report.unscannable), findings=report.finding_counts
            )
            if report.decision.simulated_verdict:
                fields["simulated_verdict"] = report.decision.simulated_verdict.label
        except Exception as exc:  # noqa: BLE001 - any scanner failure must fail closed, never pass
            timed_out = isinstance(exc, (TimeoutError, ScanTimeoutError))  # the worker may stop first
            reason = "timeout" if timed_out else type(exc).__name__
            log.error("scan failed ref=%s reason=%s", ref, reason)
            plan = Plan(rt.config.on_error, ref, ("on_error",), summary=HeldSummary.failed(ref, reason))
            fields["error"] = reason
            metrics.SCAN_ERRORS.labels(reason).inc()
            metrics.MESSAGES.labels(plan.verdict.label).inc()
        scan_seconds = time.perf_counter() - started
        metrics.SCAN_SECONDS.observe(scan_seconds)
        outcome = await carry_out(plan, envelope, raw, rt.relay, rt.store, self.clock())
        try:
            fields["notices"] = await self._after(rt, report, plan, envelope, outcome)
        except Exception:
            log.exception("notices failed after delivery ref=%s", ref)
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
            refused=len(outcome.refused),
            held=outcome.held,
            scan_ms=round(scan_seconds * 1000, 1),
            total_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return outcome

    async def _after(self, rt: Runtime, report: Report | None, plan: Plan, envelope: Envelope, outcome: Outcome) -> int:
        """The DSN for refused recipients, the sender's and compliance's notices, the gate's links."""
        sent = await self.tell_refused(rt, envelope.mail_from, outcome.refused, plan.ref, report)
        notices = rt.config.notices
        if report is not None and notices is not None and outcome.code in (250, 550):
            found = notices_for(report, plan.ref, notices, report.auto_submitted)
            sent += await self.send_notices(rt, plan.ref, found)
        if outcome.gated:
            metrics.GATED.labels(outcome.gated, "waiting").inc()
            try:
                links = gate_notices(rt.config, await rt.store.get(plan.ref), plan.token)
                sent += await self.send_notices(rt, plan.ref, links)
            except DlpError as exc:  # the message is safely stored: the reply stays 250
                log.warning("gate notices not sent ref=%s reason=%s", plan.ref, type(exc).__name__)
        return sent

    # --- telling people ----------------------------------------------------------------------

    async def send_notices(self, rt: Runtime, ref: str, notices: list[Notice], sender: str | None = None) -> int:
        """Send side by side (each on its own upstream connection); a failure is logged and counted."""
        if sender is None:
            if rt.config.notices is None:
                return 0
            sender = rt.config.notices.sender

        async def one(notice: Notice) -> int:
            try:
                await asyncio.wait_for(rt.relay.send(sender, [notice.to], notice.data), NOTICE_TIMEOUT)
            except (RelayError, TimeoutError) as exc:
                metrics.NOTICES.labels("failed").inc()
                log.warning("notice not sent ref=%s reason=%s", ref, type(exc).__name__)
                return 0
            metrics.NOTICES.labels("sent").inc()
            return 1

        return sum(await asyncio.gather(*(one(n) for n in notices)))

    async def tell_refused(
        self, rt: Runtime, mail_from: str, refused: Refused, ref: str, report: Report | None = None
    ) -> int:
        """A DSN to the sender for each delivery the upstream refused some recipients of."""
        if not refused:
            return 0
        log.warning("upstream refused %d recipient(s) after accepting others ref=%s", len(refused), ref)
        message_id = report.message_id if report is not None else ""
        dsn = dsn_for(mail_from, refused, ref, message_id, self.postmaster(rt.config), self.clock())
        if dsn is None:
            return 0
        sent = await self.send_notices(rt, ref, [dsn], sender="")  # a DSN goes out as a bounce: MAIL FROM:<>
        metrics.DSNS.labels("sent" if sent else "failed").inc()
        return sent

    @staticmethod
    def postmaster(config: Config) -> str:
        if config.notices is not None:
            return config.notices.sender
        domains = config.organization.internal_domains
        return f"postmaster@{domains[0]}" if domains else "postmaster@localhost"

    async def tell_rejection(self, item: HeldMessage, reason: str) -> None:
        """The approver (or a reviewer) said no: the sender is told; a failure is logged."""
        rt = self.runtimes.current
        notice = rejection_notice(rt.config, item, reason)
        if notice is not None:
            await self.send_notices(rt, item.ref, [notice])

    # --- a held message ----------------------------------------------------------------------

    async def release(
        self, ref: str, actor: str, reason: str = "", strip: bool = False, action: str = ""
    ) -> HeldMessage:
        """Deliver a held message through its per-recipient plan. The message is claimed first
        (held → releasing), so two reviewers or two instances never both deliver it; a failed
        delivery puts it back. `action` names the audit entry of a gate opening."""
        rt = self.runtimes.current
        store = rt.store
        item = await store.get(ref)
        if item.status != HeldStatus.HELD:
            raise StoreError(f"{ref} is already {item.status}")  # (the claim below checks again, atomically)
        if not item.raw:
            raise StoreError(f"{ref}: the content was purged by retention")
        parties = PartyClassifier(rt.config)  # today's party table: a domain moved to an insurer counts
        stripped = release_plan(item, True, parties)
        plan = stripped if strip else release_plan(item, False, parties)
        if not plan.deliver_to:
            raise DlpError(f"{ref}: every recipient is withheld (violation or uninspected); nothing to release")
        if not strip and stripped.withheld and not action and not reason.strip():
            raise DlpError(f"{ref}: releasing to every recipient overrides the policy: a reason is required")
        data = remove_recipients(item.raw, {a for a, _ in plan.withheld}) if plan.withheld else item.raw
        action = action or ("release_stripped" if strip else "release")
        now = iso(self.clock())
        await store.decide(ref, HeldStatus.RELEASING, actor, reason, now)  # the claim
        try:
            refused = await rt.relay.send(item.mail_from, plan.deliver_to, data)
        except RelayError:
            await store.decide(ref, HeldStatus.HELD, actor, "", iso(self.clock()), expected=HeldStatus.RELEASING)
            raise
        details = {
            "recipients": len(plan.deliver_to) - len(refused),
            "withheld": len(plan.withheld),
            "uninspected": sum(1 for _, why in plan.withheld if why == "uninspected"),
            "refused": len(refused),
        }
        done = await store.decide(
            ref,
            HeldStatus.RELEASED,
            actor,
            reason or action.replace("_", " "),
            iso(self.clock()),
            AuditEntry(iso(self.clock()), actor, action, ref, reason, details),
            expected=HeldStatus.RELEASING,
        )
        try:
            await self.tell_refused(rt, item.mail_from, refused, ref)
        except Exception:
            log.exception("DSN failed after release ref=%s", ref)
        return done
