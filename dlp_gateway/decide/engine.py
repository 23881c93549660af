"""The rule interpreter: every rule is evaluated for every recipient; the most restrictive wins.

Simulated rules (per rule, or all of them with the global `simulate`) are evaluated and reported
the same way but enforce nothing: the recipient is delivered with X-DLP-* headers instead.

Hold and approve rules are gates, not verdicts: they never change who receives what, only when —
the other rules decide the delivery, the strongest enforced gate delays it (approval over hold).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dlp_gateway.config.schema import Config
from dlp_gateway.decide.conditions import Recipient
from dlp_gateway.decide.parties import PartyClassifier
from dlp_gateway.decide.rules import evaluate, violations_for
from dlp_gateway.model import Action, Decision, Envelope, RecipientDecision, Record, RuleMatch, Unscannable


@dataclass(frozen=True)
class Facts:
    """What the rules may ask about the message as a whole."""

    has_attachment: bool = False


def decide(  # noqa: C901 - one pass per recipient: rules, gates, simulation and fallback decided together
    envelope: Envelope,
    records: list[Record],
    unscannable: tuple[Unscannable, ...],
    config: Config,
    parties: PartyClassifier | None = None,
    facts: Facts | None = None,
) -> Decision:
    parties = parties or PartyClassifier(config)
    facts = facts or Facts()
    sender = parties.classify(envelope.mail_from)
    home = config.secondee_home(envelope.mail_from)
    per_rule: dict[str, list[tuple[str, str]]] = {}
    decisions = []
    gate: Action | None = None
    hold_minutes = 0
    for address in envelope.rcpt_tos:
        party = parties.classify(address)
        violations = violations_for(party, records, unscannable)
        who = Recipient(
            address, party, envelope.mail_from, sender, tuple(violations), tuple(records), home, facts.has_attachment
        )
        enforced = would = Action.DELIVER
        fallback = Action.DELIVER
        matched = []
        for rule in config.rules:
            why = evaluate(rule.when, who)
            if why is None:
                continue
            matched.append(rule.name)
            per_rule.setdefault(rule.name, []).append((address, why))
            if rule.action.is_gate:
                if not (rule.simulate or config.simulate):
                    gate = max(gate or rule.action, rule.action)
                    if rule.action == Action.HOLD:
                        hold_minutes = max(hold_minutes, rule.hold_minutes)
                continue
            would = max(would, rule.action)
            if not (rule.simulate or config.simulate):
                enforced = max(enforced, rule.action)
                if rule.action == Action.REDACT:
                    fallback = max(fallback, rule.fallback)
        if would > enforced and enforced < Action.MONITOR:
            enforced = Action.MONITOR  # a simulated match is delivered with its trace headers
        decisions.append(
            RecipientDecision(
                address,
                party,
                enforced,
                tuple(violations),
                tuple(matched),
                would,
                fallback if fallback > Action.DELIVER else Action.QUARANTINE,
            )
        )
    matches = tuple(
        RuleMatch(
            rule.name,
            rule.action,
            tuple(a for a, _ in per_rule[rule.name]),
            "; ".join(sorted({w for _, w in per_rule[rule.name]})),
            rule.simulate or config.simulate,
        )
        for rule in config.rules
        if rule.name in per_rule
    )
    verdict, notes = verdict_of(decisions)
    would_be = max((d.would_be for d in decisions), default=Action.DELIVER)
    if verdict > Action.REDACT:
        gate = None  # quarantine and reject need no gate: nothing is delivered
    return Decision(
        verdict,
        tuple(decisions),
        matches,
        notes,
        simulated_verdict=would_be if would_be > verdict else None,
        gate=gate,
        hold_minutes=hold_minutes if gate == Action.HOLD else 0,
    )


def verdict_of(recipients: Sequence[RecipientDecision]) -> tuple[Action, tuple[str, ...]]:
    """The message's verdict: the strictest recipient action, except that stripping every recipient
    would deliver to no one — that is refused, so the sender's MTA tells the sender."""
    verdict = max((d.action for d in recipients), default=Action.DELIVER)
    if verdict == Action.STRIP and all(d.action == Action.STRIP for d in recipients):
        return Action.REJECT, ("every recipient would be stripped; the message is rejected instead",)
    return verdict, ()
