"""The configuration: one typed, frozen dataclass per YAML section, in the YAML's own shape.

This file is the one source of every key, its type, its default and its description:
config/load.py validates YAML with it (pydantic), and docs/configuration.md is generated from it
(`dlp-gateway config-reference`; a test fails when they differ). Code builds these directly too
(tests do), without validation: a default here is the default everywhere.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator, ConfigDict, Field

from dlp_gateway.addresses import domain_of, in_domain
from dlp_gateway.config.fields import (
    Actions,
    Address,
    Addresses,
    AnyAction,
    Argon2Hash,
    Bool,
    Domains,
    FallbackAction,
    Int,
    Networks,
    OnErrorAction,
    Patterns,
    Port,
    Positive,
    PositiveNum,
    Str,
    Strings,
    doc,
    one_of,
)
from dlp_gateway.decide.conditions import Condition
from dlp_gateway.detect.checkdigits import CHECK_DIGITS
from dlp_gateway.extract.budget import ExtractLimits
from dlp_gateway.model import Action
from dlp_gateway.parse.mime import MimeLimits

STRICT = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
OptionalPath = Annotated[Path | None, BeforeValidator(lambda v: v if v is None or isinstance(v, Path) else Path(v))]


@dataclass(frozen=True)
class Listen:
    __pydantic_config__ = STRICT
    host: Annotated[Str, doc("address to listen on")] = "127.0.0.1"
    port: Annotated[Port, doc("TCP port")] = 10025


@dataclass(frozen=True)
class MetricsListen(Listen):
    port: Annotated[Port, doc("TCP port of /metrics, /healthz and /readyz")] = 9125


@dataclass(frozen=True)
class SmtpPolicy:
    """Who may relay and how much: the answers an open relay or a flood gets."""

    __pydantic_config__ = STRICT
    client_networks: Annotated[Networks, doc("client networks that may relay without AUTH")] = (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    max_recipients: Annotated[Positive, doc("RCPT TO per message")] = 100
    max_sessions: Annotated[Positive, doc("concurrent SMTP sessions")] = 200
    max_messages_per_minute: Annotated[Positive, doc("per client address")] = 600
    bare_newlines: Annotated[
        Str, one_of("reject", "normalize"), doc("bare CR, bare LF or NUL in DATA (SMTP smuggling): reject | normalize")
    ] = "reject"
    shutdown_timeout: Annotated[PositiveNum, doc("seconds in-flight messages get on SIGTERM")] = 30.0
    auth_users: Annotated[
        dict[Str, Argon2Hash],
        doc("SMTP AUTH (offered only after STARTTLS): user → Argon2 hash (`dlp-gateway hash-password`)"),
    ] = field(default_factory=dict)


@dataclass(frozen=True)
class Upstream:
    __pydantic_config__ = STRICT
    host: Annotated[Str, doc("the mail server that delivers (Postfix, Exchange, a provider)")]
    port: Annotated[Port, doc("its SMTP port")] = 25
    timeout: Annotated[PositiveNum, doc("seconds per SMTP command")] = 60.0
    tls: Annotated[
        Str,
        one_of("none", "opportunistic", "starttls", "implicit"),
        doc("none | opportunistic (STARTTLS if offered) | starttls (required) | implicit"),
    ] = "opportunistic"
    verify: Annotated[Bool, doc("check the upstream's certificate and host name")] = True
    ca_file: Annotated[Str | None, doc("extra CA bundle for an internal CA")] = None
    pool: Annotated[Int, Field(ge=0, le=100), doc("idle connections kept for the next messages (0 to 100)")] = 8


@dataclass(frozen=True)
class InboundTls:
    """STARTTLS for clients; with `require`, nothing but EHLO/STARTTLS/QUIT before TLS."""

    __pydantic_config__ = STRICT
    cert: Annotated[Str, doc("PEM certificate chain")]
    key: Annotated[Str, doc("PEM private key")]
    require: Annotated[Bool, doc("refuse MAIL before STARTTLS")] = False


@dataclass(frozen=True)
class Outbox:
    __pydantic_config__ = STRICT
    path: Annotated[Path, doc("where mail goes when no upstream is configured (one .eml per message)")] = Path(
        "var/outbox"
    )


@dataclass(frozen=True)
class Organization:
    __pydantic_config__ = STRICT
    internal_domains: Annotated[Domains, Field(min_length=1), doc("the agency's own domains (and subdomains)")]
    name: Annotated[Str, doc("the agency's name, in notices")] = ""
    staff_names: Annotated[Strings, doc("never customers: signatures, greetings, CC lists")] = ()


@dataclass(frozen=True)
class Insurer:
    __pydantic_config__ = STRICT
    # The mapping key (`insurers: {sompo: …}`), copied in by the loader; not a key of its own.
    id: Annotated[Str, Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")] = field(metadata={"internal": True})
    name: Annotated[Str, doc("the insurer's name as mail writes it")]
    domains: Annotated[Domains, Field(min_length=1), doc("its mail domains (and subdomains)")]
    aliases: Annotated[Strings, doc("other names and abbreviations (損保ジャパン, SJ)")] = ()
    policy_numbers: Annotated[Patterns, doc("regular expressions of its policy numbers")] = ()
    codes: Annotated[Strings, doc("its insurer codes in agency systems (underwriter columns)")] = ()
    check_digit: Annotated[
        Annotated[Str, one_of(*CHECK_DIGITS)] | None,
        doc("check-digit scheme of its numbers: " + ", ".join(CHECK_DIGITS)),
    ] = None

    @property
    def mentions(self) -> tuple[str, ...]:
        """Every way text may name this insurer."""
        return (self.name, *self.aliases)


def _insurer_ids(raw: object) -> object:
    """The mapping key is the insurer's id."""
    if isinstance(raw, dict):
        return {k: {**v, "id": k} if isinstance(v, dict) else v for k, v in raw.items()}
    return raw


