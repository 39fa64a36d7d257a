"""``[[webhooks]]`` in dialer.toml: the customer's endpoints and what each wants sent.

```toml
[[webhooks]]
name = "crm"                              # default: the URL's host
url = "https://crm.example.com/dialer-events"
secret = "${DIALER_WEBHOOK_SECRET}"       # whsec_<base64>, Standard Webhooks format
events = ["call.placed", "call.outcome"]  # default: every event type
include_lead = true                       # the lead's own columns in call events
```

A URL may carry credentials (``https://user:pass@host/...``, ``?token=...``): anything that
shows an endpoint (logs, errors, the CLI, the API) shows :func:`masked_url` of it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Sequence
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, model_validator

from dialer.errors import ConfigError
from dialer.webhooks.events import EventType

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
_MASK = "***"


def masked_url(url: str) -> str:
    """``url`` with its user info and every query value replaced by ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{_MASK}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        query = urlencode(
            [(key, _MASK) for key, _ in parse_qsl(query, keep_blank_values=True)], safe="*"
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _check_secret(secret: SecretStr) -> SecretStr:
    value = secret.get_secret_value()
    if not value.startswith(SECRET_PREFIX):
        raise ValueError(f"a webhook secret starts with {SECRET_PREFIX} (Standard Webhooks)")
    try:
        key = base64.b64decode(value.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"a webhook secret is {SECRET_PREFIX} then base64") from None
    if len(key) < 24:
        raise ValueError("a webhook secret holds at least 24 bytes (32 recommended)")
    return secret


class WebhookEndpoint(BaseModel):
    """One ``[[webhooks]]`` block."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="", max_length=100, pattern=r"^[A-Za-z0-9_.-]*$")
    url: str
    secret: Annotated[SecretStr, AfterValidator(_check_secret)]
    events: tuple[EventType, ...] = tuple(EventType)
    include_lead: bool = False
    timeout: float = Field(default=10.0, gt=0, le=60, description="seconds per request")
    concurrency: int = Field(
        default=4, ge=1, le=64, description="requests in flight to this endpoint per process"
    )

    @model_validator(mode="after")
    def _check(self) -> WebhookEndpoint:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"webhook url {masked_url(self.url)!r} is not an http(s) URL")
        if not self.events:
            raise ValueError("a webhook needs at least one event")
        if not self.name:
            object.__setattr__(self, "name", parts.hostname)
        return self

    @property
    def shown_url(self) -> str:
        """The URL as it may be shown: credentials masked."""
        return masked_url(self.url)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for key, value in super().__repr_args__():
            yield key, (self.shown_url if key == "url" else value)


def _unique_names(endpoints: tuple[WebhookEndpoint, ...]) -> tuple[WebhookEndpoint, ...]:
    names = [endpoint.name for endpoint in endpoints]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"two webhooks named {twice[0]!r}: give each a distinct name")
    return endpoints


WebhookEndpoints = Annotated[tuple[WebhookEndpoint, ...], AfterValidator(_unique_names)]
"""The ``webhooks`` field of :class:`dialer.settings.Settings`."""


def find_endpoint(endpoints: Sequence[WebhookEndpoint], name: str) -> WebhookEndpoint:
    """The endpoint called ``name``; ConfigError naming the configured ones otherwise."""
    for endpoint in endpoints:
        if endpoint.name == name:
            return endpoint
    known = ", ".join(sorted(endpoint.name for endpoint in endpoints)) or "none"
    raise ConfigError(f"no webhook named {name!r} (configured: {known})")
