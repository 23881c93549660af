"""bytes + envelope → Report. Pure: no sockets, no files, and no clock but the deadline a scan may be
given; safe to run in a worker thread or process."""

from __future__ import annotations

import dataclasses
import gc
import math
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import getaddresses

from dlp_gateway.act.redact import NotRedactableError, redact
from dlp_gateway.config.schema import Config
from dlp_gateway.correlate import correlate_lines
from dlp_gateway.decide.engine import Facts, decide, verdict_of
from dlp_gateway.decide.parties import PartyClassifier
from dlp_gateway.detect.detectors import Detectors, finding_counts
from dlp_gateway.extract.dispatch import extract
from dlp_gateway.model import (
    Action,
    Decision,
    Envelope,
    Message,
    Record,
    Report,
    Segment,
    Unscannable,
    UnscannableKind,
    ViolationKind,
)
from dlp_gateway.parse.mime import parse_message
from dlp_gateway.registry import EMPTY_REGISTRY, Registry
from dlp_gateway.registry.staff import StaffDirectory


class Pipeline:
    """Holds what is built once per configuration (party table, detectors), so each scan is cheap."""

    def __init__(
        self, config: Config, registry: Registry = EMPTY_REGISTRY, staff: StaffDirectory | None = None
    ) -> None:
        self.config = config
        self.registry = registry
        self.parties = PartyClassifier(config)
        self.detectors = Detectors(config, registry, staff)

    def scan(self, raw: bytes, envelope: Envelope, deadline: float = math.inf) -> Report:
        """The report; past `deadline` (time.monotonic()) reading and detection stop with
        ScanTimeoutError, so a scan the SMTP side has given up on does not keep its worker."""
        message, segments, unscannable = self.read_message(raw, deadline)
        with collector_paused():
            lines = self.detectors.lines(segments, deadline, rows=True)
            records = correlate_lines(segments, lines, self.registry)
        facts = Facts(has_attachment=any(p.location.startswith("attachment") for p in message.parts))
        decision = decide(envelope, records, unscannable, self.config, self.parties, facts)
        redacted = None
        if any(r.action == Action.REDACT for r in decision.recipients):
            redacted, decision = self.redact(raw, decision, records, deadline)
        return Report(
            envelope=envelope,
            sender_party=self.parties.classify(envelope.mail_from),
            decision=decision,
            records=tuple(records),
            unscannable=unscannable,
            finding_counts=finding_counts(lines),
            redacted=redacted,
            message_id=next(iter(message.header("Message-ID")), ""),
            date=next(iter(message.header("Date")), ""),
            auto_submitted=next(iter(message.header("Auto-Submitted")), "no").strip().lower() != "no",
        )

    def records(self, segments: tuple[Segment, ...], deadline: float = math.inf) -> list[Record]:
        with collector_paused():
            return correlate_lines(segments, self.detectors.lines(segments, deadline, rows=True), self.registry)

    def read_message(
        self, raw: bytes, deadline: float = math.inf
    ) -> tuple[Message, tuple[Segment, ...], tuple[Unscannable, ...]]:
        """parse + extract under the configured limits."""
        limits = self.config.limits
        if len(raw) > limits.max_message_size:
            return (
                Message((), "", ()),
                (),
                (Unscannable("message", UnscannableKind.LARGER, f"larger than {limits.max_message_size} bytes"),),
            )
        message, problems = parse_message(raw, limits.mime)
        segments, unreadable = extract(message, limits.extract, limits.mime, deadline)
        return message, segments, problems + unreadable

    def read(self, raw: bytes) -> tuple[tuple[Segment, ...], tuple[Unscannable, ...]]:
        _, segments, unscannable = self.read_message(raw)
        return segments, unscannable

    def redact(
        self, raw: bytes, decision: Decision, records: list[Record], deadline: float = math.inf
    ) -> tuple[bytes | None, Decision]:
        """The redacted copy, proven by a re-scan (under the scan's deadline); or, if that fails,
        the rules' fallback."""
        targets = [r for r in decision.recipients if r.action == Action.REDACT]
        offending = sorted({i for r in targets for v in r.violations for i in v.records})
        try:
            if any(v.kind == ViolationKind.UNSCANNABLE for r in targets for v in r.violations):
                raise NotRedactableError("content that could not be inspected cannot be redacted")
            copy = redact(raw, [records[i] for i in offending])
            _, segments, _ = self.read_message(copy, deadline)
            left = {(r.policy_number, r.name) for r in self.records(segments, deadline)}
            still = [
                i
                for i in offending
                if any(
                    (records[i].policy_number and records[i].policy_number == n)
                    or (records[i].name and records[i].name == m)
                    for n, m in left
                )
            ]
            if still:
                raise NotRedactableError(f"{len(still)} value(s) still readable after redaction")
        except NotRedactableError as exc:
            recipients = tuple(
                dataclasses.replace(r, action=r.fallback) if r.action == Action.REDACT else r
                for r in decision.recipients
            )
            verdict, notes = verdict_of(recipients)
            note = f"redaction impossible ({exc}); the rule's fallback applies"
            return None, dataclasses.replace(
                decision, recipients=recipients, verdict=verdict, notes=(*decision.notes, note, *notes)
            )
        return copy, decision


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector held off while detection and correlation run: they make no
    reference cycles, only millions of findings and records for a large list, which the collector
    walked again and again (0.5 s of a 200,000-row list's 5.5 s, measured in a scan worker). It is
    turned back on after by whoever found it on, so overlapping scans (ThreadScanner) leave it on."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def envelope_from_headers(message: Message) -> Envelope:
    """The envelope `scan` assumes when none is given: From, and To + Cc (+ Bcc if present)."""
    senders = [a for _, a in getaddresses(message.header("From")) if a]
    rcpts = [a for _, a in getaddresses(message.header("To") + message.header("Cc") + message.header("Bcc")) if a]
    return Envelope(senders[0] if senders else "", tuple(dict.fromkeys(rcpts)))
