"""The SMTP adapter: aiosmtpd hands us an envelope and bytes; the delivery service (delivery.py)
does the rest, and we translate its outcome into an SMTP reply. Nothing else."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import ssl
import time
from collections import defaultdict, deque
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword, Session
from aiosmtpd.smtp import Envelope as SmtpEnvelope

from dlp_gateway.config.schema import Config
from dlp_gateway.delivery import DeliveryService, new_ref
from dlp_gateway.model import Envelope
from dlp_gateway.observe import metrics
from dlp_gateway.passwords import Throttle, check_password
from dlp_gateway.pipeline import Pipeline
from dlp_gateway.ports import Clock, QuarantineStore, Relay, utc_now
from dlp_gateway.runtime import Runtime, Runtimes
from dlp_gateway.scanner import Scanner, ThreadScanner
from dlp_gateway.smtp.data_reader import REFUSALS, BlockDataSMTP, Outcome
from dlp_gateway.smtp.relay import null_path

log = logging.getLogger(__name__)


# SMTP smuggling: only CRLF ends a line. A bare CR, a bare LF or a NUL in DATA is how one message
# is made to look like two to a server that reads line endings differently (Postfix's
# smtpd_forbid_bare_newline does the same).


def has_bare_newline_or_nul(raw: bytes) -> bool:
    """A CR not before LF, an LF not after CR, or a NUL (SMTP smuggling). Counted in C: a search
    with look-arounds took 4 % of the gateway's time on 50 KB messages."""
    crlf = raw.count(b"\r\n")
    return raw.count(b"\r") != crlf or raw.count(b"\n") != crlf or b"\x00" in raw


CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def peer_host(session: Session) -> str:
    peer = session.peer
    return str(peer[0]) if isinstance(peer, tuple) and peer else ""


def normalize_newlines(data: bytes) -> bytes:
    return re.sub(rb"\r\n|\r|\n", b"\r\n", data.replace(b"\x00", b""))


class GatewayHandler:
    """Translates SMTP to the delivery service and back; nothing else."""

    def __init__(self, delivery: DeliveryService) -> None:
        self.delivery = delivery
        self.in_flight = 0
        self.sent_by: dict[str, deque[float]] = defaultdict(deque)

    @property
    def runtime(self) -> Runtime:
        return self.delivery.runtimes.current

    def _allowed(self, session: Session) -> bool:
        if session.authenticated:
            return True  # SMTP AUTH over TLS: a branch office or a roaming client
        peer = peer_host(session)
        try:
            address = ipaddress.ip_address(peer.split("%")[0])
        except ValueError:
            return False
        return any(address in net for net in self.runtime.config.smtp.client_networks)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: SmtpEnvelope, address: str, mail_options: list[str]
    ) -> str:
        policy = self.runtime.config.smtp
        if not self._allowed(session):
            return "554 5.7.1 Client not allowed to relay"
        if CONTROL.search(address):
            return "501 5.1.7 Bad sender address syntax"
        window = self.sent_by[peer_host(session)]
        now = time.monotonic()
        while window and window[0] < now - 60:
            window.popleft()
        if len(window) >= policy.max_messages_per_minute:
            return "451 4.7.1 Too many messages from this client, try again later"
        window.append(now)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: SmtpEnvelope, address: str, rcpt_options: list[str]
    ) -> str:
        if not self._allowed(session):
            return "554 5.7.1 Client not allowed to relay"
        if CONTROL.search(address):
            return "501 5.1.3 Bad recipient address syntax"
        if len(envelope.rcpt_tos) >= self.runtime.config.smtp.max_recipients:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: SmtpEnvelope) -> str:
        self.in_flight += 1
        ref = new_ref()
        try:
            with metrics.IN_FLIGHT.track_inprogress():
                return await self._handle(envelope, ref)
        except Exception:  # noqa: BLE001 - the last resort: the client retries, nothing is lost
            return unexpected(ref)
        finally:
            self.in_flight -= 1

    async def _handle(self, envelope: SmtpEnvelope, ref: str) -> str:
        raw = envelope.original_content or b""
        if has_bare_newline_or_nul(raw):
            if self.runtime.config.smtp.bare_newlines != "normalize":  # anything but an explicit opt-in refuses
                metrics.REPLIES.labels("550").inc()
                log.warning("refused bare CR/LF/NUL in DATA ref=%s", ref)
                return f"550 5.5.2 Bare CR, LF or NUL in message refused (ref {ref})"
            raw = normalize_newlines(raw)
        # A bounce's null reverse-path arrives as "<>": it is relayed as MAIL FROM:<> ("").
        env = Envelope(null_path(envelope.mail_from or ""), tuple(envelope.rcpt_tos))
        outcome = await self.delivery.receive(raw, env, ref)
        return outcome.reply

    async def handle_exception(self, error: Exception) -> str:
        """aiosmtpd's hook for an exception outside DATA: 451 with a reference, never its text."""
        return unexpected(new_ref(), error)


