"""Console sign-in: Argon2id password hashes, server-side sessions, CSRF tokens, login throttling."""

from __future__ import annotations

import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from dlp_gateway.quarantine.store import User

HASHER = PasswordHasher()
# Verifying against this keeps an unknown user as slow as a wrong password (no user enumeration).
_DUMMY = HASHER.hash(secrets.token_hex(16))


def verify(user: User | None, password: str) -> bool:
    try:
        ok = HASHER.verify(user.password_hash if user else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return False
    return bool(ok and user is not None and not user.disabled)


@dataclass
class Session:
    user: str
    role: str
    csrf: str
    expires: float


@dataclass
class Sessions:
    """In-process sessions: each gateway instance signs its reviewers in on its own."""

    lifetime: float
    items: dict[str, Session] = field(default_factory=dict)

    def create(self, user: User) -> str:
        token = secrets.token_urlsafe(32)
        self.items[token] = Session(user.name, user.role, secrets.token_urlsafe(24), time.time() + self.lifetime)
        return token

    def get(self, token: str | None) -> Session | None:
        session = self.items.get(token or "")
        if session is None or session.expires < time.time():
            self.items.pop(token or "", None)
            return None
        return session

    def drop(self, token: str | None) -> None:
        self.items.pop(token or "", None)


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
