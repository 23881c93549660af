"""Every exception type the gateway raises on purpose, in one place."""

from __future__ import annotations


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
