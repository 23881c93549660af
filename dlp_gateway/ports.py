"""The boundaries: the upstream relay, the quarantine store and the clock. Stages and adapters
import these Protocols (never smtp/ or a concrete store); each has an in-memory fake for tests
(MemoryRelay in smtp/relay.py, MemoryStore in quarantine/store.py, a settable callable for the clock).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple, Protocol
from zoneinfo import ZoneInfo

from dlp_gateway.held import Activity, AuditEntry, HeldMessage, HeldStatus, Page, Query, User

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


TOKYO = ZoneInfo("Asia/Tokyo")  # people read times in Japan time; the store keeps UTC


def iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="seconds")


class Refusal(NamedTuple):
    """The upstream's answer to one recipient it refused while accepting others."""

    code: int
    text: str


Refused = Mapping[str, Refusal]  # recipient address → its refusal


class Relay(Protocol):
    async def send(self, mail_from: str, rcpt_tos: Sequence[str], data: bytes) -> Refused:
        """Return once the upstream accepted the message for at least one recipient, with the
        recipients it refused (none when all were accepted); raise RelayError when it took none.
        `mail_from` "" is the null reverse-path (a bounce), sent as `MAIL FROM:<>`."""

    async def close(self) -> None:
        """Let go of any connections kept open; sends still running finish on their own."""


class QuarantineStore(Protocol):
    async def put(self, item: HeldMessage) -> None:
        """Return only once the message is durably stored; raise StoreError otherwise."""

    async def get(self, ref: str) -> HeldMessage: ...

    async def search(self, query: Query) -> Page:
        """Oldest first."""

    async def decide(
        self,
        ref: str,
        status: HeldStatus,
        reviewer: str,
        reason: str,
        at: str,
        audit: AuditEntry | None = None,
        expected: HeldStatus = HeldStatus.HELD,
    ) -> HeldMessage:
        """Move a message from `expected` to `status` (with its audit entry, atomically); StoreError if it
        is no longer in `expected` — which is how two reviewers, or two instances, never both act."""

    async def append_audit(self, entry: AuditEntry) -> None: ...

    async def audit(
        self, ref: str | None = None, since: str | None = None, until: str | None = None, limit: int = 10000
    ) -> list[AuditEntry]:
        """Oldest first."""

    async def expire_and_purge(self, before: str, at: str) -> tuple[int, int]:
        """Retention: held messages received before `before` expire; content before it is purged.
        Returns (expired, purged); the audit keeps a record of both."""

    async def recent(self, since: str) -> list[HeldMessage]:
        """Messages received since `since` without their content, for reports."""

    async def activity(self, since: str) -> list[Activity]:
        """What the dashboard counts of each message received since `since`, oldest first."""

    async def put_user(self, user: User) -> None: ...

    async def get_user(self, name: str) -> User | None: ...

    async def users(self) -> list[User]: ...

    async def close(self) -> None: ...