def unexpected(ref: str, error: BaseException | None = None) -> str:
    """Log the traceback under `ref`; the client gets a temporary failure and retries."""
    metrics.UNEXPECTED.inc()
    metrics.REPLIES.labels("451").inc()
    log.error("unexpected error ref=%s", ref, exc_info=error or True)
    return f"451 4.3.0 Internal error, try again later (ref {ref})"


class Gateway:
    """The listening gateway. `port=0` picks a free port (tests); `.port` tells which."""

    def __init__(
        self,
        config: Config,
        scanner: Scanner | Pipeline,
        relay: Relay,
        store: QuarantineStore,
        clock: Clock = utc_now,
    ) -> None:
        if isinstance(scanner, Pipeline):
            scanner = ThreadScanner(scanner)
        self.runtimes = Runtimes(Runtime(config, scanner, relay, store))
        self.delivery = DeliveryService(self.runtimes, clock)
        self.handler = GatewayHandler(self.delivery)
        self.auth_throttle = Throttle()
        self.server: asyncio.Server | None = None
        self.sessions: set[SMTP] = set()
        self._closing: set[asyncio.Task[None]] = set()  # old relays letting go of their connections
        self.tls_context: ssl.SSLContext | None = None
        if config.tls is not None:
            self.tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.tls_context.minimum_version = ssl.TLSVersion.TLSv1_2
            self.tls_context.load_cert_chain(config.tls.cert, config.tls.key)

    @property
    def config(self) -> Config:
        return self.runtimes.current.config

    def reload(self, runtime: Runtime) -> None:
        """Swap in a new configuration, registry and relay at once (messages in flight keep theirs)."""
        if (runtime.config.listen, runtime.config.quarantine.path) != (self.config.listen, self.config.quarantine.path):
            log.warning("listen address and quarantine path changes take effect only after a restart")
        old = self.runtimes.swap(runtime)
        if old.scanner is not runtime.scanner:
            old.scanner.close()  # its scans in flight still finish
        if old.relay is not runtime.relay:
            # Its kept upstream connections are closed (QUIT); deliveries in flight finish on theirs.
            task = asyncio.get_running_loop().create_task(old.relay.close())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    def _protocol(self) -> SMTP:
        tls = self.config.tls
        return LimitedSMTP(
            self,
            self.handler,
            data_size_limit=self.config.limits.max_message_size,
            hostname="dlp-gateway",
            ident="dlp-gateway ESMTP",
            tls_context=self.tls_context,
            require_starttls=bool(tls and tls.require),
            authenticator=self._authenticate if self.config.smtp.auth_users else None,
            auth_require_tls=True,
        )

    def _authenticate(
        self, server: SMTP, session: Session, envelope: SmtpEnvelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        """AUTH PLAIN/LOGIN against `smtp.auth_users` (Argon2 hashes); aiosmtpd offers it only over TLS.
        The same check as the console's sign-in: an unknown user costs a verification too, and
        failures are throttled per client address and per user name."""
        peer = peer_host(session)
        if isinstance(auth_data, LoginPassword):
            name = auth_data.login.decode("utf-8", "replace")
            if self.auth_throttle.blocked(peer, name):
                log.warning("SMTP AUTH throttled from %s", peer)
                return AuthResult(success=False, handled=False)
            stored = self.config.smtp.auth_users.get(name)
            if check_password(stored, auth_data.password.decode("utf-8", "replace")):
                self.auth_throttle.clear(peer, name)
                return AuthResult(success=True, auth_data=name)
            self.auth_throttle.fail(peer, name)
        log.warning("SMTP AUTH failed from %s", peer)
        return AuthResult(success=False, handled=False)

    async def start(self, host: str | None = None, port: int | None = None) -> None:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            self._protocol, host or self.config.listen.host, self.config.listen.port if port is None else port
        )

    async def stop(self, timeout: float | None = None) -> None:
        """Stop accepting; give messages in flight up to `timeout` seconds to finish."""
        if self.server is None:
            return
        self.server.close()
        deadline = time.monotonic() + (self.config.smtp.shutdown_timeout if timeout is None else timeout)
        while self.handler.in_flight and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self.handler.in_flight:
            log.warning(
                "shutdown: %d message(s) still in flight were cut off (clients will retry)", self.handler.in_flight
            )
        for protocol in list(self.sessions):
            if protocol.transport is not None:
                protocol.transport.close()
        await self.server.wait_closed()
        self.runtimes.current.scanner.close()
        await self.runtimes.current.relay.close()


