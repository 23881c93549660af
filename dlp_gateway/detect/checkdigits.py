"""Check-digit functions an insurer's policy numbers may carry (`check_digit:` in its YAML).

Each takes the canonical number and checks the digits in it (letters are ignored), the last
digit being the check digit. Real insurers' schemes are not public: a site sets the one its
contract data follows, and a number that fails it is not that insurer's number.
"""

from __future__ import annotations

from collections.abc import Callable


def _digits(number: str) -> list[int]:
    return [int(c) for c in number if c.isdigit()]


def luhn(number: str) -> bool:
    digits = _digits(number)
    if len(digits) < 2:
        return False
    doubled = (2 * d - 9 if 2 * d > 9 else 2 * d for d in digits[-2::-2])
    return (sum(digits[-1::-2]) + sum(doubled)) % 10 == 0


def mod10_weighted_31(number: str) -> bool:
    """Weights 3,1,3,1… from the right of the payload (as in EAN/JAN codes)."""
    digits = _digits(number)
    if len(digits) < 2:
        return False
    *payload, check = digits
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return (10 - total % 10) % 10 == check


def mod11(number: str) -> bool:
    """Weights 2..7 cycling from the right; remainder 0 or 1 gives check digit 0."""
    digits = _digits(number)
    if len(digits) < 2:
        return False
    *payload, check = digits
    total = sum(d * (2 + i % 6) for i, d in enumerate(reversed(payload)))
    expected = 11 - total % 11
    return (0 if expected >= 10 else expected) == check


CHECK_DIGITS: dict[str, Callable[[str], bool]] = {"luhn": luhn, "mod10": mod10_weighted_31, "mod11": mod11}
