"""Every adapter over real HTTP against the sandbox server: the exact request each provider
receives, every error class through the sandbox's fault rules, libby-legacy's token life cycle.
"""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from dialer.errors import (
    AccountBroken,
    AmbiguousOutcome,
    RejectedByProvider,
    RetryableProviderError,
)
from dialer.providers import (
    CallRequest,
    LibbyLegacyProvider,
    Messages,
    TokenSource,
    build_provider,
)
from dialer.providers.base import CallProvider
from dialer.sandbox import SandboxServer
from dialer.settings import AccountConfig
from tests.sandbox_fixture import SandboxControl

PHONE = "+15055550123"
API_KEY = "sk-live-3f9a27c1d4e8b6a05f2e"
CLIENT_SECRET = "cs-7d41b9e2a0c35f86e1d4"
REQUEST = CallRequest(
    attempt_key="0f8e4c2a-6b1d-4e3f-9a7c-5d2b8e1f0a93",
    campaign="spring-promo",
    phone=PHONE,
    first_name="Jane",
    last_name="Doe",
    email="jane@example.com",
    variables={"first_name": "Jane", "last_name": "Doe", "gym": "Ballard", "goal": "get fit"},
)
INTRO = Messages(intro="Hi Jane, Libby from Acme Fitness", voicemail="Sorry we missed you, Jane")
KINDS = ("libby", "libby-legacy", "allomia", "trillet", "polyai", "sandbox")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture(scope="module")
def sandbox_control(sandbox: SandboxServer) -> Iterator[SandboxControl]:
    with SandboxControl(sandbox.url) as control:
        yield control


@pytest.fixture
def control(sandbox_control: SandboxControl) -> Iterator[SandboxControl]:
    """The sandbox with no rules, no records and its startup config."""
    sandbox_control.clear()
    yield sandbox_control
    sandbox_control.clear()


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=httpx.Timeout(5.0, connect=2.0)) as client:
        yield client


def account(kind: str, url: str, **changes: Any) -> AccountConfig:
    """An account of ``kind`` on the sandbox (libby-legacy: a client id of its own, so no test
    reuses another's cached token)."""
    fields: dict[str, Any] = {
        "libby": {"api_key": API_KEY, "agent_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7"},
        "libby-legacy": {
            "client_id": f"client-{uuid.uuid4().hex[:12]}",
            "client_secret": CLIENT_SECRET,
            "from_number": "+15055550199",
            "token_url": f"{url}/oauth2/token",
        },
        "allomia": {
            "api_key": API_KEY,
            "assistant_id": "a1b2c3d4-e5f6-7890-abcd-123456789012",
            "phone_number_id": "b2c3d4e5-f6a7-8901-bcde-234567890123",
            "callback_url": "https://dialer.example.com/hooks/allomia",
        },
        "trillet": {
            "workspace_id": "ws-42",
            "agent_id": "a1b2c3d4e5f6a7b8c9d0e1f2",
            "api_key": API_KEY,
        },
        "polyai": {"token": API_KEY},
        "sandbox": {},
    }[kind]
    config = {"name": kind, "provider": kind, "base_url": url, **fields, **changes}
    return AccountConfig.model_validate(config)


def request_for(kind: str) -> CallRequest:
    """The realistic contact, with the messages ``kind`` takes."""
    messages = INTRO if kind in ("libby", "libby-legacy", "sandbox") else Messages()
    return dataclasses.replace(REQUEST, messages=messages)


def calls(control: SandboxControl) -> list[dict[str, Any]]:
    """Recorded requests, token requests left out."""
    return [r for r in control.requests() if r["path"] != "/oauth2/token"]


# --- the exact request each provider receives ---------------------------------------------

