"""What correlate and its column form (row_plans.py) both decide about a record: whether an
insurer mention names the underwriter, how sure each source of attribution is, how a name is shown."""

from __future__ import annotations

from functools import lru_cache

import regex

from dlp_gateway.detect.labels import LabelKind, label_at, label_window
from dlp_gateway.model import Attribution, Finding
from dlp_gateway.registry import Registry

CONFIDENCE = {
    Attribution.REGISTRY: 0.97,
    Attribution.EXPLICIT: 0.9,
    Attribution.REGISTRY_NAME: 0.8,
    Attribution.PATTERN: 0.6,
    Attribution.UNKNOWN: 0.5,
}
# A bare mention that tells where a customer came from or went, not who underwrites: 「前は東京海上」,
# 「東京海上から切替」, 「旧 損保ジャパン」.
_PREVIOUS_BEFORE = regex.compile(r"(?:前|旧|元|他社|以前|従来|現在?の?他社)[はの:：\s]*$")
_PREVIOUS_AFTER = regex.compile(r"^\s*(?:から|より|→|⇒|->|からの|時代|等?の(?:他社|前))")


def names_underwriter(line: str, mention: Finding) -> tuple[bool, str]:
    """Whether an insurer mention names the underwriter of the record on its line, and the label
    that says so. Only an underwriter label or column (引受, 保険会社) or a bare mention does; a
    previous-insurer, remarks or staff column, or any other label, never does."""
    said = said_by_label(label_window(line, mention.start))
    if said is not None:
        return said
    if mention.heading:
        return True, "section heading"
    before, after = line[max(0, mention.start - 8) : mention.start], line[mention.end : mention.end + 6]
    if _PREVIOUS_BEFORE.search(before) or _PREVIOUS_AFTER.match(after):
        return False, ""
    return True, "insurer named on the line"


@lru_cache(maxsize=4096)  # (a list's underwriter column repeats the same few cells in every row)
def said_by_label(window: str) -> tuple[bool, str] | None:
    """names_underwriter's answer when a label stands before the mention (`window`: the text a
    label is read from, labels.label_window), None when none does: then the text around the
    mention decides."""
    label = label_at(window, len(window))
    return None if label is None else (label.kind is LabelKind.UNDERWRITER, str(label))


def display_name(name: str, registry: Registry) -> str:
    """`family given` when the text or the registry tells where the family name ends."""
    if " " in name:
        return name
    split = registry.family_length(name)
    return f"{name[:split]} {name[split:]}" if split and 0 < split < len(name) else name


def attribute(
    number: Finding | None, name: Finding | None, insurer: str | None, insurer_basis: str, section: str | None
) -> tuple[str | None, Attribution, str, float]:
    """A record's (underwriter, source, basis, confidence) from its number, its name, the insurer
    named on its line (and why that names the underwriter) and the section heading it is under:
    DESIGN §3's order, and what in the mail gave it."""
    if number is not None and number.registry:
        return (
            number.registry[0],
            Attribution.REGISTRY,
            "policy number in the registry",
            CONFIDENCE[Attribution.REGISTRY],
        )
    if insurer:
        return insurer, Attribution.EXPLICIT, insurer_basis, CONFIDENCE[Attribution.EXPLICIT]
    if section:
        return section, Attribution.EXPLICIT, "section heading", CONFIDENCE[Attribution.EXPLICIT]
    if name is not None and len(name.registry) == 1:
        return (
            name.registry[0],
            Attribution.REGISTRY_NAME,
            "name in the registry",
            CONFIDENCE[Attribution.REGISTRY_NAME],
        )
    under = f"number under {number.label}" if number is not None and number.label else ""
    if number is not None and len(number.insurers) == 1:
        # context words (証券番号) raise the confidence of a number read by its format
        return (
            number.insurers[0],
            Attribution.PATTERN,
            "; ".join(filter(None, ["number format", under])),
            number.confidence,
        )
    return None, Attribution.UNKNOWN, under, CONFIDENCE[Attribution.UNKNOWN]
