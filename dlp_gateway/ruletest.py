"""`dlp-gateway test-rules`: rule unit tests in the spirit of `promtool test rules`.

A cases file lists messages (an .eml file, or inline headers and body), an optional envelope, and
the expected verdict, matching rules and per-recipient actions. Each case runs through the whole
pipeline with the configuration under test; the customer registry is not used, so cases give
the same answer on every machine.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from email.header import Header
from pathlib import Path
from typing import Any

import yaml

from dlp_gateway.config.schema import Config
from dlp_gateway.errors import ConfigError
from dlp_gateway.model import Action, Envelope
from dlp_gateway.parse.mime import parse_message
from dlp_gateway.pipeline import Pipeline, envelope_from_headers

ACTIONS = {a.label for a in Action}


@dataclass
class Case:
    name: str
    raw: bytes
    envelope: Envelope | None
    verdict: str | None
    rules: list[str] | None
    recipients: dict[str, str]


@dataclass
class CaseResult:
    name: str
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def _inline(headers: dict[str, str], body: str) -> bytes:
    lines = []
    for name, value in headers.items():
        text = str(value)
        lines.append(f"{name}: {text if text.isascii() else Header(text, 'utf-8').encode()}")
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: base64"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + base64.encodebytes(body.encode())


def load_cases(path: Path) -> list[Case]:  # noqa: C901, PLR0912 - checks each key of a cases file and reports every problem at once
    problems: list[str] = []
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError([f"{path}: {exc}".replace("\n", " ")]) from exc
    raw_cases = doc.get("cases") if isinstance(doc, dict) else None
    if not isinstance(raw_cases, list):
        raise ConfigError([f"{path}: cases: expected a list of cases"])
    out = []
    for i, c in enumerate(raw_cases):
        where = f"{path}: cases[{i}]"
        if not isinstance(c, dict):
            problems.append(f"{where}: expected a mapping")
            continue
        unknown = set(c) - {"name", "message", "headers", "body", "envelope", "expect"}
        problems += [f"{where}.{k}: unknown key" for k in sorted(unknown)]
        if "message" in c:
            file = (path.parent / str(c["message"])).resolve()
            if not file.is_file():
                problems.append(f"{where}.message: no such file {file}")
                continue
            raw = file.read_bytes()
        elif isinstance(c.get("headers"), dict):
            raw = _inline(c["headers"], str(c.get("body", "")))
        else:
            problems.append(f"{where}: give `message` (a file) or `headers` and `body`")
            continue
        env = c.get("envelope")
        envelope = None
        if isinstance(env, dict):
            to = env.get("to", [])
            envelope = Envelope(str(env.get("from", "")), tuple(to if isinstance(to, list) else [to]))
        expect: Any = c.get("expect") or {}
        if not isinstance(expect, dict) or not expect:
            problems.append(f"{where}.expect: expected verdict, rules and/or recipients")
            continue
        recipients = {str(k): str(v) for k, v in (expect.get("recipients") or {}).items()}
        for label in [expect.get("verdict"), *recipients.values()]:
            if label is not None and label not in ACTIONS:
                problems.append(f"{where}.expect: unknown action {label!r}")
        rules = expect.get("rules")
        out.append(
            Case(
                str(c.get("name", f"case {i}")),
                raw,
                envelope,
                expect.get("verdict"),
                [str(r) for r in rules] if isinstance(rules, list) else None,
                recipients,
            )
        )
    if problems:
        raise ConfigError(problems)
    return out


def run_cases(cases: list[Case], config: Config) -> list[CaseResult]:
    pipeline = Pipeline(config)
    results = []
    for case in cases:
        envelope = case.envelope or envelope_from_headers(parse_message(case.raw)[0])
        d = pipeline.scan(case.raw, envelope).decision
        res = CaseResult(case.name)
        if case.verdict is not None and d.verdict.label != case.verdict:
            res.failures.append(f"verdict: expected {case.verdict}, got {d.verdict.label}")
        if case.rules is not None and sorted(d.rules) != sorted(case.rules):
            res.failures.append(f"rules: expected {sorted(case.rules)}, got {sorted(d.rules)}")
        actions = {r.address.lower(): r.action.label for r in d.recipients}
        for address, action in case.recipients.items():
            got = actions.get(address.lower(), "(not a recipient)")
            if got != action:
                res.failures.append(f"{address}: expected {action}, got {got}")
        results.append(res)
    return results
