"""Password checks shared by the console's sign-in, its API and SMTP AUTH: Argon2id hashes, a
constant-cost check for unknown users, and a throttle on failures."""

from __future__ import annotations

import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

HASHER = PasswordHasher()
# Verifying against this keeps an unknown user as slow as a wrong password (no user enumeration).
_DUMMY = HASHER.hash(secrets.token_hex(16))


def check_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; an unknown user (None) costs one verification all the same."""
    try:
        return bool(HASHER.verify(password_hash or _DUMMY, password)) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass
class Throttle:
    """At most `limit` failed sign-ins per key (address, user name) in `window` seconds."""

    limit: int = 5
    window: float = 900.0
    failures: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def blocked(self, *keys: str) -> bool:
        now = time.time()
        for key in keys:
            q = self.failures[key]
            while q and q[0] < now - self.window:
                q.popleft()
            if len(q) >= self.limit:
                return True
        return False

    def fail(self, *keys: str) -> None:
        for key in keys:
            self.failures[key].append(time.time())

    def clear(self, *keys: str) -> None:
        for key in keys:
            self.failures.pop(key, None)
