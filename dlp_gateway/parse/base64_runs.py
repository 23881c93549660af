"""A multipart message parsed as email.message_from_bytes (compat32) parses it, without walking
its attachments' base64 a line at a time.

The feed parser takes every line through Python: a boundary test, a list append. An 8 MB
attachment is 110,000 lines of base64, and 0.13 s of a list's scan went there. Each run of 64 or
more such lines (16 or more letters, digits, + / = each; so never a header, a boundary or a
continuation line) is swapped for one line that is a unique word of the same alphabet, and the message parsed so;
each word is then swapped back in whichever payload, preamble or epilogue holds it. A line of
the alphabet is handled like any other line of it wherever the parser meets it: it is never a
header line (no colon, no leading white space), a boundary (no dash) or a line end. Should a word
still end up anywhere but a payload, preamble or epilogue, it is not found there, and the message
is parsed whole instead.
tests/test_parse.py holds the two parses to each other on the corpora and on generated mail.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import re

MIN_LINES = 64  # a shorter run costs the feed parser little
# Consecutive lines of 16 or more characters of the alphabet, from a line's start. Possessive, and
# a run's lines are counted after: each byte is looked at once. (`(?:^[…]+\r?\n){64,}` started
# again at each line of a run one line short of 64: 2.8 s for 8 MB of such runs.)
_LINES = re.compile(rb"^(?:[A-Za-z0-9+/=]{16,}+\r?\n)++", re.MULTILINE)


def parse_whole(raw: bytes) -> email.message.Message:
    """email.message_from_bytes(raw) under compat32, with long runs of base64 read in one step."""
    runs = [m for m in _LINES.finditer(raw) if raw.count(b"\n", *m.span()) >= MIN_LINES]
    if not runs:
        return email.message_from_bytes(raw, policy=email.policy.compat32)
    stem = _stem(raw)
    words: dict[str, str] = {}
    pieces: list[bytes] = []
    at = 0
    for i, run in enumerate(runs):
        start, end = run.span()
        body = raw[start:end]
        last = 2 if body.endswith(b"\r\n") else 1  # (the last line's end stays: the parser may strip it)
        word = stem + b"%dx" % i
        words[word.decode("ascii")] = body[:-last].decode("ascii")
        pieces += [raw[at:start], word]
        at = end - last
    pieces.append(raw[at:])
    msg = email.message_from_bytes(b"".join(pieces), policy=email.policy.compat32)
    if _restore(msg, words) != len(words):
        return email.message_from_bytes(raw, policy=email.policy.compat32)
    return msg


def _stem(raw: bytes) -> bytes:
    """A word of the alphabet that the message does not hold."""
    n = 0
    while (stem := b"%s%dq" % (_STEM.encode(), n)) in raw:
        n += 1
    return stem


def _restore(msg: email.message.Message, words: dict[str, str]) -> int:
    """Swap the words back in every payload, preamble and epilogue of the tree; how many were."""
    found = 0
    for field in ("_payload", "preamble", "epilogue"):  # (the payload as stored: get_payload() may decode)
        text = getattr(msg, field, None)
        if isinstance(text, str) and _STEM in text:
            for word in [w for w in words if w in text]:
                text = text.replace(word, words[word])
                found += 1
            setattr(msg, field, text)
    payload = getattr(msg, "_payload", None)
    if isinstance(payload, list):  # (a multipart's parts, or a message/rfc822's message)
        found += sum(_restore(part, words) for part in payload if isinstance(part, email.message.Message))
    return found


_STEM = "dlpRun"
