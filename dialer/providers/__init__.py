"""Provider adapters: one module per provider, each bound to an ``httpx.Client`` from outside.

    build_provider(account, client)   the adapter for an account (ConfigError if unusable)
    default_base_url(kind)            the provider's documented host, when base_url is unset

The interface is :class:`~dialer.providers.base.CallProvider`; :mod:`dialer.providers.http`
is the one place that sends a request and classifies the answer.
"""

from __future__ import annotations

import httpx

from dialer.errors import ConfigError
from dialer.providers.allomia import AllomiaProvider
from dialer.providers.base import (
    ATTEMPT_FIELD,
    CAMPAIGN_FIELD,
    CallProvider,
    CallRequest,
    Messages,
    PlaceResult,
)
from dialer.providers.http import HttpProvider
from dialer.providers.libby import LibbyProvider
from dialer.providers.libby_legacy import LibbyLegacyProvider, TokenSource
from dialer.providers.polyai import PolyaiProvider
from dialer.providers.sandbox import SandboxProvider
from dialer.providers.trillet import TrilletProvider
from dialer.settings import AccountConfig

__all__ = [
    "ATTEMPT_FIELD",
    "CAMPAIGN_FIELD",
    "PROVIDERS",
    "AllomiaProvider",
    "CallProvider",
    "CallRequest",
    "LibbyLegacyProvider",
    "LibbyProvider",
    "Messages",
    "PlaceResult",
    "PolyaiProvider",
    "SandboxProvider",
    "TokenSource",
    "TrilletProvider",
    "build_provider",
    "default_base_url",
]

PROVIDERS: dict[str, type[HttpProvider]] = {
    adapter.kind: adapter
    for adapter in (
        LibbyProvider,
        LibbyLegacyProvider,
        AllomiaProvider,
        TrilletProvider,
        PolyaiProvider,
        SandboxProvider,
    )
}
"""Every adapter class by ``provider`` kind, as written in ``dialer.toml``."""


def _adapter(kind: str) -> type[HttpProvider]:
    try:
        return PROVIDERS[kind]
    except KeyError:
        raise ConfigError(f"unknown provider {kind!r} (known: {', '.join(PROVIDERS)})") from None


def build_provider(account: AccountConfig, client: httpx.Client) -> CallProvider:
    """The adapter for ``account``, sending on ``client`` (which the caller owns and closes)."""
    return _adapter(account.provider)(account, client)


def default_base_url(kind: str) -> str:
    """Where ``kind``'s requests go when the account sets no ``base_url``."""
    return _adapter(kind).default_base_url
