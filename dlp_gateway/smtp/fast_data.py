"""aiosmtplib's DATA preparation, without its regular expressions when they have nothing to do.

Before DATA, aiosmtplib rewrites every bare CR or LF as CRLF and doubles every dot that starts a
line, each with a regular expression over the whole message: 0.3 ms and 0.25 ms for 50 KB, together
a sixth of the gateway process's CPU on text mail; and SMTP.sendmail normalises the message once more
only to count its bytes for SIZE= (py-spy, bench/relay_throughput.py). The gateway
refuses a bare CR or LF at DATA (SMTP smuggling, smtp/server.py), so what it relays has none, and
few messages have a line starting with a dot. Three byte counts and a substring test tell both
cases; anything else goes to the library's own code. The output is the library's, byte for byte
(tests/test_fast_data.py); if a release of aiosmtplib renames what is replaced here, nothing is
replaced and that test fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import aiosmtplib.protocol as _protocol
import aiosmtplib.smtp as _client

_normalize: Callable[[bytes], bytes] | None = getattr(_protocol, "normalize_message_line_endings", None)
_period: re.Pattern[bytes] | None = getattr(_protocol, "PERIOD_REGEX", None)


def normalized(message: bytes) -> bytes:
    """normalize_message_line_endings: every line ended by CRLF, the last one too."""
    crlf = message.count(b"\r\n")
    if message.count(b"\r") == crlf and message.count(b"\n") == crlf and message.endswith(b"\r\n"):
        return message
    assert _normalize is not None
    return _normalize(message)


class _Periods:
    """PERIOD_REGEX, whose `sub(b"..", message)` is all the library asks of it."""

    def __init__(self, pattern: re.Pattern[bytes]) -> None:
        self.pattern = pattern

    def sub(self, repl: Any, string: bytes, count: int = 0) -> bytes:
        if not string.startswith(b".") and b"\n." not in string:
            return string  # no line starts with a dot
        return self.pattern.sub(repl, string, count)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pattern, name)


def install() -> bool:
    """Put both in aiosmtplib.protocol; False when this release of aiosmtplib lacks either."""
    if _normalize is None or _period is None or not isinstance(_period, re.Pattern):
        return False
    if _period.pattern != rb"(?m)^\.":
        return False  # not the pattern this stands in for
    _protocol.normalize_message_line_endings = normalized
    if getattr(_client, "normalize_message_line_endings", None) is _normalize:
        # (SMTP.sendmail's own copy of the name, for the SIZE= it puts on MAIL FROM: 6 % of the
        # gateway process on text mail while only the protocol's copy was replaced)
        _client.normalize_message_line_endings = normalized  # type: ignore[attr-defined]
    _protocol.PERIOD_REGEX = _Periods(_period)  # type: ignore[assignment]
    return True


INSTALLED = install()
