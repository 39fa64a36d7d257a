"""API keys: every route but the page and /healthz needs one; no key, no server off loopback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from dialer.api.app import create_app
from dialer.api.auth import key_matches, keys_for_serving
from dialer.errors import ConfigError
from dialer.settings import Settings, load_settings
from tests.api.conftest import API_KEY, OTHER_KEY, api_settings

KEYED = {
    ("GET", "/accounts"),
    ("GET", "/campaigns"),
    ("POST", "/campaigns"),
    ("GET", "/campaigns/{name}"),
    *(("POST", f"/campaigns/{{name}}/{a}") for a in ("start", "pause", "resume", "cancel")),
    ("POST", "/campaigns/{name}/recycle"),
    ("GET", "/campaigns/{name}/export"),
    ("GET", "/campaigns/{name}/rejects"),
    ("GET", "/metrics"),
    # the operator console's reads and the import preview
    ("POST", "/campaigns/preview"),
    ("GET", "/campaigns/{name}/attempts"),
    ("GET", "/campaigns/{name}/calls"),
    ("GET", "/campaigns/{name}/window"),
    ("GET", "/campaigns/{name}/rejects/rows"),
    ("GET", "/campaigns/{name}/compare"),
    ("GET", "/accounts/{name}"),
    ("GET", "/outbound-webhooks/endpoints"),
    ("POST", "/outbound-webhooks/endpoints/{name}/test"),
    ("GET", "/outbound-webhooks/events"),
    ("POST", "/outbound-webhooks/events/resend-dead"),
    ("POST", "/outbound-webhooks/events/{event_id}/resend"),
}


def _public(method: str, path: str) -> bool:
    """No API key: liveness, and provider webhooks (authenticated by their campaign token)."""
    return (method, path) == ("GET", "/healthz") or path.startswith("/webhooks/")


def _operations(client: TestClient) -> set[tuple[str, str]]:
    schema = client.get("/openapi.json").json()
    return {(m.upper(), path) for path, item in schema["paths"].items() for m in item}


def test_every_route_but_the_public_ones_refuses_a_missing_or_wrong_key(
    client: TestClient,
) -> None:
    operations = _operations(client)
    assert {op for op in operations if not _public(*op)} == KEYED
    for method, path in sorted(KEYED):
        url = path.replace("{name}", "spring").replace("{event_id}", "1")
        for headers in ({"X-API-Key": ""}, {"X-API-Key": API_KEY[:-1]}, {"X-API-Key": "x" * 40}):
            response = client.request(method, url, headers=headers)
            assert (response.status_code, response.json()) == (
                401,
                {"error": "missing or wrong X-API-Key header"},
            ), (method, url)
    anonymous = TestClient(client.app)
    assert anonymous.get("/campaigns").status_code == 401
    assert anonymous.get("/healthz").json() == {"status": "ok"}
    assert "<title>dialer" in anonymous.get("/").text
    assert anonymous.get("/openapi.json").status_code == 200
    assert anonymous.get("/docs").status_code == 404


def test_the_schema_documents_the_key_on_exactly_the_protected_operations(
    client: TestClient,
) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "One of the server's api_keys (dialer.toml or DIALER_API_KEYS).",
    }
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            protected = not _public(method.upper(), path)
            assert (operation.get("security") == [{"ApiKey": []}]) is protected, (method, path)


def test_any_configured_key_works(client: TestClient) -> None:
    for key in (API_KEY, OTHER_KEY):
        assert client.get("/campaigns", headers={"X-API-Key": key}).status_code == 200


def test_key_matches_only_whole_keys() -> None:
    keys = (SecretStr(API_KEY), SecretStr(OTHER_KEY))
    assert key_matches(API_KEY, keys) and key_matches(OTHER_KEY, keys)
    for wrong in ("", API_KEY[:-1], API_KEY + "x", API_KEY.upper(), "é" * 20):
        assert not key_matches(wrong, keys)


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ((), "no api_keys configured"),
        ((SecretStr(""),), "every key must be at least 16 characters"),
        ((SecretStr(API_KEY), SecretStr("short")), "every key must be at least 16 characters"),
    ],
)
def test_create_app_refuses_missing_or_weak_keys(
    sqlite_url: str,
    sqlite_engine: Engine,
    tmp_path: Path,
    keys: tuple[SecretStr, ...],
    message: str,
) -> None:
    settings = api_settings(sqlite_url).model_copy(update={"api_keys": keys})
    with pytest.raises(ConfigError, match=message):
        create_app(settings, sqlite_engine, tmp_path)


def test_serving_without_keys_makes_one_on_loopback_only() -> None:
    bare = Settings()
    for host in ("127.0.0.1", "::1", "localhost"):
        settings, key = keys_for_serving(bare, host=host)
        assert key is not None and len(key) >= 16
        assert [k.get_secret_value() for k in settings.api_keys] == [key]
    with pytest.raises(ConfigError, match=r"refusing to serve on 0\.0\.0\.0 without a key"):
        keys_for_serving(bare, host="0.0.0.0")
    configured = bare.model_copy(update={"api_keys": (SecretStr(API_KEY),)})
    assert keys_for_serving(configured, host="0.0.0.0") == (configured, None)


def test_keys_come_from_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "dialer.toml"
    config.write_text('api_keys = ["${DIALER_API_KEY}"]\n', encoding="utf-8")
    from_file = load_settings(config, env={"DIALER_API_KEY": API_KEY})
    assert [k.get_secret_value() for k in from_file.api_keys] == [API_KEY]
    from_env = load_settings(
        config, env={"DIALER_API_KEY": "x", "DIALER_API_KEYS": f"{API_KEY}, {OTHER_KEY}"}
    )
    assert [k.get_secret_value() for k in from_env.api_keys] == [API_KEY, OTHER_KEY]


def test_dialer_serve_off_loopback_without_keys_is_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALER_")}
    result = subprocess.run(
        [sys.executable, "-m", "dialer", "serve", "--host", "0.0.0.0", "--port", "1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: no api_keys configured: refusing to serve on 0.0.0.0 without a key "
        "(set api_keys in dialer.toml or DIALER_API_KEYS, or serve on 127.0.0.1)"
    ]
