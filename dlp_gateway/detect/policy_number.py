"""Policy numbers: each insurer's YAML patterns, matched on normalised text.

A number may be written `８１２３−４５６７８９`, `8123-456789` or `8123 456 789`. We match on two
views of the line: dashes between alphanumerics removed, then spaces too; a match in the first
view wins, since joining space-separated digits can glue a date or code onto a number.
"""

from __future__ import annotations

from collections.abc import Iterable

import regex

from dlp_gateway.config.schema import Insurer
from dlp_gateway.detect.normalize import LineViews
from dlp_gateway.model import Finding

DETECTOR = "policy_number"
REGEX_TIMEOUT = 0.5  # seconds per search: mail text is untrusted
CONTEXT = regex.compile(
    r"証券\s*(?:番号|記号|NO|No|ＮＯ|Ｎｏ)|契約\s*番号|ポリシー\s*番号|policy\s*(?:no|number)", regex.IGNORECASE
)
# Look-alikes: a number right after one of these is a phone, postal or stock code.
NOT_A_POLICY = regex.compile(r"(?:〒|TEL|FAX|電話|携帯|証券コード|コード)[\s:：.]*$", regex.IGNORECASE)


class PolicyNumberFinder:
    def __init__(self, insurers: Iterable[Insurer]) -> None:
        self.patterns = [(ins.id, pat) for ins in insurers for pat in ins.policy_numbers]

    def find(self, views: LineViews, segment: int, line_no: int) -> list[Finding]:
        line = views.line
        if not self.patterns or not any(c.isdigit() for c in line):
            return []
        hits: dict[tuple[int, int], tuple[str, set[str]]] = {}
        for drop_spaces in (False, True):
            view, vindex = views.joined(drop_spaces)
            for insurer, pattern in self.patterns:
                try:
                    matches = list(pattern.finditer(view, timeout=REGEX_TIMEOUT))
                except TimeoutError:
                    continue  # the rest of the pipeline still sees the line; issue: fuzzing
                for m in matches:
                    if m.end() == m.start():
                        continue
                    span = (vindex[m.start()], vindex[m.end() - 1] + 1)
                    if any(s < span[1] and span[0] < e for (s, e) in hits if (s, e) != span):
                        continue
                    value = m.group(0).replace("-", "").replace(" ", "")
                    hits.setdefault(span, (value, set()))[1].add(insurer)
        context = bool(CONTEXT.search(line))
        out = []
        for (start, end), (value, insurers) in sorted(hits.items()):
            if NOT_A_POLICY.search(line[max(0, start - 8) : start]):
                continue
            out.append(
                Finding(
                    DETECTOR,
                    value,
                    segment,
                    line_no,
                    start,
                    end,
                    confidence=0.85 if context else 0.6,
                    insurers=tuple(sorted(insurers)),
                )
            )
        return out
