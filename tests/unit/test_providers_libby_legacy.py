"""The legacy Libby adapter: its OAuth2 token cache, the one re-send after a refused token."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs

import httpx
import pytest

from dialer.errors import AccountBroken, RejectedByProvider, RetryableProviderError
from dialer.providers import (
    CallRequest,
    LibbyLegacyProvider,
    Messages,
    PlaceResult,
    TokenSource,
    build_provider,
)
from dialer.providers.libby_legacy import FAILURE_HOLD
from dialer.settings import AccountConfig

TOKEN_URL = "https://auth.test/oauth2/token"
OUTBOUND_URL = "https://phone.mylibby.ai/outbound"
REQUEST = CallRequest(
    attempt_key="att-1",
    campaign="spring",
    phone="+15055550100",
    first_name="Chris",
    last_name="Doe",
    variables={"Have you had a photographer before?": "Yes", "budget": "100 per month"},
    messages=Messages(
        intro_notes="We are an event planning company",
        questions=("Are you interested in photography?", "Any time limit?"),
        rules=("Just be a friendly assistant",),
    ),
)


def account() -> AccountConfig:
    """An account of its own (a fresh client id), so no test shares another's token cache."""
    return AccountConfig(
        name="legacy",
        provider="libby-legacy",
        client_id=f"client-{uuid.uuid4().hex[:8]}",
        client_secret="cs-123",
        from_number="+15055550199",
        token_url=TOKEN_URL,
    )


class FakeLibby:
    """The token endpoint and /outbound. ``token_answers`` and ``outbound_answers`` script the
    answers in order (the last one repeats; none: success); every request is recorded."""

    def __init__(self) -> None:
        self.token_answers: list[httpx.Response | type[httpx.TransportError]] = []
        self.outbound_answers: list[httpx.Response | type[httpx.TransportError]] = []
        self.requests: list[httpx.Request] = []
        self.issued = 0
        self.lock = threading.Lock()

    def token_response(self, expires_in: int = 3600) -> httpx.Response:
        with self.lock:
            self.issued += 1
            token = f"tok-{self.issued}"
        body = {"access_token": token, "expires_in": expires_in, "token_type": "Bearer"}
        return httpx.Response(200, json=body)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
        is_token = str(request.url) == TOKEN_URL
        script = self.token_answers if is_token else self.outbound_answers
        answer = script.pop(0) if len(script) > 1 else (script[0] if script else None)
        if isinstance(answer, type):
            raise answer("boom", request=request)
        if answer is not None:
            return answer
        if is_token:
            return self.token_response()
        return httpx.Response(200, json={"message": "Outbound call processed"})

    def sent(self, url: str) -> list[httpx.Request]:
        return [request for request in self.requests if str(request.url) == url]

    def bearers(self) -> list[str]:
        return [r.headers["authorization"] for r in self.sent(OUTBOUND_URL)]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake() -> FakeLibby:
    return FakeLibby()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(fake: FakeLibby) -> Iterator[httpx.Client]:
    with httpx.Client(transport=httpx.MockTransport(fake)) as client:
        yield client


def adapter(
    client: httpx.Client, clock: Callable[[], float], config: AccountConfig | None = None
) -> LibbyLegacyProvider:
    config = config or account()
    return LibbyLegacyProvider(config, client, tokens=TokenSource(config, clock=clock))


def test_request_on_the_wire(fake: FakeLibby, client: httpx.Client, clock: Clock) -> None:
    config = account()
    result = adapter(client, clock, config).place(REQUEST)

    token_request, outbound = fake.requests
    assert str(token_request.url) == TOKEN_URL
    assert token_request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(token_request.content.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": [config.client_id],
        "client_secret": ["cs-123"],
        "scope": ["external-api-resource-server-1/call.out"],
    }
    assert str(outbound.url) == OUTBOUND_URL
    assert outbound.headers["authorization"] == "Bearer tok-1"
    assert json.loads(outbound.content) == {
        "name": "Chris Doe",
        "toPhoneNumber": "+15055550100",
        "fromPhoneNumber": "+15055550199",
        "introNotes": "We are an event planning company",
        "customQuestions": ["Are you interested in photography?", "Any time limit?"],
        "customRules": ["Just be a friendly assistant"],
        "formInfo": [{"Have you had a photographer before?": "Yes"}, {"budget": "100 per month"}],
    }
    assert result == PlaceResult(200, None, '{"message":"Outbound call processed"}')


