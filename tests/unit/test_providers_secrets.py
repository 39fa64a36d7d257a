"""No credential reaches an exception, a log record or a repr, whatever the provider answers.

The fake provider here is hostile: it echoes our request (headers, body) back in its answers.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

import httpx
import pytest

from dialer.errors import ProviderError
from dialer.providers import CallRequest, Messages, TokenSource, build_provider
from dialer.providers.http import HttpProvider
from dialer.providers.libby_legacy import LibbyLegacyProvider
from dialer.settings import AccountConfig

API_KEY = "SECRET-api-key-7f3a"
CLIENT_SECRET = "SECRET-client-9b1c"
ACCESS_TOKEN = "SECRET-access-5e6f"
SECRETS = (API_KEY, CLIENT_SECRET, ACCESS_TOKEN)
TOKEN_URL = "https://auth.test/oauth2/token"

ACCOUNTS = {
    "libby": {"api_key": API_KEY, "agent_id": "agent"},
    "libby-legacy": {
        "client_id": "client",
        "client_secret": CLIENT_SECRET,
        "from_number": "+15550000000",
        "token_url": TOKEN_URL,
    },
    "allomia": {"api_key": API_KEY, "assistant_id": "a", "phone_number_id": "p"},
    "trillet": {"api_key": API_KEY, "workspace_id": "w", "agent_id": "a"},
    "polyai": {"token": API_KEY},
}
REQUEST = CallRequest(
    attempt_key="att",
    campaign="c",
    phone="+15551234567",
    first_name="Jane",
    messages=Messages(intro="Hi", voicemail="Bye"),
)


def echo(request: httpx.Request) -> str:
    return f"you sent {dict(request.headers)} {request.content.decode()}"


def token_ok(request: httpx.Request) -> httpx.Response | None:
    if str(request.url) != TOKEN_URL:
        return None
    return httpx.Response(200, json={"access_token": ACCESS_TOKEN, "expires_in": 3600})


Answer = Callable[[httpx.Request], httpx.Response]


def status_answer(status: int) -> Answer:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            status,
            json={"error": echo(request), "details": [{"field": echo(request), "message": "x"}]},
            headers={"Retry-After": "5", "X-Echo": echo(request).replace("\n", " ")},
        )

    return answer


def network_failure(exc_type: type[httpx.TransportError]) -> Answer:
    def answer(request: httpx.Request) -> httpx.Response:
        # httpx's own messages come from the OS and httpcore and never quote the request.
        raise exc_type("[Errno 104] Connection reset by peer", request=request)

    return answer


ANSWERS: dict[str, Answer] = {
    f"HTTP {status}": status_answer(status)
    for status in (200, 201, 400, 401, 403, 404, 422, 429, 500, 503)
}
ANSWERS["non-JSON 200"] = lambda request: httpx.Response(200, text=echo(request))
ANSWERS |= {
    exc_type.__name__: network_failure(exc_type)
    for exc_type in (
        httpx.ConnectError,
        httpx.ConnectTimeout,
        httpx.PoolTimeout,
        httpx.ReadTimeout,
        httpx.ReadError,
        httpx.WriteTimeout,
        httpx.WriteError,
        httpx.RemoteProtocolError,
    )
}


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


def run(kind: str, handler: httpx.MockTransport, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    account = AccountConfig.model_validate({"name": "acct", "provider": kind, **ACCOUNTS[kind]})
    with httpx.Client(transport=handler) as client:
        adapter = build_provider(account, client)
        assert isinstance(adapter, HttpProvider)
        if isinstance(adapter, LibbyLegacyProvider):  # a token cache of its own per test
            adapter = LibbyLegacyProvider(account, client, tokens=TokenSource(account))
        assert_no_secret(repr(adapter), str(adapter), repr(account), str(account))
        try:
            result = adapter.place(REQUEST)
        except ProviderError as exc:
            assert_no_secret(
                str(exc), repr(exc), exc.body, *map(str, exc.args), *traceback.format_exception(exc)
            )
        else:
            assert_no_secret(result.body, repr(result))
    assert_no_secret(caplog.text, *(record.getMessage() for record in caplog.records))


@pytest.mark.parametrize("answer", sorted(ANSWERS))
@pytest.mark.parametrize("kind", sorted(ACCOUNTS))
def test_no_secret_leaks_from_the_call_endpoint(
    kind: str, answer: str, caplog: pytest.LogCaptureFixture
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return token_ok(request) or ANSWERS[answer](request)

    run(kind, httpx.MockTransport(handler), caplog)


@pytest.mark.parametrize("answer", sorted(ANSWERS))
def test_no_secret_leaks_from_the_token_endpoint(
    answer: str, caplog: pytest.LogCaptureFixture
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            return ANSWERS[answer](request)
        return httpx.Response(403, json={"message": echo(request)})

    run("libby-legacy", httpx.MockTransport(handler), caplog)


def test_the_hostile_provider_really_echoes_the_secrets() -> None:
    request = httpx.Request("POST", "https://x.test", headers={"x-api-key": API_KEY})
    assert API_KEY in echo(request)