EXPECTED: dict[str, tuple[str, dict[str, str], dict[str, Any]]] = {
    "libby": (
        "/api/v1/outbound/call",
        {"x-api-key": API_KEY},
        {
            "agentId": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
            "contact": {
                "phoneNumber": PHONE,
                "firstName": "Jane",
                "lastName": "Doe",
                "email": "jane@example.com",
            },
            "metadata": {
                "first_name": "Jane",
                "last_name": "Doe",
                "gym": "Ballard",
                "goal": "get fit",
                "dialerAttempt": REQUEST.attempt_key,
                "dialerCampaign": "spring-promo",
            },
            "introMessage": "Hi Jane, Libby from Acme Fitness",
            "voicemailMessage": "Sorry we missed you, Jane",
        },
    ),
    "libby-legacy": (
        "/outbound",
        {},  # the bearer token is checked separately: it is minted by the sandbox
        {
            "name": "Jane Doe",
            "toPhoneNumber": PHONE,
            "fromPhoneNumber": "+15055550199",
            "introMessage": "Hi Jane, Libby from Acme Fitness",
            "introVoicemail": "Sorry we missed you, Jane",
            "formInfo": [
                {"first_name": "Jane"},
                {"last_name": "Doe"},
                {"gym": "Ballard"},
                {"goal": "get fit"},
            ],
        },
    ),
    "allomia": (
        "/api/outbound",
        {"authorization": f"Bearer {API_KEY}"},
        {
            "phoneNumber": PHONE,
            "assistantId": "a1b2c3d4-e5f6-7890-abcd-123456789012",
            "phoneNumberId": "b2c3d4e5-f6a7-8901-bcde-234567890123",
            "customerName": "Jane Doe",
            "dynamicVariables": {
                "first_name": "Jane",
                "last_name": "Doe",
                "gym": "Ballard",
                "goal": "get fit",
            },
            "callbackUrl": "https://dialer.example.com/hooks/allomia",
        },
    ),
    "trillet": (
        "/v1/api/call",
        {"x-workspace-id": "ws-42", "x-api-key": API_KEY},
        {
            "to": PHONE,
            "call_agent_id": "a1b2c3d4e5f6a7b8c9d0e1f2",
            "dynamic_variables": {
                "first_name": "Jane",
                "last_name": "Doe",
                "email": "jane@example.com",
                "gym": "Ballard",
                "goal": "get fit",
            },
            "metadata": {"dialerAttempt": REQUEST.attempt_key, "dialerCampaign": "spring-promo"},
        },
    ),
    "polyai": (
        "/v1/outbound-calling",
        {"x-polyai-auth-token": API_KEY},
        {
            "to_number": PHONE,
            "metadata": {
                "first_name": "Jane",
                "last_name": "Doe",
                "email": "jane@example.com",
                "gym": "Ballard",
                "goal": "get fit",
                "dialerAttempt": REQUEST.attempt_key,
                "dialerCampaign": "spring-promo",
            },
            "encryption": "TLS/SRTP",
        },
    ),
    "sandbox": (
        "/sandbox/call",
        {},
        {
            "to": PHONE,
            "attempt": REQUEST.attempt_key,
            "campaign": "spring-promo",
            "variables": {
                "first_name": "Jane",
                "last_name": "Doe",
                "gym": "Ballard",
                "goal": "get fit",
            },
            "messages": {
                "intro": "Hi Jane, Libby from Acme Fitness",
                "voicemail": "Sorry we missed you, Jane",
            },
        },
    ),
}
CALL_ID = {
    "libby": None,
    "libby-legacy": None,
    "allomia": r"[0-9a-f-]{36}",
    "trillet": r"[0-9a-f]{24}",
    "polyai": r"OUT-[0-9a-f-]{36}",
    "sandbox": r"SBX-[0-9a-f-]{36}",
}


@pytest.mark.parametrize("kind", KINDS)
def test_the_exact_request_each_provider_receives(
    kind: str, sandbox: SandboxServer, control: SandboxControl, client: httpx.Client
) -> None:
    adapter = build_provider(account(kind, sandbox.url), client)
    request = request_for(kind)
    assert adapter.check(request) is None

    result = adapter.place(request)

    assert result.http_status == 200
    pattern = CALL_ID[kind]
    if pattern is None:
        assert result.provider_call_id is None
    else:
        assert re.fullmatch(pattern, result.provider_call_id or "")
    (record,) = calls(control)
    path, headers, body = EXPECTED[kind]
    assert record["method"] == "POST"
    assert record["path"] == path
    assert record["headers"]["content-type"] == "application/json"
    assert {name: record["headers"].get(name) for name in headers} == headers
    assert record["json"] == body
    assert record["status"] == 200


def test_libby_legacy_token_request_and_bearer(
    sandbox: SandboxServer, control: SandboxControl, client: httpx.Client
) -> None:
    config = account("libby-legacy", sandbox.url)
    build_provider(config, client).place(request_for("libby-legacy"))
    token, outbound = control.requests()
    assert token["path"] == "/oauth2/token"
    assert token["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert token["form"] == {
        "grant_type": "client_credentials",
        "client_id": config.client_id,
        "client_secret": CLIENT_SECRET,
        "scope": "external-api-resource-server-1/call.out",
    }
    assert outbound["headers"]["authorization"].startswith("Bearer ")
    assert len(outbound["headers"]["authorization"]) > len("Bearer ") + 20


