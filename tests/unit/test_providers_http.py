"""dialer.providers.http: how every adapter's request is sent and its answer classified."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from dialer.errors import (
    AccountBroken,
    AmbiguousOutcome,
    ConfigError,
    RejectedByProvider,
    RetryableProviderError,
)
from dialer.providers import (
    PROVIDERS,
    AllomiaProvider,
    CallRequest,
    LibbyLegacyProvider,
    LibbyProvider,
    PlaceResult,
    PolyaiProvider,
    SandboxProvider,
    TrilletProvider,
    build_provider,
    default_base_url,
)
from dialer.providers.http import BODY_LIMIT, HttpProvider, classify, endpoint, provider_text, send
from dialer.settings import SANDBOX_URL, AccountConfig

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
URL = "https://provider.test/call"


def answer(status: int, **kwargs: Any) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("POST", URL), **kwargs)


def classify_answer(response: httpx.Response) -> PlaceResult:
    return classify(response, provider="acme", call_id_fields=("id",), now=NOW)


def post(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Response:
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        return send(client, URL, provider="acme", headers={}, json={})


# --- 2xx -----------------------------------------------------------------------------------


def test_2xx_is_placed_with_the_call_id() -> None:
    result = classify_answer(answer(201, json={"id": "C-1", "status": "queued"}))
    assert result.provider_call_id == "C-1"
    assert result.http_status == 201
    assert result.body == '{"id":"C-1","status":"queued"}'


@pytest.mark.parametrize(
    "body",
    [b"<html>ok</html>", b"", b'["C-1"]', b'{"other": 1}', b'{"id": null}', b'{"id": true}'],
)
def test_2xx_without_the_expected_json_is_still_placed_without_id(body: bytes) -> None:
    result = classify_answer(answer(200, content=body))
    assert result.provider_call_id is None
    assert result.body == body.decode()


def test_numeric_call_id_becomes_text() -> None:
    assert classify_answer(answer(200, json={"id": 42})).provider_call_id == "42"


def test_body_is_trimmed() -> None:
    result = classify_answer(answer(200, text="x" * 10_000))
    assert len(result.body) == BODY_LIMIT


def test_call_id_fields_are_tried_in_order() -> None:
    response = answer(200, json={"call_id": "B", "callId": "A"})
    result = classify(response, provider="acme", call_id_fields=("callId", "call_id"))
    assert result.provider_call_id == "A"


# --- retryable -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_5xx_and_429_are_retryable(status: int) -> None:
    with pytest.raises(RetryableProviderError) as caught:
        classify_answer(answer(status, json={"error": "busy"}))
    assert caught.value.status == status
    assert caught.value.retry_at is None
    assert str(caught.value) == f"acme: HTTP {status}: busy"


def test_retry_after_in_seconds() -> None:
    with pytest.raises(RetryableProviderError) as caught:
        classify_answer(answer(429, headers={"Retry-After": "30"}))
    assert caught.value.retry_at == NOW + timedelta(seconds=30)


def test_retry_after_as_http_date() -> None:
    with pytest.raises(RetryableProviderError) as caught:
        classify_answer(answer(503, headers={"Retry-After": "Tue, 04 Mar 2025 12:05:00 GMT"}))
    assert caught.value.retry_at == NOW + timedelta(minutes=5)


def test_unreadable_retry_after_is_ignored() -> None:
    with pytest.raises(RetryableProviderError) as caught:
        classify_answer(answer(503, headers={"Retry-After": "soon"}))
    assert caught.value.retry_at is None


# --- rejected ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 404, 409, 422, 301, 307])
def test_other_answers_are_rejections(status: int) -> None:
    with pytest.raises(RejectedByProvider) as caught:
        classify_answer(answer(status, json={"message": "Agent not found for this number"}))
    assert type(caught.value) is RejectedByProvider
    assert str(caught.value) == f"acme: HTTP {status}: Agent not found for this number"
    assert caught.value.body == '{"message":"Agent not found for this number"}'


@pytest.mark.parametrize("status", [401, 403])
def test_401_and_403_break_the_account(status: int) -> None:
    with pytest.raises(AccountBroken) as caught:
        classify_answer(answer(status, json={"error": "Invalid or missing API key"}))
    assert caught.value.status == status
    assert str(caught.value) == f"acme: HTTP {status}: Invalid or missing API key"


@pytest.mark.parametrize(
    ("response", "text"),
    [
        (
            answer(
                400,
                json={
                    "error": "Invalid request data",
                    "details": [
                        {"field": "phoneNumber", "message": "too short", "code": "too_small"},
                        {"field": "assistantId", "message": "Invalid uuid"},
                    ],
                },
            ),
            "Invalid request data (phoneNumber: too short; assistantId: Invalid uuid)",
        ),
        (answer(400, json={"details": [{"field": "to", "message": "bad"}]}), "to: bad"),
        (answer(400, json={"detail": "Field required"}), "Field required"),
        (answer(400, json={"error": "", "message": "m"}), "m"),
        (answer(400, text="plain\n  words  "), "plain words"),
        (answer(400, json={"unexpected": 1}), '{"unexpected":1}'),
        (answer(404), "Not Found"),
        (answer(400, text="y" * 900), "y" * 500),
    ],
)
def test_provider_text(response: httpx.Response, text: str) -> None:
    assert provider_text(response) == text


# --- transport -----------------------------------------------------------------------------


def raising(exc_type: type[httpx.TransportError]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type("[Errno 111] boom", request=request)

    return handler


@pytest.mark.parametrize("exc_type", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
def test_nothing_sent_is_retryable(exc_type: type[httpx.TransportError]) -> None:
    with pytest.raises(RetryableProviderError) as caught:
        post(raising(exc_type))
    assert str(caught.value) == f"acme: could not connect ({exc_type.__name__}: [Errno 111] boom)"
    assert caught.value.status is None
    assert isinstance(caught.value.__cause__, exc_type)


@pytest.mark.parametrize(
    "exc_type",
    [
        httpx.ReadTimeout,
        httpx.ReadError,
        httpx.RemoteProtocolError,
        httpx.WriteTimeout,
        httpx.WriteError,
        httpx.LocalProtocolError,
        httpx.ProxyError,
    ],
)
def test_anything_after_connecting_is_ambiguous(exc_type: type[httpx.TransportError]) -> None:
    with pytest.raises(AmbiguousOutcome) as caught:
        post(raising(exc_type))
    assert str(caught.value).startswith(f"acme: no answer after sending ({exc_type.__name__}")


def test_secrets_are_masked_out_of_transport_error_text() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("peer said: bad key k-SECRET", request=request)

    with (
        httpx.Client(transport=httpx.MockTransport(handler)) as client,
        pytest.raises(AmbiguousOutcome) as caught,
    ):
        send(client, URL, provider="acme", headers={}, secrets=("k-SECRET",))
    assert str(caught.value) == "acme: no answer after sending (ReadError: peer said: bad key ***)"


def test_send_passes_headers_and_body_with_the_clients_timeouts() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    timeout = httpx.Timeout(2.5, connect=0.5)
    with httpx.Client(transport=httpx.MockTransport(handler), timeout=timeout) as client:
        send(client, URL, provider="acme", headers={"x-k": "v"}, json={"a": "é"})
    (request,) = seen
    assert request.method == "POST"
    assert request.headers["x-k"] == "v"
    assert request.headers["content-type"] == "application/json"
    assert request.content == '{"a":"é"}'.encode()
    assert request.extensions["timeout"] == timeout.as_dict()


# --- endpoints and the registry ------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "url"),
    [
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000/v1/api/call"),
        ("http://127.0.0.1:9000/", "http://127.0.0.1:9000/v1/api/call"),
        ("https://proxy.test/trillet", "https://proxy.test/trillet/v1/api/call"),
    ],
)
def test_base_url_replaces_the_host_and_keeps_the_path(base: str, url: str) -> None:
    assert endpoint(base, "/v1/api/call") == url


@pytest.mark.parametrize("base", ["api.trillet.ai", "ftp://host", "", "http://"])
def test_unusable_base_url_is_a_config_error(base: str) -> None:
    with pytest.raises(ConfigError, match="base_url"):
        endpoint(base, "/x")


ACCOUNTS = {
    "libby": AccountConfig(provider="libby", api_key="k", agent_id="a"),
    "libby-legacy": AccountConfig(
        provider="libby-legacy", client_id="c", client_secret="s", from_number="+15550000000"
    ),
    "allomia": AccountConfig(
        provider="allomia", api_key="k", assistant_id="a", phone_number_id="p"
    ),
    "trillet": AccountConfig(provider="trillet", workspace_id="w", agent_id="a"),
    "polyai": AccountConfig(provider="polyai", token="t"),
    "sandbox": AccountConfig(provider="sandbox"),
}
CLASSES: dict[str, tuple[type[HttpProvider], str]] = {
    "libby": (LibbyProvider, "https://api.heylibby.com/api/v1/outbound/call"),
    "libby-legacy": (LibbyLegacyProvider, "https://phone.mylibby.ai/outbound"),
    "allomia": (AllomiaProvider, "https://allomia.com/api/outbound"),
    "trillet": (TrilletProvider, "https://api.trillet.ai/v1/api/call"),
    "polyai": (PolyaiProvider, "https://api.us-1.platform.polyai.app/v1/outbound-calling"),
    "sandbox": (SandboxProvider, f"{SANDBOX_URL}/sandbox/call"),
}


@pytest.mark.parametrize("kind", sorted(CLASSES))
def test_build_provider_picks_the_adapter_and_its_documented_url(kind: str) -> None:
    cls, url = CLASSES[kind]
    with httpx.Client() as client:
        adapter = build_provider(ACCOUNTS[kind], client)
    assert isinstance(adapter, cls)
    assert type(adapter) is cls
    assert adapter.kind == kind
    assert adapter.url == url
    assert url.startswith(default_base_url(kind))


@pytest.mark.parametrize("kind", sorted(CLASSES))
def test_base_url_overrides_the_host(kind: str) -> None:
    account = ACCOUNTS[kind].model_copy(update={"base_url": "http://127.0.0.1:9999"})
    with httpx.Client() as client:
        adapter = build_provider(account, client)
    assert isinstance(adapter, HttpProvider)
    assert adapter.url == "http://127.0.0.1:9999" + CLASSES[kind][0].path


@pytest.mark.parametrize("kind", sorted(CLASSES))
def test_an_adapter_built_without_a_client_checks_and_cannot_send(kind: str) -> None:
    """The import checks its rows with such an adapter: no ``httpx.Client`` to make."""
    adapter = build_provider(ACCOUNTS[kind], None)
    request = CallRequest("a", "c", "+12125552671")
    with httpx.Client() as client:
        assert adapter.check(request) == build_provider(ACCOUNTS[kind], client).check(request)
    with pytest.raises(RuntimeError, match="built to check requests: it sends nothing"):
        adapter.place(request)


def test_every_configurable_provider_has_an_adapter() -> None:
    assert set(PROVIDERS) == set(ACCOUNTS)


def test_unknown_kind_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown provider 'vonage'"):
        default_base_url("vonage")


def test_missing_credential_is_a_config_error() -> None:
    account = AccountConfig.model_construct(provider="polyai", name="p", token=None)
    with httpx.Client() as client, pytest.raises(ConfigError, match="'p' \\(polyai\\) needs token"):
        build_provider(account, client)