def _empty_when(raw: object) -> object:
    """A rule without `when:` (or with an empty one) matches every recipient."""
    if isinstance(raw, list):
        return [{**r, "when": r.get("when") or {}} if isinstance(r, dict) else r for r in raw]
    return raw


@dataclass(frozen=True)
class Secondee:
    __pydantic_config__ = STRICT
    address: Annotated[Address, doc("the secondee's mail address")]
    home_insurer: Annotated[Str, doc("the insurer id they are seconded from")]


@dataclass(frozen=True)
class Approver:
    """Who approves the mail of these senders (addresses, or domains with their subdomains)."""

    __pydantic_config__ = STRICT
    senders: Annotated[Addresses, Field(min_length=1), doc("sender addresses or domains")]
    approver: Annotated[Address, Field(pattern="@"), doc("the approver's address")]


@dataclass(frozen=True)
class Rule:
    __pydantic_config__ = STRICT
    name: Annotated[Str, doc("unique; shown in verdicts, metrics and the console")]
    when: Annotated[Condition, doc("the condition (the `when:` keys below); {}: every recipient")] = field(
        metadata={"shown_default": "{}"}
    )
    action: Annotated[AnyAction, doc("deliver, monitor, hold, strip, redact, approve, quarantine or reject")]
    description: Annotated[Str, doc("for people")] = ""
    simulate: Annotated[Bool, doc("decide and report, enforce nothing (deliver with X-DLP-* headers)")] = False
    fallback: Annotated[FallbackAction, doc("redact only: what to do when the content cannot be rewritten")] = (
        Action.QUARANTINE
    )
    hold_minutes: Annotated[Int, Field(ge=1, le=1440), doc("hold only: minutes the sender has to cancel")] = 10


@dataclass(frozen=True)
class Notices:
    """Who is told when mail is stripped, redacted, held or rejected."""

    __pydantic_config__ = STRICT
    sender: Annotated[Address, doc("envelope and From address of the notices")]
    to_sender: Annotated[Bool, doc("tell the sender")] = True
    compliance: Annotated[Addresses, doc("compliance team addresses, told of every notice-worthy verdict")] = ()
    # (`actions`, not `on`: YAML 1.1 reads a bare `on` key as the boolean true.)
    actions: Annotated[Actions, doc("the actions that send notices")] = (
        Action.STRIP,
        Action.REDACT,
        Action.QUARANTINE,
        Action.REJECT,
    )
    templates: Annotated[OptionalPath, doc("a directory overriding the built-in templates")] = None
    review_url: Annotated[Str, doc("where reviewers work (the console), quoted in quarantine notices")] = ""


