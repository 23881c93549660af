"""The value types a configuration key may hold: each one parser, shared by every key of its kind.

Pydantic applies these while validating the YAML (config/load.py). Scalars are strict: YAML's
`port: '25'` or `scan_timeout: true` is a mistake to name, not a value to coerce. A list of strings
also takes a single string, as administrators write `senders: a@b.jp`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any, TypeVar

import regex
from pydantic import AfterValidator, BeforeValidator, Field, PlainValidator, Strict

from dlp_gateway.model import Action

E = TypeVar("E", bound=Enum)

Int = Annotated[int, Strict()]
Num = Annotated[float, Strict()]  # strict float still takes an int (30 as well as 30.0), never a boolean
Bool = Annotated[bool, Strict()]
Str = Annotated[str, Strict()]
Positive = Annotated[int, Strict(), Field(gt=0)]
PositiveNum = Annotated[float, Strict(), Field(gt=0)]
Port = Annotated[int, Strict(), Field(ge=0, le=65535)]


def one_or_many(value: Any) -> Any:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        # Codes and numbers written bare in YAML (`codes: [123]`) are still text.
        return tuple(str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value)
    return value


def member_of(allowed: tuple[E, ...]) -> Callable[[Any], E]:
    """Parse into one of these enum members (a key may take fewer than the whole enum)."""

    def parse(value: Any) -> E:
        for member in allowed:
            if value == member.value:
                return member
        raise ValueError(f"unknown value {value!r} (one of {', '.join(str(m.value) for m in allowed)})")

    return parse


Strings = Annotated[tuple[Str, ...], BeforeValidator(one_or_many)]


def _lower(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(s.strip().lower() for s in items)


def _domains(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(s.strip().lower().rstrip(".") for s in items)


Addresses = Annotated[Strings, AfterValidator(_lower)]  # addresses or domains, compared in lower case
Domains = Annotated[Strings, AfterValidator(_domains)]
Address = Annotated[Str, AfterValidator(lambda s: s.strip().lower())]


def action_parser(allowed: tuple[Action, ...]) -> Callable[[Any], Action]:
    names = ", ".join(a.label for a in allowed)

    def parse(value: Any) -> Action:
        if isinstance(value, Action) and value in allowed:
            return value
        if not isinstance(value, str) or value.upper() not in Action.__members__:
            raise ValueError(f"unknown action {value!r} (one of {names})")
        action = Action.parse(value)
        if action not in allowed:
            raise ValueError(f"must be one of {names}, not {value!r}")
        return action

    return parse


AnyAction = Annotated[Action, PlainValidator(action_parser(tuple(Action)))]
OnErrorAction = Annotated[
    Action, PlainValidator(action_parser((Action.DELIVER, Action.MONITOR, Action.QUARANTINE, Action.REJECT)))
]
FallbackAction = Annotated[Action, PlainValidator(action_parser((Action.QUARANTINE, Action.REJECT, Action.STRIP)))]
Actions = Annotated[tuple[AnyAction, ...], BeforeValidator(one_or_many)]


def _policy_pattern(value: Any) -> regex.Pattern[str]:
    if isinstance(value, regex.Pattern):
        return value
    if not isinstance(value, str):
        raise ValueError("expected a regular expression as a string")
    try:
        # Anchored on digits only: letters before a number ("No8123…") must not hide it.
        return regex.compile(rf"(?<![0-9])(?:{value})(?![0-9])", regex.V1)
    except regex.error as exc:
        raise ValueError(f"invalid regular expression {value!r}: {exc}") from None


Pattern = Annotated[regex.Pattern[str], PlainValidator(_policy_pattern)]
Patterns = Annotated[tuple[Pattern, ...], BeforeValidator(one_or_many)]


def _network(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return value
    try:
        return ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not an IP network (like 192.0.2.0/24)") from None


Network = Annotated[ipaddress.IPv4Network | ipaddress.IPv6Network, PlainValidator(_network)]
Networks = Annotated[tuple[Network, ...], BeforeValidator(one_or_many)]


def _argon2(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("$argon2"):
        raise ValueError("expected an Argon2 hash (`dlp-gateway hash-password`)")
    return value


Argon2Hash = Annotated[str, PlainValidator(_argon2)]


def one_of(*allowed: str) -> AfterValidator:
    """A string key that takes only these values (kept a plain str: the values are the documentation)."""

    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"must be {', '.join(allowed[:-1])} or {allowed[-1]}, not {value!r}")
        return value

    return AfterValidator(check)


def doc(text: str) -> Any:
    """A key's one-line description: the configuration reference (docs/configuration.md) is made from it."""
    return Field(description=text)