# --- every error class through fault rules ------------------------------------------------


def place(kind: str, url: str, client: httpx.Client) -> Any:
    return build_provider(account(kind, url), client).place(request_for(kind))


@pytest.mark.parametrize("action", ["500", "503", "429"])
@pytest.mark.parametrize("kind", KINDS)
def test_5xx_and_429_are_retryable(
    kind: str, action: str, sandbox: SandboxServer, control: SandboxControl, client: httpx.Client
) -> None:
    control.add_rule(PHONE, action)
    with pytest.raises(RetryableProviderError) as caught:
        place(kind, sandbox.url, client)
    assert caught.value.status == int(action)
    assert caught.value.retry_at is None
    assert str(caught.value).startswith(f"{kind}: HTTP {action}: ")


@pytest.mark.parametrize("kind", KINDS)
def test_retry_after_becomes_retry_at(
    kind: str, sandbox: SandboxServer, control: SandboxControl, client: httpx.Client
) -> None:
    control.add_rule(PHONE, "429", retry_after="120")
    before = datetime.now(UTC)
    with pytest.raises(RetryableProviderError) as caught:
        place(kind, sandbox.url, client)
    assert caught.value.retry_at is not None
    assert before + timedelta(seconds=120) <= caught.value.retry_at
    assert caught.value.retry_at <= datetime.now(UTC) + timedelta(seconds=120)


def test_retry_after_as_an_http_date(
    sandbox: SandboxServer, control: SandboxControl, client: httpx.Client
) -> None:
    control.add_rule(PHONE, "503", retry_after="Wed, 21 Oct 2099 07:28:00 GMT")
    with pytest.raises(RetryableProviderError) as caught:
        place("polyai", sandbox.url, client)
    assert caught.value.retry_at is not None
    assert caught.value.retry_at > datetime.now(UTC) + timedelta(hours=23)  # capped at a day


@pytest.mark.parametrize("kind", KINDS)
def test_400_is_rejected_with_the_providers_text(
    kind: str, sandbox: SandboxServer, control: SandboxControl, client: httpx.Client
) -> None:
    control.add_rule(PHONE, "400")
    with pytest.raises(RejectedByProvider) as caught:
        place(kind, sandbox.url, client)
    assert type(caught.value) is RejectedByProvider
    assert caught.value.status == 400
    assert str(caught.value) == f"{kind}: HTTP 400: Bad Request"


def test_validation_errors_keep_the_providers_details(
    sandbox: SandboxServer, control: SandboxControl, client: httpx.Client
) -> None:
    short = CallRequest(attempt_key="a", campaign="c", phone="+3312345")
    adapter = build_provider(account("allomia", sandbox.url), client)
    assert adapter.check(short) == "allomia needs a phone number of 10 to 20 characters, got 8"
    with pytest.raises(RejectedByProvider) as caught:
        adapter.place(short)  # what check() spares the provider at import
    assert str(caught.value) == (
        "allomia: HTTP 400: Invalid request data"
        " (phoneNumber: Phone number must be at least 10 digits)"
    )


@pytest.mark.parametrize("action", ["401", "403"])
@pytest.mark.parametrize("kind", KINDS)
def test_401_and_403_break_the_account(
    kind: str, action: str, sandbox: SandboxServer, control: SandboxControl, client: httpx.Client
) -> None:
    control.add_rule(PHONE, action)
    with pytest.raises(AccountBroken) as caught:
        place(kind, sandbox.url, client)
    assert caught.value.status == int(action)
    sent = len(calls(control))
    assert sent == (2 if kind == "libby-legacy" else 1)  # legacy: one re-send after a refresh


@pytest.mark.parametrize("kind", [k for k in KINDS if k not in ("sandbox", "libby-legacy")])
def test_a_refused_key_breaks_the_account(
    kind: str, sandbox: SandboxServer, control: SandboxControl, client: httpx.Client
) -> None:
    credential = "workspace_id" if kind == "trillet" else "token" if kind == "polyai" else "api_key"
    adapter = build_provider(account(kind, sandbox.url, **{credential: "bad"}), client)
    with pytest.raises(AccountBroken, match=f"^{kind}: HTTP 401: "):
        adapter.place(request_for(kind))


