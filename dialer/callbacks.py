"""The callback URL a call request gives a provider that reports outcomes by webhook.

    {public_url}/webhooks/{provider}/{campaign callback token}

The token is the campaign's unguessable ``callback_token``: whoever POSTs to the URL must have
learnt it from us (or from the provider), which is what authenticates a webhook. An account's
own ``callback_url`` wins: then its owner receives the webhooks, not the dialer.
"""

from __future__ import annotations

from dialer.providers import PROVIDERS
from dialer.providers.account import WebhookAccount
from dialer.settings import AccountConfig, Settings

WEBHOOK_PROVIDERS = frozenset(
    kind for kind, adapter in PROVIDERS.items() if adapter.capabilities.takes_callback_url
)
"""Provider kinds that POST a call's outcome to a callback URL given with the call."""


def callback_url(settings: Settings, account: AccountConfig, token: str) -> str | None:
    """Where ``account``'s provider should POST outcomes of a campaign with ``token``; None
    when it sends no webhooks, the account sets its own ``callback_url``, or the campaign has
    no token."""
    if account.provider not in WEBHOOK_PROVIDERS or not token:
        return None
    if isinstance(account, WebhookAccount) and account.callback_url:
        return None
    return f"{settings.public_url.rstrip('/')}/webhooks/{account.provider}/{token}"