def test_exact_intro_and_voicemail(fake: FakeLibby, client: httpx.Client, clock: Clock) -> None:
    request = CallRequest(
        "a", "c", "+15055550100", first_name="Chris", messages=Messages(intro="Hi", voicemail="B")
    )
    adapter(client, clock).place(request)
    body = json.loads(fake.sent(OUTBOUND_URL)[0].content)
    assert body == {
        "name": "Chris",
        "toPhoneNumber": "+15055550100",
        "fromPhoneNumber": "+15055550199",
        "introMessage": "Hi",
        "introVoicemail": "B",
        "formInfo": [],
    }


# --- the token cache ----------------------------------------------------------------------


def test_token_is_reused_until_shortly_before_it_expires(
    fake: FakeLibby, client: httpx.Client, clock: Clock
) -> None:
    fake.token_answers = [fake.token_response(expires_in=3600)]
    legacy = adapter(client, clock)
    legacy.place(REQUEST)
    clock.now += 3539  # the token is renewed 60 s before its end
    legacy.place(REQUEST)
    fake.token_answers = []
    clock.now += 1
    legacy.place(REQUEST)
    assert fake.bearers() == ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]


def test_short_lived_token_keeps_most_of_its_life(
    fake: FakeLibby, client: httpx.Client, clock: Clock
) -> None:
    fake.token_answers = [fake.token_response(expires_in=10)]
    legacy = adapter(client, clock)
    legacy.place(REQUEST)
    clock.now += 8.9  # renewed a tenth of its lifetime early, not 60 s early
    legacy.place(REQUEST)
    assert fake.bearers() == ["Bearer tok-1", "Bearer tok-1"]


@pytest.mark.parametrize("expires_in", [None, "soon", 0, -5, True])
def test_unusable_expires_in_means_an_hour(
    fake: FakeLibby, client: httpx.Client, clock: Clock, expires_in: object
) -> None:
    fake.token_answers = [httpx.Response(200, json={"access_token": "t", "expires_in": expires_in})]
    legacy = adapter(client, clock)
    legacy.place(REQUEST)
    clock.now += 3000
    legacy.place(REQUEST)
    assert len(fake.sent(TOKEN_URL)) == 1


def test_adapters_of_one_account_share_the_process_token(fake: FakeLibby) -> None:
    config = account()
    with httpx.Client(transport=httpx.MockTransport(fake)) as one:
        build_provider(config, one).place(REQUEST)
    with httpx.Client(transport=httpx.MockTransport(fake)) as two:
        build_provider(config, two).place(REQUEST)
        build_provider(account(), two).place(REQUEST)  # other credentials, other token
    assert fake.bearers() == ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]


def test_concurrent_callers_wait_for_one_fetch(fake: FakeLibby, clock: Clock) -> None:
    fetching = threading.Event()

    def slow(request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            fetching.set()
            time.sleep(0.2)
        return fake(request)

    with httpx.Client(transport=httpx.MockTransport(slow)) as client:
        legacy = adapter(client, clock)
        threads = [threading.Thread(target=legacy.place, args=(REQUEST,)) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert fetching.is_set()
    assert len(fake.sent(TOKEN_URL)) == 1
    assert fake.bearers() == ["Bearer tok-1"] * 16


# --- the one re-send after a refused token -------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_refused_token_is_refreshed_and_the_call_sent_once_more(
    fake: FakeLibby, client: httpx.Client, clock: Clock, status: int
) -> None:
    fake.outbound_answers = [
        httpx.Response(status, json={"message": "Forbidden"}),
        httpx.Response(200, json={"message": "Outbound call processed"}),
    ]
    result = adapter(client, clock).place(REQUEST)
    assert result.http_status == 200
    assert fake.bearers() == ["Bearer tok-1", "Bearer tok-2"]


@pytest.mark.parametrize("status", [401, 403])
def test_refusal_the_refresh_does_not_cure_breaks_the_account(
    fake: FakeLibby, client: httpx.Client, clock: Clock, status: int
) -> None:
    fake.outbound_answers = [
        httpx.Response(status, json={"message": "Forbidden: Incorrect scopes"})
    ]
    with pytest.raises(AccountBroken) as caught:
        adapter(client, clock).place(REQUEST)
    assert str(caught.value) == f"libby-legacy: HTTP {status}: Forbidden: Incorrect scopes"
    assert fake.bearers() == ["Bearer tok-1", "Bearer tok-2"]  # exactly one re-send


def test_other_errors_are_not_resent(fake: FakeLibby, client: httpx.Client, clock: Clock) -> None:
    fake.outbound_answers = [
        httpx.Response(404, json={"message": "Agent not found for this number"})
    ]
    with pytest.raises(RejectedByProvider, match="HTTP 404: Agent not found for this number"):
        adapter(client, clock).place(REQUEST)
    assert len(fake.bearers()) == 1


def test_a_token_another_thread_already_renewed_is_not_fetched_again(
    fake: FakeLibby, client: httpx.Client, clock: Clock
) -> None:
    config = account()
    tokens = TokenSource(config, clock=clock)
    first = tokens.get(client)
    second = tokens.get(client, refused=first)  # this thread saw a refusal
    assert tokens.get(client, refused=first) == second  # so did a slower one
    assert (first, second) == ("tok-1", "tok-2")
    assert len(fake.sent(TOKEN_URL)) == 2


# --- token endpoint failures ---------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(500),
        httpx.Response(503, json={"error": "unavailable"}),
        httpx.Response(429),
        httpx.ConnectError,
        httpx.ReadTimeout,
        httpx.RemoteProtocolError,
    ],
)
def test_token_endpoint_trouble_is_retryable_and_nothing_is_sent(
    fake: FakeLibby,
    client: httpx.Client,
    clock: Clock,
    answer: httpx.Response | type[httpx.TransportError],
) -> None:
    fake.token_answers = [answer]
    with pytest.raises(RetryableProviderError, match="libby-legacy token endpoint"):
        adapter(client, clock).place(REQUEST)
    assert fake.sent(OUTBOUND_URL) == []


