"""Read YAML (one file or a directory of files), merge, and validate into a frozen Config.

Every problem found is reported at once, each naming the file and the key path, so an
administrator fixes a broken rule set in one pass instead of one error per restart.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import Any

import regex
import yaml

from dlp_gateway.config.schema import (
    RECORD_KINDS,
    VIOLATION_KINDS,
    Approver,
    Condition,
    Config,
    Console,
    InboundTls,
    Insurer,
    Limits,
    Listen,
    Notices,
    Organization,
    Rule,
    Secondee,
    SmtpPolicy,
    Upstream,
)
from dlp_gateway.detect.checkdigits import CHECK_DIGITS
from dlp_gateway.errors import ConfigError
from dlp_gateway.extract.budget import ExtractLimits
from dlp_gateway.model import Action
from dlp_gateway.parse.mime import MimeLimits

TOP_KEYS = {
    "listen",
    "upstream",
    "outbox",
    "organization",
    "insurers",
    "secondees",
    "approvers",
    "registry",
    "staff",
    "quarantine",
    "limits",
    "on_error",
    "rules",
    "simulate",
    "notices",
    "console",
    "metrics",
    "smtp",
    "tls",
}
MERGED_MAPPINGS = {"insurers"}
MERGED_LISTS = {"rules", "secondees", "approvers"}
ACTIONS = tuple(a.label for a in Action)
INSURER_ID = regex.compile(r"^[a-z][a-z0-9_-]{0,31}$")


class _Source:
    """Merged raw YAML plus where each piece came from, for error messages."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.origin: dict[tuple[str, Any], str] = {}
        self.local: dict[tuple[str, int], int] = {}  # merged list index → index within its own file
        self.problems: list[str] = []

    def file_of(self, path: tuple[Any, ...]) -> str:
        if len(path) >= 2 and (path[0], path[1]) in self.origin:
            return self.origin[(path[0], path[1])]
        return self.origin.get((path[0], None), "?") if path else "?"

    def error(self, path: tuple[Any, ...], problem: str) -> None:
        where = self.file_of(path)
        if len(path) > 1 and (path[0], path[1]) in self.local:
            path = (path[0], self.local[(path[0], path[1])], *path[2:])  # "rules[0]" of that file
        key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        self.problems.append(f"{where}: {key or '(top level)'}: {problem}")

    def merge(self, name: str, doc: Any) -> None:
        if doc is None:
            return
        if not isinstance(doc, dict):
            self.problems.append(f"{name}: (top level): expected a mapping of keys")
            return
        for key, value in doc.items():
            if key in MERGED_LISTS and isinstance(value, list):
                base = len(self.data.setdefault(key, []))
                self.data[key].extend(value)
                self.origin.setdefault((key, None), name)
                for i in range(len(value)):
                    self.origin[(key, base + i)] = name
                    self.local[(key, base + i)] = i
            elif key in MERGED_MAPPINGS and isinstance(value, dict):
                target = self.data.setdefault(key, {})
                self.origin.setdefault((key, None), name)
                for sub, subval in value.items():
                    if sub in target:
                        first = self.origin[(key, sub)]
                        self.problems.append(f"{name}: {key}.{sub}: already defined in {first}")
                        continue
                    target[sub] = subval
                    self.origin[(key, sub)] = name
            elif key in self.data:
                first = self.origin[(key, None)]
                self.problems.append(f"{name}: {key}: already defined in {first}")
            else:
                self.data[key] = value
                self.origin[(key, None)] = name


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML silently keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice in one mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_files(path: Path) -> _Source:
    src = _Source()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if not files:
            raise ConfigError([f"{path}: no .yaml or .yml files in this directory"])
    elif path.is_file():
        files = [path]
    else:
        raise ConfigError([f"{path}: no such file or directory"])
    for f in files:
        try:
            docs = list(yaml.load_all(f.read_text(encoding="utf-8"), Loader=_StrictLoader))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            src.problems.append(f"{f}: (YAML syntax): {exc}".replace("\n", " "))
            continue
        for doc in docs:
            src.merge(str(f), doc)
    return src


