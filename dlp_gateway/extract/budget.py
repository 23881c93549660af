"""Limits on what one message may cost to read. Extractors call `check()` between rows, pages
and members, so a hostile part ends as Unscannable within its time budget instead of hanging."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from dlp_gateway.errors import LimitExceededError, ScanTimeoutError
from dlp_gateway.model import UnscannableKind


@dataclass(frozen=True)
class ExtractLimits:
    max_text_chars: int = 20_000_000  # all text extracted from one message
    max_archive_depth: int = 3  # zip in zip in zip
    max_archive_members: int = 1000  # per archive
    max_decompressed_bytes: int = 200 * 1024 * 1024  # all archive members of one message together
    max_compression_ratio: int = 200  # per member: uncompressed / compressed
    part_time_budget: float = 20.0  # seconds to read one part


class Budget:
    def __init__(self, limits: ExtractLimits, scan_deadline: float = math.inf) -> None:
        self.limits = limits
        self.text_chars = 0
        self.decompressed = 0
        self.scan_deadline = scan_deadline  # time.monotonic() by which the whole scan must be done
        self.deadline = scan_deadline

    def start_part(self) -> None:
        self.deadline = min(time.monotonic() + self.limits.part_time_budget, self.scan_deadline)

    def check(self) -> None:
        now = time.monotonic()
        if now > self.deadline:
            if now > self.scan_deadline:
                raise ScanTimeoutError("the scan ran past its deadline")
            raise LimitExceededError(
                f"took longer than {self.limits.part_time_budget:g} s to read", UnscannableKind.TOOK_LONGER
            )

    def add_text(self, n: int) -> None:
        self.text_chars += n
        if self.text_chars > self.limits.max_text_chars:
            raise LimitExceededError(
                f"more than {self.limits.max_text_chars} characters of text in the message",
                UnscannableKind.MORE_THAN,
                message_wide=True,
            )

    def add_bytes(self, n: int) -> None:
        self.decompressed += n
        if self.decompressed > self.limits.max_decompressed_bytes:
            raise LimitExceededError(
                f"archives expand to more than {self.limits.max_decompressed_bytes} bytes",
                UnscannableKind.EXPAND,
                message_wide=True,
            )
