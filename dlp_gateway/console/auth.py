"""Console sign-in: server-side sessions and CSRF tokens (passwords and throttling: passwords.py)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from dlp_gateway.held import User
from dlp_gateway.passwords import check_password


def verify(user: User | None, password: str) -> bool:
    ok = check_password(user.password_hash if user else None, password)
    return ok and user is not None and not user.disabled


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
