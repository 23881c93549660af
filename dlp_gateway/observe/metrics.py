"""Prometheus metrics. Labels are low-cardinality only — verdicts, actions, party kinds, detectors,
rule names from the configuration — never an address, a name or a value (DESIGN §3)."""

from __future__ import annotations

import collections

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from dlp_gateway.model import Report

REGISTRY = CollectorRegistry()
LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

MESSAGES = Counter("dlp_messages_total", "Messages by verdict", ["verdict"], registry=REGISTRY)
RECIPIENTS = Counter(
    "dlp_recipients_total", "Recipients by action and party kind", ["action", "party"], registry=REGISTRY
)
FINDINGS = Counter("dlp_findings_total", "Detector findings", ["detector"], registry=REGISTRY)
RECORDS = Counter("dlp_records_total", "Customer records by attribution source", ["attribution"], registry=REGISTRY)
VIOLATIONS = Counter("dlp_violations_total", "Violations by kind (per recipient)", ["kind"], registry=REGISTRY)
RULE_HITS = Counter("dlp_rule_hits_total", "Rule matches", ["rule", "simulated"], registry=REGISTRY)
UNSCANNABLE = Counter(
    "dlp_unscannable_total", "Content that could not be inspected, by reason", ["reason"], registry=REGISTRY
)
SCAN_ERRORS = Counter("dlp_scan_errors_total", "Scans that failed and followed on_error", ["reason"], registry=REGISTRY)
REPLIES = Counter("dlp_smtp_replies_total", "SMTP replies to clients after DATA", ["code"], registry=REGISTRY)
RELAY = Counter("dlp_relay_total", "Deliveries to the upstream by result", ["result"], registry=REGISTRY)
NOTICES = Counter("dlp_notices_total", "Notices sent", ["result"], registry=REGISTRY)
DSNS = Counter(
    "dlp_dsn_total", "Delivery status notifications for recipients the upstream refused", ["result"], registry=REGISTRY
)
UNEXPECTED = Counter(
    "dlp_unexpected_errors_total", "Unexpected errors answered 451 (a bug: see the log's traceback)", registry=REGISTRY
)
GATED = Counter(
    "dlp_gated_total",
    "Held (hold) or approval-gated messages by what became of them: waiting, delivered, cancelled, approved, rejected",
    ["gate", "outcome"],
    registry=REGISTRY,
)
SCAN_SECONDS = Histogram("dlp_scan_duration_seconds", "Time to scan a message", buckets=LATENCY, registry=REGISTRY)
MESSAGE_SECONDS = Histogram(
    "dlp_message_duration_seconds", "Time from end of DATA to the reply", buckets=LATENCY, registry=REGISTRY
)
RELAY_SECONDS = Histogram(
    "dlp_relay_duration_seconds", "Time to hand a message to the upstream", buckets=LATENCY, registry=REGISTRY
)
# Capacity: whether the gateway itself is why mail waits (month-end bursts of lists).
SCAN_WAIT_SECONDS = Histogram(
    "dlp_scan_wait_seconds",
    "Time a message waited for a scan worker (all busy, or a list waiting for the workers lists may take)",
    buckets=LATENCY,
    registry=REGISTRY,
)
SCAN_WORKERS = Gauge("dlp_scan_workers", "Scan workers (processes, or 1 for the in-process thread)", registry=REGISTRY)
SCAN_WORKERS_BUSY = Gauge("dlp_scan_workers_busy", "Scan workers scanning now", registry=REGISTRY)
LOOP_LAG_SECONDS = Histogram(
    "dlp_event_loop_lag_seconds",
    "How late the event loop woke a 0.1 s timer: what every SMTP session, the console and /metrics waited",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    registry=REGISTRY,
)
SESSIONS = Gauge("dlp_smtp_sessions", "SMTP client sessions open now", registry=REGISTRY)
IN_FLIGHT = Gauge("dlp_messages_in_flight", "Messages being scanned or delivered", registry=REGISTRY)
QUARANTINE_DEPTH = Gauge("dlp_quarantine_held", "Messages awaiting review", registry=REGISTRY)
QUARANTINE_OLDEST = Gauge(
    "dlp_quarantine_oldest_held_age_seconds", "Age of the oldest message awaiting review", registry=REGISTRY
)
RELOADS = Counter("dlp_config_reloads_total", "Configuration reloads", ["result"], registry=REGISTRY)
RELOAD_FAILED = Gauge("dlp_config_last_reload_failed", "1 if the last reload was refused", registry=REGISTRY)
CONFIG_LOADED = Gauge(
    "dlp_config_loaded_timestamp_seconds", "When the configuration in force was loaded", registry=REGISTRY
)
REGISTRY_ROWS = Gauge("dlp_registry_rows", "Contracts in the customer registry", registry=REGISTRY)
REGISTRY_BUILT = Gauge(
    "dlp_registry_built_timestamp_seconds", "When the registry in force was built", registry=REGISTRY
)


def observe_report(report: Report) -> None:
    d = report.decision
    MESSAGES.labels(d.verdict.label).inc()
    for r in d.recipients:
        RECIPIENTS.labels(r.action.label, r.party.kind).inc()
        for v in r.violations:
            VIOLATIONS.labels(v.kind).inc()
    for m in d.matches:
        RULE_HITS.labels(m.rule, str(m.simulated).lower()).inc(len(m.recipients))
    for detector, n in report.finding_counts.items():
        FINDINGS.labels(detector).inc(n)
    # Counted first: a 100,000-row list is a handful of label lookups on the event loop, not 100,000.
    for attribution, n in collections.Counter(rec.attribution for rec in report.records).items():
        RECORDS.labels(attribution).inc(n)
    for u in report.unscannable:
        UNSCANNABLE.labels(u.kind).inc()
