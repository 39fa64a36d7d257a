"""OAuth2 access tokens issued by the sandbox's stand-in for libby-legacy's Cognito endpoint.

A token is valid until its expiry (monotonic seconds) and carries the scopes it was asked for.
Tokens are forgotten once expired (checked as new ones are issued) and, past a hard bound, oldest
first, so issuing on every request cannot exhaust memory.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass

MAX_TOKENS = 100_000


@dataclass(frozen=True, slots=True)
class Grant:
    expires: float
    scopes: frozenset[str]


class TokenBook:
    def __init__(self, limit: int = MAX_TOKENS) -> None:
        self._grants: OrderedDict[str, Grant] = OrderedDict()
        self._limit = limit

    def issue(self, scopes: frozenset[str], *, ttl: float, now: float) -> str:
        self._forget_expired(now)
        token = secrets.token_urlsafe(32)
        self._grants[token] = Grant(now + ttl, scopes)
        while len(self._grants) > self._limit:
            self._grants.popitem(last=False)
        return token

    def scopes(self, token: str, *, now: float) -> frozenset[str] | None:
        """The scopes of a live token issued here, or None if unknown or expired."""
        grant = self._grants.get(token)
        if grant is None or grant.expires <= now:
            return None
        return grant.scopes

    def _forget_expired(self, now: float) -> None:
        # Insertion order is nearly expiry order (the TTL rarely changes), so stop at the first
        # live token rather than scanning everything on every issue.
        while self._grants:
            token, grant = next(iter(self._grants.items()))
            if grant.expires > now:
                return
            del self._grants[token]
