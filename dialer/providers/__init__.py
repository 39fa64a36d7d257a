"""The provider registry: one module per provider, one line each in :data:`PROVIDERS`.

    build_provider(account, client)   the adapter for an account (ConfigError if unusable);
                                      client None: one that checks requests, never sends
    default_base_url(kind)            the provider's documented host, when base_url is unset
    AnyAccount, ACCOUNTS              the ``[accounts.NAME]`` block of every provider: a
                                      discriminated union on ``provider``

A provider module holds everything the dialer knows about that provider: its account model,
its wire format, its status words and its capabilities (see
:class:`~dialer.providers.http.HttpProvider`). ``docs/providers.md`` is the recipe for a new
one. The interface is :class:`~dialer.providers.base.CallProvider`; :mod:`dialer.providers.http`
is the one place that sends a request and classifies the answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, Union

from pydantic import Field, TypeAdapter

from dialer.errors import ConfigError
from dialer.providers.account import AccountConfig
from dialer.providers.allomia import AllomiaProvider
from dialer.providers.base import (
    ATTEMPT_FIELD,
    CAMPAIGN_FIELD,
    CallProvider,
    CallRequest,
    Capabilities,
    Messages,
    PlaceResult,
)
from dialer.providers.http import HttpProvider
from dialer.providers.libby import LibbyProvider
from dialer.providers.libby_legacy import LibbyLegacyProvider, TokenSource
from dialer.providers.polyai import PolyaiProvider
from dialer.providers.sandbox import SandboxProvider
from dialer.providers.trillet import TrilletProvider

if TYPE_CHECKING:
    import httpx  # imported where requests are sent: loading settings needs none

__all__ = [
    "ACCOUNTS",
    "ATTEMPT_FIELD",
    "CAMPAIGN_FIELD",
    "PROVIDERS",
    "AccountConfig",
    "AllomiaProvider",
    "AnyAccount",
    "CallProvider",
    "CallRequest",
    "Capabilities",
    "LibbyLegacyProvider",
    "LibbyProvider",
    "Messages",
    "PlaceResult",
    "PolyaiProvider",
    "SandboxProvider",
    "TokenSource",
    "TrilletProvider",
    "account_model",
    "build_provider",
    "default_base_url",
]

PROVIDERS: dict[str, type[HttpProvider[Any]]] = {
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
"""Every provider by ``provider`` kind, as written in ``dialer.toml``."""

if TYPE_CHECKING:
    # What code may rely on without naming a provider: the fields every account has.
    AnyAccount: TypeAlias = AccountConfig
else:
    AnyAccount = Annotated[
        Union[tuple(adapter.account_model for adapter in PROVIDERS.values())],  # noqa: UP007
        Field(discriminator="provider"),
    ]
"""One ``[accounts.NAME]`` block, validated against its own provider's model only."""

ACCOUNTS: TypeAdapter[AnyAccount] = TypeAdapter(AnyAccount)
"""Validates one block as :data:`AnyAccount` (``AccountConfig.model_validate`` uses it)."""


def account_model(kind: str) -> type[AccountConfig] | None:
    """The account model of provider ``kind``, None for a kind no provider has."""
    adapter = PROVIDERS.get(kind)
    return None if adapter is None else adapter.account_model


def _adapter(kind: str) -> type[HttpProvider[Any]]:
    try:
        return PROVIDERS[kind]
    except KeyError:
        raise ConfigError(f"unknown provider {kind!r} (known: {', '.join(PROVIDERS)})") from None


def build_provider(account: AccountConfig, client: httpx.Client | None) -> CallProvider:
    """The adapter for ``account``, sending on ``client`` (which the caller owns and closes);
    with ``client`` None, an adapter to check requests with, which cannot send. ConfigError
    when the account lacks a field its provider needs (one built without validation, as
    settings never are)."""
    adapter = _adapter(account.provider)
    missing = [
        name
        for name, field in adapter.account_model.model_fields.items()
        if field.is_required() and getattr(account, name, None) is None
    ]
    if missing:
        needs = ", ".join(missing)
        raise ConfigError(f"account {account.name!r} ({account.provider}) needs {needs}")
    return adapter(account, client)


def default_base_url(kind: str) -> str:
    """Where ``kind``'s requests go when the account sets no ``base_url``."""
    return _adapter(kind).default_base_url
