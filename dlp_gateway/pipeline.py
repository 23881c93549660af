"""bytes + envelope → Report. Pure: no sockets, no files, no clock; safe to run in a worker thread."""

from __future__ import annotations

from collections import Counter
from email.utils import getaddresses

from dlp_gateway.config.schema import Config
from dlp_gateway.correlate import correlate
from dlp_gateway.decide import PartyClassifier, decide
from dlp_gateway.detect.detectors import Detectors
from dlp_gateway.extract.dispatch import extract
from dlp_gateway.model import Envelope, Message, Report, Segment, Unscannable
from dlp_gateway.parse.mime import parse_message
from dlp_gateway.registry import EMPTY_REGISTRY, Registry


class Pipeline:
    """Holds what is built once per configuration (party table), so each scan is cheap."""

    def __init__(self, config: Config, registry: Registry = EMPTY_REGISTRY) -> None:
        self.config = config
        self.registry = registry
        self.parties = PartyClassifier(config)
        self.detectors = Detectors(config, registry)

    def scan(self, raw: bytes, envelope: Envelope) -> Report:
        segments, unscannable = self.read(raw)
        findings = self.detectors.segments(segments)
        records = correlate(segments, findings, self.registry)
        decision = decide(envelope, records, unscannable, self.config, self.parties)
        return Report(
            envelope=envelope,
            sender_party=self.parties.classify(envelope.mail_from),
            decision=decision,
            records=tuple(records),
            unscannable=unscannable,
            finding_counts=dict(Counter(f.detector for f in findings)),
        )

    def read(self, raw: bytes) -> tuple[tuple[Segment, ...], tuple[Unscannable, ...]]:
        """parse + extract under the configured limits."""
        limits = self.config.limits
        if len(raw) > limits.max_message_size:
            return (), (Unscannable("message", f"larger than {limits.max_message_size} bytes"),)
        message, problems = parse_message(raw, limits.mime)
        segments, unreadable = extract(message, limits.extract, limits.mime)
        return segments, problems + unreadable


def envelope_from_headers(message: Message) -> Envelope:
    """The envelope `scan` assumes when none is given: From, and To + Cc (+ Bcc if present)."""
    senders = [a for _, a in getaddresses(message.header("From")) if a]
    rcpts = [a for _, a in getaddresses(message.header("To") + message.header("Cc") + message.header("Bcc")) if a]
    return Envelope(senders[0] if senders else "", tuple(dict.fromkeys(rcpts)))