class _Checker:
    """Small typed accessors that record a problem instead of raising."""

    def __init__(self, src: _Source) -> None:
        self.src = src

    def mapping(self, value: Any, path: tuple[Any, ...], allowed: set[str]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.src.error(path, f"expected a mapping, got {type(value).__name__}")
            return {}
        for key in value:
            if key not in allowed:
                self.src.error((*path, key), f"unknown key (allowed: {', '.join(sorted(allowed))})")
        return value

    def get(
        self,
        m: dict[str, Any],
        key: str,
        path: tuple[Any, ...],
        kind: type | tuple[type, ...],
        default: Any = None,
        required: bool = False,
    ) -> Any:
        if key not in m or m[key] is None:
            if required:
                self.src.error((*path, key), "required key is missing")
            return default
        value = m[key]
        if isinstance(value, bool) and kind in (int, float, (int, float)):
            self.src.error((*path, key), "expected a number, got a boolean")
            return default
        if not isinstance(value, kind):
            want = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            self.src.error((*path, key), f"expected {want}, got {type(value).__name__}")
            return default
        return value

    def strings(self, m: dict[str, Any], key: str, path: tuple[Any, ...], required: bool = False) -> tuple[str, ...]:
        value = self.get(m, key, path, (list, str), default=[], required=required)
        items = [value] if isinstance(value, str) else value
        out = []
        for i, item in enumerate(items):
            if isinstance(item, (str, int)) and not isinstance(item, bool):
                out.append(str(item))
            else:
                self.src.error((*path, key, i), "expected a string")
        return tuple(out)

    def port(self, m: dict[str, Any], path: tuple[Any, ...], default: int) -> int:
        port = self.get(m, "port", path, int, default)
        if not 0 <= port <= 65535:
            self.src.error((*path, "port"), f"{port} is not a TCP port")
            return default
        return int(port)


def _domain(d: str) -> str:
    return d.strip().lower().rstrip(".")


def _insurers(c: _Checker, raw: Any) -> dict[str, Insurer]:
    out: dict[str, Insurer] = {}
    if not isinstance(raw, dict) or not raw:
        c.src.error(("insurers",), "required: a mapping of insurer id to its name, domains and patterns")
        return out
    for iid, body in raw.items():
        path = ("insurers", iid)
        if not isinstance(iid, str) or not INSURER_ID.match(iid):
            c.src.error(path, "insurer id must be lower-case letters, digits, '_' or '-'")
            continue
        m = c.mapping(body, path, {"name", "aliases", "domains", "policy_numbers", "codes", "check_digit"})
        check = c.get(m, "check_digit", path, str)
        if check is not None and check not in CHECK_DIGITS:
            c.src.error((*path, "check_digit"), f"unknown check digit {check!r} (one of {', '.join(CHECK_DIGITS)})")
            check = None
        patterns = []
        for i, pat in enumerate(c.strings(m, "policy_numbers", path)):
            try:
                # Anchored on digits only: letters before a number ("No8123…") must not hide it.
                patterns.append(regex.compile(rf"(?<![0-9])(?:{pat})(?![0-9])", regex.V1))
            except regex.error as exc:
                c.src.error((*path, "policy_numbers", i), f"invalid regular expression {pat!r}: {exc}")
        out[iid] = Insurer(
            id=iid,
            name=c.get(m, "name", path, str, default=iid, required=True),
            aliases=c.strings(m, "aliases", path),
            domains=tuple(_domain(d) for d in c.strings(m, "domains", path, required=True)),
            policy_numbers=tuple(patterns),
            codes=c.strings(m, "codes", path),
            check_digit=check,
        )
    return out


def _party_list(
    c: _Checker, m: dict[str, Any], key: str, path: tuple[Any, ...], insurers: dict[str, Insurer]
) -> tuple[str, ...]:
    parties = c.strings(m, key, path)
    for i, p in enumerate(parties):
        if p in ("internal", "external", "insurer"):
            continue
        if p.startswith("insurer:") and p[8:] in insurers:
            continue
        c.src.error(
            (*path, key, i),
            f"unknown party {p!r} (internal, external, insurer or insurer:<id> with id one of {', '.join(insurers)})",
        )
    return parties


_WHEN_KEYS = {
    "violation",
    "min_records",
    "max_records",
    "min_confidence",
    "detectors",
    "recipient_party",
    "sender_party",
    "senders",
    "recipients",
    "secondee",
    "has_attachment",
}
_FALLBACKS = ("quarantine", "reject", "strip")


def _condition(c: _Checker, raw: Any, wpath: tuple[Any, ...], insurers: dict[str, Insurer]) -> Condition:
    w = c.mapping(raw, wpath, _WHEN_KEYS)
    violations = c.strings(w, "violation", wpath)
    for j, v in enumerate(violations):
        if v not in VIOLATION_KINDS:
            c.src.error((*wpath, "violation", j), f"unknown violation {v!r} (one of {', '.join(VIOLATION_KINDS)})")
    bounds = []
    for key in ("min_records", "max_records"):
        n = c.get(w, key, wpath, int)
        if n is not None and n < 0:
            c.src.error((*wpath, key), "must be 0 or more")
        bounds.append(n)
    confidence = c.get(w, "min_confidence", wpath, (int, float))
    if confidence is not None and not 0 <= confidence <= 1:
        c.src.error((*wpath, "min_confidence"), "must be between 0 and 1")
    detectors = c.strings(w, "detectors", wpath)
    for j, d in enumerate(detectors):
        if d not in RECORD_KINDS:
            c.src.error((*wpath, "detectors", j), f"unknown detector {d!r} (one of {', '.join(RECORD_KINDS)})")
    return Condition(
        violation=violations,
        min_records=bounds[0],
        max_records=bounds[1],
        min_confidence=None if confidence is None else float(confidence),
        detectors=detectors,
        recipient_party=_party_list(c, w, "recipient_party", wpath, insurers),
        sender_party=_party_list(c, w, "sender_party", wpath, insurers),
        senders=tuple(a.lower() for a in c.strings(w, "senders", wpath)),
        recipients=tuple(a.lower() for a in c.strings(w, "recipients", wpath)),
        secondee=c.get(w, "secondee", wpath, bool),
        has_attachment=c.get(w, "has_attachment", wpath, bool),
    )


def _action(
    c: _Checker,
    m: dict[str, Any],
    key: str,
    path: tuple[Any, ...],
    allowed: tuple[str, ...],
    default: str,
    required: bool = False,
) -> Action:
    text = c.get(m, key, path, str, default=default, required=required)
    if text not in allowed:
        c.src.error((*path, key), f"unknown action {text!r} (one of {', '.join(allowed)})")
        text = default
    return Action.parse(text)


def _rules(c: _Checker, raw: Any, insurers: dict[str, Insurer]) -> tuple[Rule, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        c.src.error(("rules",), "expected a list of rules")
        return ()
    out: list[Rule] = []
    seen: set[str] = set()
    for i, body in enumerate(raw):
        path: tuple[Any, ...] = ("rules", i)
        m = c.mapping(body, path, {"name", "when", "action", "description", "simulate", "fallback", "hold_minutes"})
        name = c.get(m, "name", path, str, default=f"rule-{i}", required=True)
        if name in seen:
            c.src.error((*path, "name"), f"duplicate rule name {name!r}")
        seen.add(name)
        action = _action(c, m, "action", path, ACTIONS, "deliver", required=True)
        if "fallback" in m and action != Action.REDACT:
            c.src.error((*path, "fallback"), "only a redact rule has a fallback")
        if "hold_minutes" in m and action != Action.HOLD:
            c.src.error((*path, "hold_minutes"), "only a hold rule has hold_minutes")
        minutes = c.get(m, "hold_minutes", path, int, default=10)
        if not 1 <= minutes <= 24 * 60:
            c.src.error((*path, "hold_minutes"), "must be between 1 and 1440")
        out.append(
            Rule(
                name=name,
                when=_condition(c, m.get("when"), (*path, "when"), insurers),
                action=action,
                description=c.get(m, "description", path, str, default=""),
                simulate=bool(c.get(m, "simulate", path, bool, default=False)),
                fallback=_action(c, m, "fallback", path, _FALLBACKS, "quarantine"),
                hold_minutes=minutes,
            )
        )
    return tuple(out)


def _approvers(c: _Checker, raw: Any) -> tuple[Approver, ...]:
    """`approvers: [{senders: [address or domain, …], approver: address}, …]` for `action: approve`."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        c.src.error(("approvers",), "expected a list")
        return ()
    out = []
    for i, body in enumerate(raw):
        path = ("approvers", i)
        m = c.mapping(body, path, {"senders", "approver"})
        approver = c.get(m, "approver", path, str, "", required=True).lower()
        senders = tuple(s.lower() for s in c.strings(m, "senders", path))
        if not senders:
            c.src.error((*path, "senders"), "list at least one sender address or domain")
        if approver and "@" not in approver:
            c.src.error((*path, "approver"), f"expected a mail address, not {approver!r}")
        if approver in senders:
            c.src.error((*path, "approver"), "a sender cannot approve their own mail")
        out.append(Approver(senders, approver))
    return tuple(out)


def _notices(c: _Checker, raw: Any) -> Notices | None:
    if raw is None:
        return None
    path = ("notices",)
    # (`actions`, not `on`: YAML 1.1 reads a bare `on` key as the boolean true.)
    m = c.mapping(raw, path, {"sender", "to_sender", "compliance", "actions", "templates", "review_url"})
    on = []
    for j, text in enumerate(c.strings(m, "actions", path) or ("strip", "redact", "quarantine", "reject")):
        if text not in ACTIONS:
            c.src.error((*path, "actions", j), f"unknown action {text!r} (one of {', '.join(ACTIONS)})")
        else:
            on.append(Action.parse(text))
    templates = c.get(m, "templates", path, str)
    if templates is not None and not Path(templates).is_dir():
        c.src.error((*path, "templates"), f"{templates!r} is not a directory")
    return Notices(
        sender=c.get(m, "sender", path, str, default="", required=True),
        to_sender=bool(c.get(m, "to_sender", path, bool, default=True)),
        compliance=c.strings(m, "compliance", path),
        actions=tuple(on),
        templates=Path(templates) if templates else None,
        review_url=c.get(m, "review_url", path, str, default=""),
    )


_LIMIT_KEYS: dict[str, tuple[str, type | tuple[type, ...]]] = {
    # YAML key under `limits:` → (which limits object, type)
    "max_message_size": ("top", int),
    "scan_timeout": ("top", (int, float)),
    "scan_workers": ("top", int),
    "large_message_size": ("top", int),
    "summary_records": ("top", int),
    "max_mime_depth": ("mime", int),
    "max_parts": ("mime", int),
    "max_text_chars": ("extract", int),
    "max_archive_depth": ("extract", int),
    "max_archive_members": ("extract", int),
    "max_decompressed_bytes": ("extract", int),
    "max_compression_ratio": ("extract", int),
    "part_time_budget": ("extract", (int, float)),
}
_MIME_NAMES = {"max_mime_depth": "max_depth"}


def _limits(c: _Checker, raw: Any) -> Limits:
    m = c.mapping(raw, ("limits",), set(_LIMIT_KEYS))
    values: dict[str, dict[str, Any]] = {"top": {}, "mime": {}, "extract": {}}
    for key, (group, kind) in _LIMIT_KEYS.items():
        value = c.get(m, key, ("limits",), kind)
        if value is None:
            continue
        if value <= 0:
            c.src.error(("limits", key), "must be greater than 0")
            continue
        values[group][_MIME_NAMES.get(key, key)] = value if kind is int else float(value)
    return Limits(**values["top"], mime=MimeLimits(**values["mime"]), extract=ExtractLimits(**values["extract"]))


def _smtp_policy(c: _Checker, raw: Any) -> SmtpPolicy:
    path = ("smtp",)
    m = c.mapping(
        raw,
        path,
        {
            "client_networks",
            "max_recipients",
            "max_sessions",
            "max_messages_per_minute",
            "bare_newlines",
            "shutdown_timeout",
            "auth_users",
        },
    )
    users = c.get(m, "auth_users", path, dict, {})
    auth_users = []
    for name, hashed in users.items():
        if not isinstance(hashed, str) or not hashed.startswith("$argon2"):
            c.src.error((*path, "auth_users", name), "expected an Argon2 hash (`dlp-gateway hash-password`)")
        else:
            auth_users.append((str(name), hashed))
    defaults = SmtpPolicy()
    networks = []
    for i, text in enumerate(c.strings(m, "client_networks", path)):
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            c.src.error((*path, "client_networks", i), f"{text!r} is not an IP network (like 192.0.2.0/24)")
    numbers = {}
    for key in ("max_recipients", "max_sessions", "max_messages_per_minute"):
        value = c.get(m, key, path, int, getattr(defaults, key))
        if value < 1:
            c.src.error((*path, key), "must be 1 or more")
        numbers[key] = value
    bare = c.get(m, "bare_newlines", path, str, "reject")
    if bare not in ("reject", "normalize"):
        c.src.error((*path, "bare_newlines"), "must be reject or normalize")
    return SmtpPolicy(
        client_networks=tuple(networks) if "client_networks" in m else defaults.client_networks,
        bare_newlines=bare,
        shutdown_timeout=float(c.get(m, "shutdown_timeout", path, (int, float), 30.0)),
        auth_users=tuple(auth_users),
        **numbers,
    )


def _section(
    c: _Checker, data: dict[str, Any], key: str, allowed: set[str], build: Callable[[dict[str, Any]], Any]
) -> Any:
    return build(c.mapping(data.get(key), (key,), allowed))


def load_config(path: str | Path) -> Config:
    """Load and validate; raise ConfigError listing every problem found."""
    root = Path(path)
    src = _read_files(root)
    c = _Checker(src)
    data = src.data
    for key in data:
        if key not in TOP_KEYS:
            src.error((key,), f"unknown key (allowed: {', '.join(sorted(TOP_KEYS))})")

    listen = _section(
        c,
        data,
        "listen",
        {"host", "port"},
        lambda m: Listen(host=c.get(m, "host", ("listen",), str, "127.0.0.1"), port=c.port(m, ("listen",), 10025)),
    )
    upstream = None
    if data.get("upstream") is not None:
        um = c.mapping(
            data.get("upstream"), ("upstream",), {"host", "port", "timeout", "tls", "verify", "ca_file", "pool"}
        )
        tls_mode = c.get(um, "tls", ("upstream",), str, "opportunistic")
        if tls_mode not in ("none", "opportunistic", "starttls", "implicit"):
            src.error(("upstream", "tls"), "must be none, opportunistic, starttls or implicit")
        ca_file = c.get(um, "ca_file", ("upstream",), str)
        if ca_file is not None and not Path(ca_file).is_file():
            src.error(("upstream", "ca_file"), f"no such file {ca_file!r}")
        upstream = Upstream(
            host=c.get(um, "host", ("upstream",), str, "127.0.0.1", required=True),
            port=c.port(um, ("upstream",), 25),
            timeout=float(c.get(um, "timeout", ("upstream",), (int, float), 60.0)),
            tls=tls_mode,
            verify=bool(c.get(um, "verify", ("upstream",), bool, True)),
            ca_file=ca_file,
            pool=c.get(um, "pool", ("upstream",), int, 8),
        )
        if not 0 <= upstream.pool <= 100:
            src.error(("upstream", "pool"), "must be 0 to 100 (idle connections kept)")
    tls = None
    if data.get("tls") is not None:
        tm = c.mapping(data.get("tls"), ("tls",), {"cert", "key", "require"})
        files = {k: c.get(tm, k, ("tls",), str, "", required=True) for k in ("cert", "key")}
        for k, f in files.items():
            if f and not Path(f).is_file():
                src.error(("tls", k), f"no such file {f!r}")
        tls = InboundTls(files["cert"], files["key"], bool(c.get(tm, "require", ("tls",), bool, False)))
    outbox = _section(c, data, "outbox", {"path"}, lambda m: Path(c.get(m, "path", ("outbox",), str, "var/outbox")))
    org = _section(
        c,
        data,
        "organization",
        {"name", "internal_domains", "staff_names"},
        lambda m: Organization(
            name=c.get(m, "name", ("organization",), str, ""),
            internal_domains=tuple(
                _domain(d) for d in c.strings(m, "internal_domains", ("organization",), required=True)
            ),
            staff_names=c.strings(m, "staff_names", ("organization",)),
        ),
    )
    if "organization" not in data:
        src.error(("organization",), "required key is missing")
    insurers = _insurers(c, data.get("insurers"))

    secondees = []
    raw_sec = data.get("secondees") or []
    if not isinstance(raw_sec, list):
        src.error(("secondees",), "expected a list")
        raw_sec = []
    for i, body in enumerate(raw_sec):
        m = c.mapping(body, ("secondees", i), {"address", "home_insurer"})
        home = c.get(m, "home_insurer", ("secondees", i), str, "", required=True)
        if home and home not in insurers:
            src.error(("secondees", i, "home_insurer"), f"unknown insurer {home!r}")
        secondees.append(
            Secondee(address=c.get(m, "address", ("secondees", i), str, "", required=True).lower(), home_insurer=home)
        )

    registry_path = _section(c, data, "registry", {"path"}, lambda m: c.get(m, "path", ("registry",), str))
    staff_path = _section(c, data, "staff", {"path"}, lambda m: c.get(m, "path", ("staff",), str))
    q = c.mapping(data.get("quarantine"), ("quarantine",), {"path", "dsn", "schema", "retention_days"})
    quarantine_path = Path(c.get(q, "path", ("quarantine",), str, "var/quarantine.db"))
    quarantine_dsn = c.get(q, "dsn", ("quarantine",), str)
    if quarantine_dsn is not None and not quarantine_dsn.startswith(("postgresql://", "postgres://")):
        src.error(("quarantine", "dsn"), "expected a postgresql:// connection string")
    retention_days = c.get(q, "retention_days", ("quarantine",), int, 90)
    if retention_days < 1:
        src.error(("quarantine", "retention_days"), "must be 1 or more")
    smtp = _smtp_policy(c, data.get("smtp"))
    metrics_listen = None
    if data.get("metrics") is not None:
        mm = c.mapping(data.get("metrics"), ("metrics",), {"host", "port"})
        metrics_listen = Listen(
            host=c.get(mm, "host", ("metrics",), str, "127.0.0.1"), port=c.port(mm, ("metrics",), 9125)
        )
    console = None
    if data.get("console") is not None:
        cm = c.mapping(
            data.get("console"), ("console",), {"host", "port", "secure_cookies", "session_hours", "public_url"}
        )
        console = Console(
            host=c.get(cm, "host", ("console",), str, "127.0.0.1"),
            port=c.port(cm, ("console",), 8025),
            secure_cookies=bool(c.get(cm, "secure_cookies", ("console",), bool, False)),
            session_hours=float(c.get(cm, "session_hours", ("console",), (int, float), 8.0)),
            public_url=c.get(cm, "public_url", ("console",), str, ""),
        )
    limits = _limits(c, data.get("limits"))
    on_error = c.get(data, "on_error", (), str, "quarantine")
    if on_error not in ("deliver", "monitor", "quarantine", "reject"):
        src.error(("on_error",), f"must be quarantine, reject, monitor or deliver, not {on_error!r}")
        on_error = "quarantine"
    rules = _rules(c, data.get("rules"), insurers)
    gates = {r.action for r in rules if r.action.is_gate}
    if gates and not data.get("notices"):
        src.error(("notices",), "hold and approve rules tell the sender (and approver) by notice: configure notices")
    if gates and not data.get("console"):
        src.error(("console",), "hold and approve rules link to the console: configure console")
    if Action.APPROVE in gates and not data.get("approvers"):
        src.error(("approvers",), "an approve rule needs approvers: [{senders: [...], approver: ...}]")

    simulate = bool(c.get(data, "simulate", (), bool, default=False))
    notices = _notices(c, data.get("notices"))
    approvers = _approvers(c, data.get("approvers"))
    if src.problems:
        raise ConfigError(src.problems)
    return Config(
        source=str(root),
        listen=listen,
        upstream=upstream,
        outbox=outbox,
        organization=org,
        insurers=insurers,
        secondees=tuple(secondees),
        approvers=approvers,
        registry_path=Path(registry_path) if registry_path else None,
        staff_path=Path(staff_path) if staff_path else None,
        quarantine_path=quarantine_path,
        limits=limits,
        on_error=Action.parse(on_error),
        rules=tuple(rules),
        simulate=simulate,
        notices=notices,
        quarantine_dsn=quarantine_dsn,
        quarantine_schema=c.get(q, "schema", ("quarantine",), str),
        retention_days=retention_days,
        console=console,
        metrics=metrics_listen,
        smtp=smtp,
        tls=tls,
    )