class LimitedSMTP(BlockDataSMTP):
    """aiosmtpd's SMTP with a cap on concurrent sessions (421 beyond it), DATA read in blocks."""

    def __init__(self, gateway: Gateway, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gateway = gateway

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if len(self.gateway.sessions) >= self.gateway.config.smtp.max_sessions:
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(b"421 4.3.2 Too many connections, try again later\r\n")
            transport.close()
            return
        self.gateway.sessions.add(self)
        metrics.SESSIONS.set(len(self.gateway.sessions))
        super().connection_made(transport)

    def data_refused(self, outcome: Outcome) -> None:
        """A message refused at DATA never reaches the delivery service: counted with the other
        replies after DATA and logged here (its size limit or line length, the client's address)."""
        code = REFUSALS[outcome][:3]
        metrics.REPLIES.labels(code).inc()
        limit = self.data_size_limit if outcome is Outcome.TOO_MUCH else self.line_length_limit
        peer = peer_host(self.session) if self.session is not None else ""
        log.warning("refused at DATA: %s (limit %s bytes) code=%s peer=%s", outcome.value, limit, code, peer)

    def connection_lost(self, error: Exception | None) -> None:
        self.gateway.sessions.discard(self)
        metrics.SESSIONS.set(len(self.gateway.sessions))
        super().connection_lost(error)

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """aiosmtpd's parse of a MAIL FROM or RCPT TO argument, remembered per argument: it defines a
        typing.Protocol class and runs the email package's header parser on every call, a fifth of
        the gateway process's CPU on text mail, and an agency mails the same few hundred addresses
        all day. A pure function of the argument and the local-part limit (tests/test_smtp_addresses.py)."""
        key = (arg, self.local_part_limit)
        parsed = _PARSED_ADDRESSES.get(key)
        if parsed is None:
            parsed = super()._getaddr(arg)
            if len(_PARSED_ADDRESSES) >= MAX_PARSED_ADDRESSES:
                _PARSED_ADDRESSES.clear()  # (memory stays flat whatever clients send)
            _PARSED_ADDRESSES[key] = parsed
        return parsed


MAX_PARSED_ADDRESSES = 4096
_PARSED_ADDRESSES: dict[tuple[str, int], tuple[str | None, str | None]] = {}
