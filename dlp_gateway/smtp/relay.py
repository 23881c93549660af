"""Where delivered mail goes: the upstream MTA, or a local outbox when no upstream is configured.

All third-party SMTP client errors are converted to RelayError here, in one place, with
`temporary` telling the gateway whether to answer 4xx (retry later) or 5xx.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiosmtplib

from dlp_gateway.config.schema import Config, Upstream
from dlp_gateway.errors import RelayError
from dlp_gateway.observe import metrics
from dlp_gateway.ports import Refusal, Refused, Relay
from dlp_gateway.smtp import fast_data  # noqa: F401 - installs itself in aiosmtplib (a sixth of our CPU)

log = logging.getLogger(__name__)


async def observed(send: Awaitable[Refused]) -> Refused:
    """Count and time a delivery: dlp_relay_total{result} and dlp_relay_duration_seconds."""
    started = time.perf_counter()
    try:
        refused = await send
    except RelayError as exc:
        metrics.RELAY.labels("tempfail" if exc.temporary else "permfail").inc()
        raise
    finally:
        metrics.RELAY_SECONDS.observe(time.perf_counter() - started)
    metrics.RELAY.labels("partial" if refused else "delivered").inc()
    return refused


# Kept connections: an upstream closes an idle session after minutes (Postfix: smtpd_timeout 300 s);
# one idle longer than PROBE_AFTER is asked NOOP before it carries a message, one idle longer than
# MAX_IDLE is not used again, and none carries more than MAX_USES messages.
PROBE_AFTER = 2.0
MAX_IDLE = 60.0
MAX_USES = 100


@dataclass
class _Kept:
    client: aiosmtplib.SMTP
    last_used: float
    uses: int


class SmtpRelay:
    """Delivers through the upstream MTA, reusing up to `upstream.pool` idle connections: a new SMTP
    session per message costs a TCP (and TLS) handshake, the banner, EHLO and QUIT."""

    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream
        self._idle: list[_Kept] = []
        self._closed = False

    async def send(self, mail_from: str, rcpt_tos: Sequence[str], data: bytes) -> Refused:
        return await observed(self._send(mail_from, rcpt_tos, data))

    def _client(self) -> aiosmtplib.SMTP:
        up = self.upstream
        return aiosmtplib.SMTP(
            hostname=up.host,
            port=up.port,
            timeout=up.timeout,
            use_tls=up.tls == "implicit",
            # None: STARTTLS when the upstream offers it; True: required; False: never.
            start_tls={"opportunistic": None, "starttls": True}.get(up.tls, False),
            validate_certs=up.verify,
            cert_bundle=up.ca_file,
        )

    async def _kept(self) -> _Kept | None:
        """An idle connection that still answers, or None."""
        while self._idle:
            kept = self._idle.pop()  # the most recently used: the likeliest to be alive
            idle = time.monotonic() - kept.last_used
            if kept.client.is_connected and idle <= MAX_IDLE:
                if idle <= PROBE_AFTER:
                    return kept
                try:
                    await kept.client.noop()
                    return kept
                except (aiosmtplib.SMTPException, OSError, TimeoutError):
                    pass
            await _quit(kept.client)
        return None

    def _keep(self, kept: _Kept) -> bool:
        kept.uses += 1
        kept.last_used = time.monotonic()
        if self._closed or kept.uses >= MAX_USES or len(self._idle) >= self.upstream.pool:
            return False
        self._idle.append(kept)
        return True

    async def _send(self, mail_from: str, rcpt_tos: Sequence[str], data: bytes) -> Refused:
        kept = await self._kept()
        if kept is None:
            kept = _Kept(self._client(), time.monotonic(), 0)
        client = kept.client
        ok = False
        try:
            if not client.is_connected:
                await client.connect()
            # "" is the null reverse-path: aiosmtplib sends it as MAIL FROM:<>.
            refused, _ = await client.sendmail(null_path(mail_from), list(rcpt_tos), data)
            ok = True
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            raise RelayError(
                "upstream refused every recipient",
                temporary=any(400 <= c < 500 for c in codes),
                code=codes[0] if codes else None,
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise RelayError(f"upstream answered {exc.code}", temporary=exc.code < 500, code=exc.code) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise RelayError(f"upstream unreachable: {type(exc).__name__}", temporary=True) from exc
        except ValueError as exc:  # (after OSError: a certificate error is a ValueError too)
            # aiosmtplib refuses an address it cannot put on a command line safely: permanent.
            raise RelayError("address not acceptable to the SMTP client", temporary=False, code=553) from exc
        finally:
            # A session that saw an error is not used again.
            if not (ok and self._keep(kept)):
                await _quit(client)
        # Some recipients accepted, some refused: answering 4xx now would duplicate the mail to the
        # accepted ones, so the caller tells the sender of the refused ones (a DSN) instead.
        return {address: Refusal(r.code, r.message) for address, r in refused.items()}

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for kept in idle:
            await _quit(kept.client)


async def _quit(client: aiosmtplib.SMTP) -> None:
    if client.is_connected:
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            client.close()


def null_path(mail_from: str) -> str:
    """The reverse-path as the SMTP client takes it: aiosmtpd hands a bounce's `<>` over as is."""
    return "" if mail_from.strip() in ("", "<>") else mail_from


_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]")


class OutboxRelay:
    """Writes each delivered message to a directory: the trial sink a newcomer can read."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def send(self, mail_from: str, rcpt_tos: Sequence[str], data: bytes) -> Refused:
        return await observed(self._write(mail_from, rcpt_tos, data))

    async def close(self) -> None:
        """Nothing is kept open."""

    async def _write(self, mail_from: str, rcpt_tos: Sequence[str], data: bytes) -> Refused:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
            name = f"{stamp}-{secrets.token_hex(4)}.eml"
            trace = (
                f"Return-Path: <{_UNSAFE.sub('_', null_path(mail_from))}>\r\n"
                f"X-DLP-Envelope-To: {', '.join(_UNSAFE.sub('_', r) for r in rcpt_tos)}\r\n"
            ).encode()
            tmp = self.path / f".{name}.tmp"
            with tmp.open("wb") as f:
                f.write(trace + data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path / name)
        except OSError as exc:
            raise RelayError(f"outbox not writable: {exc.strerror}", temporary=True) from exc
        return {}


@dataclass
class MemoryRelay:
    """In-memory fake for tests: records deliveries, refuses the recipients in `refuse`, or fails as told."""

    sent: list[tuple[str, tuple[str, ...], bytes]] = field(default_factory=list)
    fail: RelayError | None = None
    refuse: dict[str, Refusal] = field(default_factory=dict)

    async def send(self, mail_from: str, rcpt_tos: Sequence[str], data: bytes) -> Refused:
        if self.fail is not None:
            raise self.fail
        refused = {r: self.refuse[r] for r in rcpt_tos if r in self.refuse}
        if len(refused) == len(rcpt_tos):
            raise RelayError("upstream refused every recipient", temporary=False, code=550)
        self.sent.append((null_path(mail_from), tuple(r for r in rcpt_tos if r not in refused), data))
        return refused

    async def close(self) -> None:
        """Nothing is kept open."""


def relay_for(config: Config) -> Relay:
    return SmtpRelay(config.upstream) if config.upstream else OutboxRelay(config.outbox.path)
