"""Account settings printed anywhere show no credential: Trillet's ``workspace_id`` included.

Trillet authenticates a call with the ``x-workspace-id`` header (its ``x-api-key`` is
optional), so the workspace id is a credential like the others: masked in the account's and
the settings' repr, in ``GET /accounts``, and out of whatever a provider echoes back into an
error, a stored body or a log line.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from dialer.api.app import create_app
from dialer.errors import ConfigError, ProviderError
from dialer.ledger.engine import make_engine
from dialer.providers import CallRequest, build_provider
from dialer.settings import Settings, load_settings

WORKSPACE = "ws-SECRET-4d2e9a"
API_KEY = "api-key-for-the-test-0123456789"
BLOCK = {"provider": "trillet", "workspace_id": WORKSPACE, "agent_id": "agent-1"}


def settings_with_trillet(**changes: object) -> Settings:
    return Settings.model_validate(
        {"accounts": {"tri": {**BLOCK, **changes}}, "api_keys": [SecretStr(API_KEY)]}
    )


def test_the_workspace_id_is_masked_in_every_print_of_the_settings() -> None:
    settings = settings_with_trillet()
    account = settings.account("tri")
    for text in (
        repr(settings),
        str(settings),
        repr(account),
        str(account),
        settings.model_dump_json(),
        str(account.model_dump(mode="json")),
    ):
        assert WORKSPACE not in text


def test_get_accounts_shows_no_workspace_id(sqlite_url: str, tmp_path: Path) -> None:
    engine = make_engine(sqlite_url)
    settings = settings_with_trillet().model_copy(update={"database_url": sqlite_url})
    app = create_app(settings, engine, tmp_path / "files")
    with TestClient(app, headers={"X-API-Key": API_KEY}) as client:
        answer = client.get("/accounts")
    engine.dispose()
    assert answer.status_code == 200
    assert answer.json() == [{"name": "tri", "provider": "trillet", "messages": []}]
    assert WORKSPACE not in answer.text


@pytest.mark.parametrize("status", [200, 400, 401, 422, 500])
def test_an_echoed_workspace_id_is_masked_out_of_errors_bodies_and_logs(
    status: int, caplog: pytest.LogCaptureFixture
) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        text = f"you sent {dict(request.headers)}"
        return httpx.Response(status, json={"message": text, "callId": "c-1"})

    caplog.set_level(logging.DEBUG)
    account = settings_with_trillet().account("tri")
    request = CallRequest(attempt_key="k", campaign="c", phone="+15551234567")
    texts: list[str] = []
    with httpx.Client(transport=httpx.MockTransport(echo)) as client:
        provider = build_provider(account, client)
        texts.append(repr(provider))
        try:
            result = provider.place(request)
        except ProviderError as exc:
            texts += [str(exc), repr(exc), exc.body, *traceback.format_exception(exc)]
        else:
            texts += [result.body, repr(result)]
    texts += [caplog.text, *(record.getMessage() for record in caplog.records)]
    assert [text for text in texts if WORKSPACE in text] == []


def test_a_config_error_on_a_trillet_block_does_not_repeat_the_workspace_id(
    tmp_path: Path,
) -> None:
    config = tmp_path / "dialer.toml"
    config.write_text(
        f'[accounts.tri]\nprovider = "trillet"\nworkspace_id = "{WORKSPACE}"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config, env={})
    assert WORKSPACE not in str(caught.value)
    assert str(caught.value) == f"{config}: accounts.tri: provider trillet needs agent_id"