@pytest.mark.parametrize("kind", KINDS)
def test_a_hanging_provider_is_ambiguous(
    kind: str, sandbox: SandboxServer, control: SandboxControl
) -> None:
    control.add_rule(PHONE, "hang")
    with httpx.Client(timeout=0.3) as client, pytest.raises(AmbiguousOutcome) as caught:
        place(kind, sandbox.url, client)
    assert str(caught.value) == f"{kind}: no answer after sending (ReadTimeout: timed out)"
    assert len(calls(control)) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_dropped_connection_is_ambiguous(
    kind: str, sandbox: SandboxServer, control: SandboxControl, client: httpx.Client
) -> None:
    control.add_rule(PHONE, "drop")
    with pytest.raises(AmbiguousOutcome, match=f"^{kind}: no answer after sending "):
        place(kind, sandbox.url, client)
    assert len(calls(control)) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_connection_refused_is_retryable(kind: str, client: httpx.Client) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    config = account(kind, closed)
    adapter: CallProvider = build_provider(config, client)
    if isinstance(adapter, LibbyLegacyProvider):  # the token endpoint is the one refused here
        adapter = LibbyLegacyProvider(config, client, tokens=TokenSource(config))
    with pytest.raises(
        RetryableProviderError, match=f"^{kind}.*: could not connect \\(ConnectError"
    ):
        adapter.place(request_for(kind))


def test_a_fault_used_up_lets_the_next_attempt_through(
    sandbox: SandboxServer, control: SandboxControl, client: httpx.Client
) -> None:
    control.add_rule(PHONE, "503", times=1)
    adapter = build_provider(account("trillet", sandbox.url), client)
    with pytest.raises(RetryableProviderError):
        adapter.place(request_for("trillet"))
    assert adapter.place(request_for("trillet")).http_status == 200


# --- libby-legacy's token life cycle, trillet's call id spelling ---------------------------


def test_libby_legacy_renews_its_token_before_it_expires(
    sandbox: SandboxServer, control: SandboxControl, client: httpx.Client
) -> None:
    control.configure(token_ttl=2)
    adapter = build_provider(account("libby-legacy", sandbox.url), client)
    adapter.place(request_for("libby-legacy"))
    adapter.place(request_for("libby-legacy"))  # the cached token
    time.sleep(1.85)  # past 90% of its life: renewed before the provider would refuse it
    adapter.place(request_for("libby-legacy"))
    records = control.requests()
    assert [r["path"] for r in records] == [
        "/oauth2/token",
        "/outbound",
        "/outbound",
        "/oauth2/token",
        "/outbound",
    ]
    assert [r["status"] for r in records if r["path"] == "/outbound"] == [200, 200, 200]
    bearers = [r["headers"]["authorization"] for r in records if r["path"] == "/outbound"]
    assert bearers[0] == bearers[1] != bearers[2]


def test_libby_legacy_refreshes_a_token_the_provider_expired_and_sends_once_more(
    sandbox: SandboxServer, control: SandboxControl, client: httpx.Client
) -> None:
    control.configure(token_ttl=1)
    config = account("libby-legacy", sandbox.url)
    # A clock that never moves: the cache believes its token fresh, the provider knows better.
    adapter = LibbyLegacyProvider(config, client, tokens=TokenSource(config, clock=lambda: 0.0))
    adapter.place(request_for("libby-legacy"))
    time.sleep(1.1)
    result = adapter.place(request_for("libby-legacy"))
    assert result.http_status == 200
    records = control.requests()
    assert [(r["path"], r["status"]) for r in records] == [
        ("/oauth2/token", 200),
        ("/outbound", 200),
        ("/outbound", 403),
        ("/oauth2/token", 200),
        ("/outbound", 200),
    ]
    assert records[2]["json"] == records[4]["json"]


def test_libby_legacy_refused_client_breaks_the_account_before_any_call(
    sandbox: SandboxServer, control: SandboxControl, client: httpx.Client
) -> None:
    config = account("libby-legacy", sandbox.url, client_secret="bad")
    with pytest.raises(AccountBroken) as caught:
        build_provider(config, client).place(request_for("libby-legacy"))
    assert str(caught.value) == "libby-legacy token endpoint: HTTP 400: invalid_client"
    assert calls(control) == []


@pytest.mark.parametrize("spelling", ["callId", "call_id"])
def test_trillet_call_id_in_either_spelling(
    spelling: str, sandbox: SandboxServer, control: SandboxControl, client: httpx.Client
) -> None:
    control.configure(trillet_call_id_field=spelling)
    result = place("trillet", sandbox.url, client)
    assert json.loads(result.body)[spelling] == result.provider_call_id
    assert re.fullmatch(r"[0-9a-f]{24}", result.provider_call_id or "")
