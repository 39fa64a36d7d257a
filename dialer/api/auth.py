"""API keys: the ``X-API-Key`` header, checked against every configured key in constant time.

Every route needs a key except the upload page ``/`` (it asks for the key and sends it),
``/healthz`` and the schema ``/openapi.json``. A key travels in a header, never a cookie, so
no other web page can make a browser call the API (no CSRF); the API sends no CORS headers.

Serving: with ``api_keys`` configured they are the keys. With none, ``dialer serve`` on a
loopback address makes one random key for that run and prints it; on any other address it
refuses to start, since anyone who can reach the port could place calls.
"""

from __future__ import annotations

import hmac
import math
import secrets
from collections import Counter
from collections.abc import Sequence
from typing import Annotated

from fastapi import Request, Security
from fastapi.params import Depends
from fastapi.security import APIKeyHeader
from pydantic import SecretStr

from dialer.api.context import get_context
from dialer.api.errors import ApiError
from dialer.errors import ConfigError
from dialer.settings import Settings

HEADER = "X-API-Key"
MIN_KEY_LENGTH = 16
MIN_KEY_BITS = 48
MIN_DISTINCT = 8
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})

_scheme = APIKeyHeader(
    name=HEADER,
    auto_error=False,
    scheme_name="ApiKey",
    description="One of the server's api_keys (dialer.toml or DIALER_API_KEYS).",
)


def check_keys(keys: Sequence[SecretStr]) -> None:
    """ConfigError unless there is at least one key and no key is easy to guess."""
    if not keys:
        raise ConfigError("no api_keys configured: set api_keys in dialer.toml or DIALER_API_KEYS")
    if any(len(key.get_secret_value()) < MIN_KEY_LENGTH for key in keys):
        raise ConfigError(
            f"api_keys: every key must be at least {MIN_KEY_LENGTH} characters "
            "(make one with `dialer keygen`)"
        )
    if any(is_guessable(key.get_secret_value()) for key in keys):
        raise ConfigError(
            "api_keys: a key is too easy to guess (few distinct characters or a repeated "
            "pattern); make one with `dialer keygen`"
        )


def is_guessable(key: str) -> bool:
    """True when ``key`` holds less than :data:`MIN_KEY_BITS` by a generous estimate: its
    length times the Shannon entropy of its characters, counting a key that repeats a shorter
    pattern (``abcabc...``) as that pattern alone. A random key from ``dialer keygen`` holds
    about 190 bits by this estimate; ``aaaa...`` holds none."""
    unit = next(
        (key[:period] for period in range(1, len(key) // 2 + 1) if _repeats(key, period)), key
    )
    counts = Counter(unit)
    per_char = -sum(n / len(unit) * math.log2(n / len(unit)) for n in counts.values())
    return len(counts) < MIN_DISTINCT or per_char * len(unit) < MIN_KEY_BITS


def _repeats(key: str, period: int) -> bool:
    return all(key[i] == key[i - period] for i in range(period, len(key)))


def key_matches(given: str, keys: Sequence[SecretStr]) -> bool:
    """True if ``given`` is one of ``keys``. Compares with every key, whatever matches, so the
    time taken says nothing about which key (or how much of one) was right."""
    given_bytes = given.encode()
    found = False
    for key in keys:
        found |= hmac.compare_digest(given_bytes, key.get_secret_value().encode())
    return found


def require_key(request: Request, given: Annotated[str | None, Security(_scheme)]) -> None:
    """Dependency of every authenticated router: 401 unless the header holds a valid key."""
    if given is None or not key_matches(given, get_context(request).settings.api_keys):
        raise ApiError(401, f"missing or wrong {HEADER} header")


AUTHENTICATED: list[Depends] = [Security(require_key)]
"""``dependencies=`` for a router whose every route needs a key."""


def keys_for_serving(settings: Settings, *, host: str) -> tuple[Settings, str | None]:
    """The settings to serve with on ``host``, and the key made for this run if one was.

    Configured keys are used as they are; with none, a loopback host gets one random key and
    any other host a ConfigError.
    """
    if settings.api_keys:
        return settings, None
    if host not in LOOPBACK_HOSTS:
        raise ConfigError(
            f"no api_keys configured: refusing to serve on {host} without a key "
            "(set api_keys in dialer.toml or DIALER_API_KEYS, or serve on 127.0.0.1)"
        )
    key = secrets.token_urlsafe(24)
    return settings.model_copy(update={"api_keys": (SecretStr(key),)}), key
