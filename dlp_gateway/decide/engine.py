"""The rule interpreter: every rule is evaluated for every recipient; the most restrictive wins."""

from __future__ import annotations

from dlp_gateway.config.schema import Config
from dlp_gateway.decide.parties import PartyClassifier
from dlp_gateway.decide.rules import evaluate, violations_for
from dlp_gateway.model import Action, Decision, Envelope, RecipientDecision, Record, RuleMatch, Unscannable


def decide(
    envelope: Envelope,
    records: list[Record],
    unscannable: tuple[Unscannable, ...],
    config: Config,
    parties: PartyClassifier | None = None,
) -> Decision:
    parties = parties or PartyClassifier(config)
    sender = parties.classify(envelope.mail_from)
    per_rule: dict[str, list[tuple[str, str]]] = {}
    decisions = []
    for address in envelope.rcpt_tos:
        party = parties.classify(address)
        violations = violations_for(party, records, unscannable)
        action, matched = Action.DELIVER, []
        for rule in config.rules:
            why = evaluate(rule.when, party, sender, violations, len(records))
            if why is not None:
                matched.append(rule.name)
                action = max(action, rule.action)
                per_rule.setdefault(rule.name, []).append((address, why))
        decisions.append(RecipientDecision(address, party, action, tuple(violations), tuple(matched)))
    matches = tuple(
        RuleMatch(
            rule.name,
            rule.action,
            tuple(a for a, _ in per_rule[rule.name]),
            "; ".join(sorted({w for _, w in per_rule[rule.name]})),
        )
        for rule in config.rules
        if rule.name in per_rule
    )
    verdict = max((d.action for d in decisions), default=Action.DELIVER)
    notes: list[str] = []
    if verdict == Action.STRIP and all(d.action == Action.STRIP for d in decisions):
        # Stripping every recipient would deliver to no one: refuse, so the sender's MTA tells them.
        verdict = Action.REJECT
        notes.append("every recipient would be stripped; the message is rejected instead")
    if verdict == Action.REDACT:
        verdict = Action.QUARANTINE
        notes.append("redaction is not available yet; the message is held for review instead")
    return Decision(verdict, tuple(decisions), matches, tuple(notes))