@pytest.mark.parametrize(
    ("answer", "text"),
    [
        (httpx.Response(400, json={"error": "invalid_client"}), "HTTP 400: invalid_client"),
        (httpx.Response(400, json={"error": "invalid_scope"}), "HTTP 400: invalid_scope"),
        (httpx.Response(401, json={"error": "invalid_client"}), "HTTP 401: invalid_client"),
        (httpx.Response(200, json={"token_type": "Bearer"}), "HTTP 200 without an access_token"),
        (httpx.Response(200, text="<html>login</html>"), "HTTP 200 without an access_token"),
    ],
)
def test_token_endpoint_refusal_breaks_the_account(
    fake: FakeLibby, client: httpx.Client, clock: Clock, answer: httpx.Response, text: str
) -> None:
    fake.token_answers = [answer]
    with pytest.raises(AccountBroken, match=text):
        adapter(client, clock).place(REQUEST)
    assert fake.sent(OUTBOUND_URL) == []


def test_a_failed_fetch_is_repeated_for_a_moment_then_retried(
    fake: FakeLibby, client: httpx.Client, clock: Clock
) -> None:
    fake.token_answers = [httpx.Response(503, headers={"Retry-After": "30"}), fake.token_response()]
    legacy = adapter(client, clock)
    with pytest.raises(RetryableProviderError) as first:
        legacy.place(REQUEST)
    clock.now += FAILURE_HOLD - 0.1
    with pytest.raises(RetryableProviderError) as second:
        legacy.place(REQUEST)
    assert second.value is not first.value
    assert (str(second.value), second.value.retry_at) == (str(first.value), first.value.retry_at)
    assert len(fake.sent(TOKEN_URL)) == 1
    clock.now += 0.2
    assert legacy.place(REQUEST).http_status == 200
    assert len(fake.sent(TOKEN_URL)) == 2


# --- import rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("messages", "reason"),
    [
        (Messages(intro_notes="n", questions=("q",), rules=("r",)), None),
        (Messages(intro="Hi", voicemail="Bye"), None),
        (Messages(), None),
        (Messages(intro="Hi"), "libby-legacy needs --intro and --voicemail together"),
        (
            Messages(intro="Hi", voicemail="Bye", intro_notes="n"),
            "libby-legacy takes --intro/--voicemail or --intro-notes, not both",
        ),
        (Messages(instructions="x"), "libby-legacy has no field for --instructions"),
    ],
)
def test_check(client: httpx.Client, clock: Clock, messages: Messages, reason: str | None) -> None:
    request = CallRequest("a", "c", "+15055550100", last_name="Doe", messages=messages)
    found = adapter(client, clock).check(request)
    if reason is None:
        assert found is None
    else:
        assert found is not None and found.startswith(reason)


def test_check_needs_a_name(client: httpx.Client, clock: Clock) -> None:
    found = adapter(client, clock).check(CallRequest("a", "c", "+15055550100"))
    assert found == "libby-legacy needs the contact's name (no first or last name)"
