"""The runtime: what every part of the running gateway works with, swapped whole on reload.

The SMTP adapter, the delivery service, releases from the console, API and CLI, the gate scheduler
and retention all read `Runtimes.current` when they start a piece of work and keep that one object
until it is done — so a message in flight finishes on the runtime it started with, and nothing keeps
a copy taken at start (a release after a reload goes to the new upstream).
"""

from __future__ import annotations

from dataclasses import dataclass

from dlp_gateway.config.schema import Config
from dlp_gateway.ports import QuarantineStore, Relay
from dlp_gateway.scanner import Scanner


@dataclass(frozen=True)
class Runtime:
    config: Config
    scanner: Scanner
    relay: Relay
    store: QuarantineStore  # the same store across reloads: its path or DSN changes need a restart


class Runtimes:
    """The holder of the runtime in force. `swap` is one assignment: atomic for the event loop."""

    def __init__(self, runtime: Runtime) -> None:
        self.current = runtime

    def swap(self, runtime: Runtime) -> Runtime:
        """Put `runtime` in force; returns the old one for its owner to close."""
        old, self.current = self.current, runtime
        return old
