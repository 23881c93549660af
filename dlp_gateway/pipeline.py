"""bytes + envelope → Report. Pure: no sockets, no files, no clock; safe to run in a worker thread."""

from __future__ import annotations

from collections import Counter
from email.utils import getaddresses

from dlp_gateway.config.schema import Config
from dlp_gateway.correlate import correlate
from dlp_gateway.decide import PartyClassifier, decide
from dlp_gateway.detect import detect_all
from dlp_gateway.extract.text import extract_segments
from dlp_gateway.model import Envelope, Message, Report
from dlp_gateway.parse.mime import parse_message
from dlp_gateway.registry import EMPTY_REGISTRY, Registry


class Pipeline:
    """Holds what is built once per configuration (party table), so each scan is cheap."""

    def __init__(self, config: Config, registry: Registry = EMPTY_REGISTRY) -> None:
        self.config = config
        self.registry = registry
        self.parties = PartyClassifier(config)

    def scan(self, raw: bytes, envelope: Envelope) -> Report:
        message, unscannable = parse_message(raw)
        segments = extract_segments(message)
        findings = detect_all(segments, self.config)
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


def envelope_from_headers(message: Message) -> Envelope:
    """The envelope `scan` assumes when none is given: From, and To + Cc (+ Bcc if present)."""
    senders = [a for _, a in getaddresses(message.header("From")) if a]
    rcpts = [a for _, a in getaddresses(message.header("To") + message.header("Cc") + message.header("Bcc")) if a]
    return Envelope(senders[0] if senders else "", tuple(dict.fromkeys(rcpts)))