@dataclass(frozen=True)
class Limits:
    """Every bound on one message; past one, the message is held as unscannable, never passed."""

    __pydantic_config__ = STRICT
    max_message_size: Annotated[Positive, doc("bytes; larger mail is refused at DATA (552)")] = 25 * 1024 * 1024
    scan_timeout: Annotated[PositiveNum, doc("seconds for one scan; then held as unscannable")] = 30.0
    scan_workers: Annotated[Int, Field(ge=0), doc("processes that scan; 0: one per CPU core")] = 0
    large_message_size: Annotated[Positive, doc("bytes; such mail scans on all workers but one at most")] = 256 * 1024
    summary_records: Annotated[Positive, doc("masked records kept in a held message's summary")] = 1000
    max_mime_depth: Annotated[Positive, doc("nested multiparts")] = MimeLimits.max_depth
    max_parts: Annotated[Positive, doc("MIME parts per message")] = MimeLimits.max_parts
    max_text_chars: Annotated[Positive, doc("characters extracted from one message")] = ExtractLimits.max_text_chars
    max_archive_depth: Annotated[Positive, doc("zip in zip in zip")] = ExtractLimits.max_archive_depth
    max_archive_members: Annotated[Positive, doc("members per archive")] = ExtractLimits.max_archive_members
    max_decompressed_bytes: Annotated[Positive, doc("bytes of all archive members of one message")] = (
        ExtractLimits.max_decompressed_bytes
    )
    max_compression_ratio: Annotated[Positive, doc("per member: uncompressed / compressed")] = (
        ExtractLimits.max_compression_ratio
    )
    part_time_budget: Annotated[PositiveNum, doc("seconds to read one part")] = ExtractLimits.part_time_budget

    @functools.cached_property
    def mime(self) -> MimeLimits:
        return MimeLimits(max_depth=self.max_mime_depth, max_parts=self.max_parts)

    @functools.cached_property
    def extract(self) -> ExtractLimits:
        return ExtractLimits(
            max_text_chars=self.max_text_chars,
            max_archive_depth=self.max_archive_depth,
            max_archive_members=self.max_archive_members,
            max_decompressed_bytes=self.max_decompressed_bytes,
            max_compression_ratio=self.max_compression_ratio,
            part_time_budget=self.part_time_budget,
        )


@dataclass(frozen=True)
class Console:
    """The review console (web), on its own port, on localhost unless told otherwise."""

    __pydantic_config__ = STRICT
    host: Annotated[Str, doc("address to listen on")] = "127.0.0.1"
    port: Annotated[Port, doc("TCP port")] = 8025
    secure_cookies: Annotated[Bool, doc("set true when the console is served over TLS (via a proxy)")] = False
    session_hours: Annotated[PositiveNum, doc("hours a login lasts")] = 8.0
    public_url: Annotated[Str, doc("the console's address as reviewers reach it, for links in notices")] = ""


@dataclass(frozen=True)
class Quarantine:
    __pydantic_config__ = STRICT
    path: Annotated[Path, doc("SQLite file of held mail; the pid file lives beside it")] = Path("var/quarantine.db")
    dsn: Annotated[
        Str | None, Field(pattern="^postgres(ql)?://"), doc("postgresql:// instead of SQLite: several instances")
    ] = None
    schema: Annotated[Str | None, doc("PostgreSQL schema (default: the search path)")] = None
    retention_days: Annotated[Int, Field(ge=1), doc("days released and deleted mail is kept for audit")] = 90


@dataclass(frozen=True)
class FilePath:
    __pydantic_config__ = STRICT
    path: Annotated[OptionalPath, doc("the index file (`dlp-gateway registry import` / `staff import`)")] = None


@dataclass(frozen=True)
class Config:
    __pydantic_config__ = STRICT
    organization: Annotated[Organization, doc("who the agency is")]
    insurers: Annotated[
        dict[Str, Insurer],
        BeforeValidator(_insurer_ids),
        Field(min_length=1),
        doc("insurer id (lower-case letters, digits, _ or -) → the insurer"),
    ]
    rules: Annotated[
        tuple[Rule, ...],
        BeforeValidator(_empty_when),
        doc("evaluated for every recipient; the most restrictive match wins"),
    ] = ()
    listen: Annotated[Listen, doc("the SMTP port clients relay through")] = field(default_factory=Listen)
    upstream: Annotated[Upstream | None, doc("where accepted mail goes; none: the outbox")] = None
    outbox: Annotated[Outbox, doc("the local delivery sink")] = field(default_factory=Outbox)
    secondees: Annotated[tuple[Secondee, ...], doc("staff seconded from an insurer")] = ()
    approvers: Annotated[tuple[Approver, ...], doc("who approves whose mail (`action: approve`)")] = ()
    registry: Annotated[FilePath, doc("the customer registry index")] = field(default_factory=FilePath)
    staff: Annotated[FilePath, doc("the staff directory index")] = field(default_factory=FilePath)
    quarantine: Annotated[Quarantine, doc("where held mail is kept")] = field(default_factory=Quarantine)
    limits: Annotated[Limits, doc("bounds on one message")] = field(default_factory=Limits)
    on_error: Annotated[
        OnErrorAction, doc("when the gateway itself fails on a message: quarantine, reject, monitor or deliver")
    ] = Action.QUARANTINE
    simulate: Annotated[Bool, doc("every rule reports, none enforces")] = False
    notices: Annotated[Notices | None, doc("who is told of verdicts")] = None
    console: Annotated[Console | None, doc("the review console; none: no console")] = None
    metrics: Annotated[MetricsListen | None, doc("/metrics, /healthz, /readyz; none: not served")] = None
    smtp: Annotated[SmtpPolicy, doc("who may relay, how much")] = field(default_factory=SmtpPolicy)
    tls: Annotated[InboundTls | None, doc("STARTTLS for clients")] = None
    source: str = field(default="", metadata={"internal": True})  # the file or directory it was read from

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
