"""An ``[accounts.NAME]`` block is checked against its own provider's fields only, and a bad
one is one line naming them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from dialer.errors import ConfigError
from dialer.providers import PROVIDERS
from dialer.providers.account import AccountConfig
from dialer.providers.libby import LibbyAccount
from dialer.providers.sandbox import SandboxAccount
from dialer.providers.trillet import TrilletAccount
from dialer.settings import Settings, load_settings

COMMON = (
    "base_url, rate, timeout, max_attempts, backoff_seconds, sending_threads, concurrent_calls, "
    "call_lease, outage_pause"
)


def config_error(tmp_path: Path, block: str) -> str:
    config = tmp_path / "dialer.toml"
    config.write_text(f"[accounts.gym]\n{block}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, env={})
    prefix = f"{config}: "
    assert str(caught.value).startswith(prefix)
    return str(caught.value).removeprefix(prefix)


def test_a_missing_field_is_named_with_its_provider(tmp_path: Path) -> None:
    block = 'provider = "libby"\napi_key = "k"'
    assert config_error(tmp_path, block) == "accounts.gym: provider libby needs agent_id"
    block = 'provider = "libby-legacy"\nclient_id = "c"'
    assert config_error(tmp_path, block) == (
        "accounts.gym: provider libby-legacy needs client_secret, from_number"
    )


def test_another_providers_field_is_refused_naming_this_providers_fields(tmp_path: Path) -> None:
    block = 'provider = "libby"\napi_key = "k"\nagent_id = "a"\ntoken = "polyai-token"'
    assert config_error(tmp_path, block) == (
        f"accounts.gym: libby has no field 'token' (libby's fields: api_key, agent_id; "
        f"any account's: {COMMON})"
    )
    block = 'provider = "polyai"\ntoken = "t"\ncallback_url = "https://x"\nagent_id = "a"'
    assert config_error(tmp_path, block) == (
        "accounts.gym: polyai has no field 'callback_url', 'agent_id' (polyai's fields: "
        f"token, encryption; any account's: {COMMON})"
    )
    assert config_error(tmp_path, 'provider = "sandbox"\napi_key = "k"') == (
        f"accounts.gym: sandbox has no field 'api_key' (sandbox's fields: none; "
        f"any account's: {COMMON})"
    )


@pytest.mark.parametrize("kind", sorted(PROVIDERS))
def test_every_field_of_every_other_provider_is_refused(kind: str) -> None:
    own = PROVIDERS[kind].account_model
    foreign = {
        name
        for other in PROVIDERS.values()
        for name in other.account_model.own_fields()
        if name not in own.model_fields
    }
    for name in sorted(foreign):
        with pytest.raises(ValidationError, match=f"{kind} has no field '{name}'"):
            AccountConfig.model_validate({"provider": kind, name: "x"})


def test_the_provider_tag_is_not_part_of_the_location(tmp_path: Path) -> None:
    block = 'provider = "libby"\napi_key = "k"\nagent_id = "a"\ntimeout = -1'
    assert config_error(tmp_path, block) == "accounts.gym.timeout: Input should be greater than 0"
    block = 'provider = "sandbox"\nrate = "fast"'
    assert config_error(tmp_path, block) == (
        "accounts.gym: rate 'fast' is not of the form '10/s', '600/m' or 'unlimited'"
    )


def test_an_unknown_or_missing_provider_is_one_line(tmp_path: Path) -> None:
    assert config_error(tmp_path, 'provider = "vonage"') == (
        "accounts.gym.provider: 'vonage' is not one of "
        "'libby', 'libby-legacy', 'allomia', 'trillet', 'polyai', 'sandbox'"
    )
    assert config_error(tmp_path, 'rate = "5/s"') == "accounts.gym.provider: Field required"


def test_account_config_builds_the_model_of_the_provider_it_names() -> None:
    built = AccountConfig(name="gym", provider="libby", api_key="k", agent_id="a")
    assert type(built) is LibbyAccount
    assert built.api_key.get_secret_value() == "k"
    validated = AccountConfig.model_validate({"provider": "trillet", **_trillet()})
    assert type(validated) is TrilletAccount
    assert type(validated.model_copy(update={"name": "x"})) is TrilletAccount
    assert type(AccountConfig(provider="sandbox")) is SandboxAccount
    with pytest.raises(ValidationError, match="unknown provider 'vonage'"):
        AccountConfig(provider="vonage")
    with pytest.raises(ValidationError, match="provider libby needs agent_id"):
        AccountConfig(provider="libby", api_key="k")


def test_settings_name_each_account_and_default_to_the_sandbox() -> None:
    settings = Settings.model_validate({"accounts": {"t": {"provider": "trillet", **_trillet()}}})
    assert settings.account("t").name == "t"
    assert type(settings.account("t")) is TrilletAccount
    (default,) = Settings().accounts.values()
    assert type(default) is SandboxAccount
    assert (default.name, default.rate_per_second) == ("sandbox", 50.0)


def _trillet() -> dict[str, str]:
    return {"workspace_id": "w", "agent_id": "a"}
