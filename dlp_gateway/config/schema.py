"""The typed, frozen shape of the configuration. Validation lives in load.py."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

import regex

from dlp_gateway.addresses import domain_of, in_domain
from dlp_gateway.extract.budget import ExtractLimits
from dlp_gateway.model import Action, ViolationKind
from dlp_gateway.parse.mime import MimeLimits

VIOLATION_KINDS = tuple(ViolationKind)


@dataclass(frozen=True)
class Listen:
    host: str = "127.0.0.1"
    port: int = 10025


@dataclass(frozen=True)
class SmtpPolicy:
    """Who may relay and how much: the answers an open relay or a flood gets."""

    client_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    max_recipients: int = 100
    max_sessions: int = 200
    max_messages_per_minute: int = 600  # per client address
    bare_newlines: str = "reject"  # reject | normalize: bare CR, bare LF or NUL in DATA (SMTP smuggling)
    shutdown_timeout: float = 30.0  # seconds in-flight messages get on SIGTERM
    # SMTP AUTH (only offered after STARTTLS): user name → Argon2 hash (`dlp-gateway hash-password`).
    # An authenticated client may relay from any address.
    auth_users: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Upstream:
    host: str
    port: int = 25
    timeout: float = 60.0
    tls: str = "opportunistic"  # none | opportunistic (STARTTLS if offered) | starttls (required) | implicit
    verify: bool = True  # check the upstream's certificate and host name
    ca_file: str | None = None  # extra CA bundle for an internal CA
    pool: int = 8  # idle connections kept for the next messages (0: a new connection per message)


@dataclass(frozen=True)
class InboundTls:
    """STARTTLS for clients; with `require`, nothing but EHLO/STARTTLS/QUIT before TLS."""

    cert: str
    key: str
    require: bool = False


@dataclass(frozen=True)
class Organization:
    name: str
    internal_domains: tuple[str, ...]
    staff_names: tuple[str, ...] = ()  # never customers: signatures, greetings, CC lists


@dataclass(frozen=True)
class Insurer:
    id: str
    name: str
    aliases: tuple[str, ...]
    domains: tuple[str, ...]
    policy_numbers: tuple[regex.Pattern[str], ...]
    codes: tuple[str, ...] = ()
    check_digit: str | None = None  # a name in detect.checkdigits.CHECK_DIGITS

    @property
    def mentions(self) -> tuple[str, ...]:
        """Every way text may name this insurer."""
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Secondee:
    address: str
    home_insurer: str


@dataclass(frozen=True)
class Approver:
    """Who approves the mail of these senders (addresses, or domains with their subdomains)."""

    senders: tuple[str, ...]
    approver: str


RECORD_KINDS = ("policy_number", "name")


@dataclass(frozen=True)
class Condition:
    """All given fields must hold for a recipient; an empty condition matches every recipient."""

    violation: tuple[str, ...] = ()
    min_records: int | None = None
    max_records: int | None = None
    min_confidence: float | None = None  # only records at least this sure count
    detectors: tuple[str, ...] = ()  # only records holding one of these count (policy_number, name)
    recipient_party: tuple[str, ...] = ()
    sender_party: tuple[str, ...] = ()
    senders: tuple[str, ...] = ()  # envelope sender is one of these addresses or domains
    recipients: tuple[str, ...] = ()  # recipient is one of these addresses or domains
    secondee: bool | None = None  # sender is a secondee writing to their home insurer (or not)
    has_attachment: bool | None = None


@dataclass(frozen=True)
class Rule:
    name: str
    when: Condition
    action: Action
    description: str = ""
    simulate: bool = False  # decide and report, but enforce nothing (deliver with X-DLP-* headers)
    fallback: Action = Action.QUARANTINE  # for redact: what to do when the content cannot be rewritten
    hold_minutes: int = 10  # for hold: how long the sender has to cancel


@dataclass(frozen=True)
class Notices:
    """Who is told when mail is stripped, redacted, held or rejected."""

    sender: str  # envelope and From address of the notices
    to_sender: bool = True
    compliance: tuple[str, ...] = ()  # compliance team addresses, told of every notice-worthy verdict
    actions: tuple[Action, ...] = (Action.STRIP, Action.REDACT, Action.QUARANTINE, Action.REJECT)
    templates: Path | None = None  # a directory overriding the built-in templates
    review_url: str = ""  # where reviewers work (the console), quoted in quarantine notices


@dataclass(frozen=True)
class Limits:
    max_message_size: int = 25 * 1024 * 1024
    scan_timeout: float = 30.0
    scan_workers: int = 0  # processes that scan; 0: one per CPU core
    large_message_size: int = 256 * 1024  # bytes; such messages scan on all workers but one at most
    summary_records: int = 1000  # masked records kept in a held message's summary (all are counted)
    mime: MimeLimits = field(default_factory=MimeLimits)
    extract: ExtractLimits = field(default_factory=ExtractLimits)


@dataclass(frozen=True)
class Console:
    """The review console (web), on its own port, on localhost unless told otherwise."""

    host: str = "127.0.0.1"
    port: int = 8025
    secure_cookies: bool = False  # set true when the console is served over TLS (via a proxy)
    session_hours: float = 8.0
    public_url: str = ""


@dataclass(frozen=True)
class Config:
    source: str
    listen: Listen
    upstream: Upstream | None
    outbox: Path
    organization: Organization
    insurers: dict[str, Insurer]
    secondees: tuple[Secondee, ...]
    registry_path: Path | None
    quarantine_path: Path  # SQLite file; also where the pid file lives
    limits: Limits
    on_error: Action
    rules: tuple[Rule, ...]
    simulate: bool = False  # global simulation: every rule reports, none enforces
    notices: Notices | None = None
    quarantine_dsn: str | None = None  # PostgreSQL instead of SQLite (several instances, one queue)
    staff_path: Path | None = None  # the staff directory (`dlp-gateway staff import`)
    quarantine_schema: str | None = None
    retention_days: int = 90
    console: Console | None = None
    metrics: Listen | None = None  # /metrics, /healthz, /readyz
    smtp: SmtpPolicy = field(default_factory=SmtpPolicy)
    tls: InboundTls | None = None
    approvers: tuple[Approver, ...] = ()

    def secondee_home(self, address: str) -> str | None:
        return next((s.home_insurer for s in self.secondees if s.address == address.lower()), None)

    def approver_for(self, sender: str) -> str | None:
        """The sender's approver: an entry naming the address wins over one naming its domain."""
        address, domain = sender.lower(), domain_of(sender)
        for a in self.approvers:
            if address in a.senders:
                return a.approver
        for a in self.approvers:
            if any(in_domain(domain, s) for s in a.senders if "@" not in s):
                return a.approver
        return None
