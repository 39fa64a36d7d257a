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
import secrets
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
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})

_scheme = APIKeyHeader(
    name=HEADER,
    auto_error=False,
    scheme_name="ApiKey",
    description="One of the server's api_keys (dialer.toml or DIALER_API_KEYS).",
)


def check_keys(keys: Sequence[SecretStr]) -> None:
    """ConfigError unless there is at least one key and every key is long enough to guess."""
    if not keys:
        raise ConfigError("no api_keys configured: set api_keys in dialer.toml or DIALER_API_KEYS")
    if any(len(key.get_secret_value()) < MIN_KEY_LENGTH for key in keys):
        raise ConfigError(f"api_keys: every key must be at least {MIN_KEY_LENGTH} characters")


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
