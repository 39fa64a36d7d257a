"""The callback URL a call request gives a provider that reports outcomes by webhook."""

from __future__ import annotations

from typing import Any

from dialer.callbacks import callback_url
from dialer.settings import AccountConfig, Settings


def _account(provider: str, **fields: Any) -> AccountConfig:
    required: dict[str, dict[str, str]] = {
        "allomia": {"api_key": "k", "assistant_id": "a", "phone_number_id": "p"},
        "trillet": {"workspace_id": "w", "agent_id": "a"},
        "polyai": {"token": "t"},
    }
    return AccountConfig.model_validate(
        {"name": provider, "provider": provider, **required[provider], **fields}
    )


def test_callback_url_carries_provider_and_token_unless_the_account_sets_its_own() -> None:
    settings = Settings(public_url="https://dialer.example.com/")
    token = "T" * 32
    assert (
        callback_url(settings, _account("allomia"), token)
        == f"https://dialer.example.com/webhooks/allomia/{token}"
    )
    assert callback_url(settings, _account("trillet"), token) == (
        f"https://dialer.example.com/webhooks/trillet/{token}"
    )
    own = _account("allomia", callback_url="https://crm.example.com/hook")
    assert callback_url(settings, own, token) is None
    assert callback_url(settings, _account("polyai"), token) is None
    assert callback_url(settings, _account("allomia"), "") is None
