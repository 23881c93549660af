"""Every exception type the gateway raises on purpose, in one place."""

from __future__ import annotations

from dlp_gateway.model import UnscannableKind


class DlpError(Exception):
    """Base class of the gateway's own errors."""


class ConfigError(DlpError):
    """The configuration is invalid. Each problem names the file and the key path."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class RegistryError(DlpError):
    """The customer registry could not be read or built."""


class RelayError(DlpError):
    """Delivery to the upstream failed. `temporary` tells the sender whether to retry."""

    def __init__(self, message: str, *, temporary: bool, code: int | None = None) -> None:
        self.temporary = temporary
        self.code = code
        super().__init__(message)


class StoreError(DlpError):
    """The quarantine store could not durably hold or change a message."""


class NotFoundError(DlpError):
    """A quarantined message with that reference does not exist."""


class ScanTimeoutError(DlpError):
    """The scan ran past its deadline. The SMTP side has already given up on it (on_error), so the
    scan stops rather than keep a worker from the next message."""


class ScanWorkerDiedError(DlpError):
    """The worker process scanning the message died (a crash on hostile input, the OOM killer)."""


class LimitExceededError(DlpError):
    """Reading content stopped at a configured limit; the text is the Unscannable reason.

    `message_wide` limits (total text, total decompressed bytes) end reading of the whole message:
    every further part would only hit them again.
    """

    def __init__(self, reason: str, kind: UnscannableKind, *, message_wide: bool = False) -> None:
        super().__init__(reason)
        self.kind = kind
        self.message_wide = message_wide


class EncryptedError(DlpError):
    """The content is password-protected (PPAP ZIP, Office or PDF with a password)."""
