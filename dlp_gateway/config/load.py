"""Validate merged YAML against the schema (config/schema.py) into a frozen Config.

Pydantic checks every key's type and range from the schema's annotations; this module turns its
findings into `file: key.path: problem` lines and adds the checks that span keys (an insurer a rule
names must exist, a hold rule needs a console). Every problem is reported at once, so an
administrator fixes a broken rule set in one pass instead of one error per restart.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from dlp_gateway.config.hints import section_of
from dlp_gateway.config.schema import Config
from dlp_gateway.config.yaml_files import Source, read_files
from dlp_gateway.errors import ConfigError
from dlp_gateway.model import Action

_EXPECTED = {
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "a string",
    "tuple_type": "a list",
    "list_type": "a list",
    "dict_type": "a mapping",
    "dataclass_type": "a mapping",
    "dataclass_args_type": "a mapping",
}


@functools.cache
def _adapter() -> TypeAdapter[Config]:
    return TypeAdapter(Config)


def allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys the section at `loc` (a pydantic location, ending in the unknown key) takes."""
    cls: Any = Config
    for part in loc[:-1]:
        if isinstance(part, str) and dataclasses.is_dataclass(cls):
            cls = section_of(typing.get_type_hints(cls, include_extras=True).get(part))[0]
    if not dataclasses.is_dataclass(cls):
        return []
    return sorted(f.name for f in dataclasses.fields(cls) if not f.metadata.get("internal"))


def _problem(error: Any) -> str:
    kind, loc, value = error["type"], error["loc"], error.get("input")
    if kind == "missing":
        return "required key is missing"
    if kind in ("unexpected_keyword_argument", "extra_forbidden"):
        return f"unknown key (allowed: {', '.join(allowed_keys(loc))})"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {type(value).__name__}"
    if kind == "enum":
        return f"unknown value {value!r} (one of {error['ctx']['expected']})"
    if kind == "too_short":
        return "list at least one"
    message = str(error["msg"]).removeprefix("Value error, ")
    return message.replace("Input should be", "must be", 1)


def _rule_checks(cfg: Config, raw: dict[str, Any], src: Source) -> None:
    """Rule names are unique, keys belong to their action, and named insurers exist."""
    seen: set[str] = set()
    for i, rule in enumerate(cfg.rules):
        body = raw["rules"][i]
        if rule.name in seen:
            src.error(("rules", i, "name"), f"duplicate rule name {rule.name!r}")
        seen.add(rule.name)
        if "fallback" in body and rule.action != Action.REDACT:
            src.error(("rules", i, "fallback"), "only a redact rule has a fallback")
        if "hold_minutes" in body and rule.action != Action.HOLD:
            src.error(("rules", i, "hold_minutes"), "only a hold rule has hold_minutes")
        for key in ("recipient_party", "sender_party"):
            for j, party in enumerate(getattr(rule.when, key)):
                if party.startswith("insurer:") and party[8:] not in cfg.insurers:
                    known = ", ".join(cfg.insurers)
                    where = ("rules", i, "when", key, j)
                    src.error(where, f"unknown party {party!r} (insurer:<id> with id one of {known})")


def _cross_checks(cfg: Config, raw: dict[str, Any], src: Source) -> None:
    """What one key's type cannot say: references between keys, and files that must exist."""
    _rule_checks(cfg, raw, src)
    for i, s in enumerate(cfg.secondees):
        if s.home_insurer not in cfg.insurers:
            src.error(("secondees", i, "home_insurer"), f"unknown insurer {s.home_insurer!r}")
    for i, a in enumerate(cfg.approvers):
        if a.approver in a.senders:
            src.error(("approvers", i, "approver"), "a sender cannot approve their own mail")
    _gate_checks(cfg, src)
    _file_checks(cfg, src)


def _gate_checks(cfg: Config, src: Source) -> None:
    """Hold and approval mail links (notices) into the console; approval needs approvers."""
    gates = {r.action for r in cfg.rules if r.action.is_gate}
    if gates and cfg.notices is None:
        src.error(("notices",), "hold and approve rules tell the sender (and approver) by notice: configure notices")
    if gates and cfg.console is None:
        src.error(("console",), "hold and approve rules link to the console: configure console")
    if Action.APPROVE in gates and not cfg.approvers:
        src.error(("approvers",), "an approve rule needs approvers: [{senders: [...], approver: ...}]")


def _file_checks(cfg: Config, src: Source) -> None:
    files = {("upstream", "ca_file"): cfg.upstream.ca_file if cfg.upstream else None}
    files |= {("tls", k): getattr(cfg.tls, k) if cfg.tls else None for k in ("cert", "key")}
    for key_path, name in files.items():
        if name and not Path(name).is_file():
            src.error(key_path, f"no such file {name!r}")
    if cfg.notices and cfg.notices.templates and not cfg.notices.templates.is_dir():
        src.error(("notices", "templates"), f"{str(cfg.notices.templates)!r} is not a directory")


def load_config(path: str | Path) -> Config:
    """Load and validate; raise ConfigError listing every problem found."""
    root = Path(path)
    src = read_files(root)
    data = dict(src.data)
    if "source" in data:  # set by the loader, never by a file
        src.error(("source",), f"unknown key (allowed: {', '.join(allowed_keys(('source',)))})")
        del data["source"]
    cfg = None
    try:
        cfg = _adapter().validate_python(data)
    except ValidationError as exc:
        for error in exc.errors():
            src.error(tuple(error["loc"]), _problem(error))
    if cfg is not None:
        _cross_checks(cfg, data, src)
    if src.problems:
        raise ConfigError(src.problems)
    assert cfg is not None
    return dataclasses.replace(cfg, source=str(root))
