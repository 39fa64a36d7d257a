"""The Trillet adapter: headers, agent variables versus webhook metadata, both call id spellings,
its status words and its lenient webhook reader."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from dialer.errors import MalformedOutcome
from dialer.outcomes import Outcome, outcome_of
from dialer.providers import CallRequest, Messages, PlaceResult, TrilletProvider
from dialer.providers.base import ATTEMPT_FIELD, ProviderOutcome
from dialer.providers.trillet import EVENTS, STATUSES
from dialer.settings import AccountConfig

ACCOUNT = AccountConfig(
    name="main",
    provider="trillet",
    workspace_id="ws-1",
    agent_id="a1b2c3d4e5f6a7b8c9d0e1f2",
    callback_url="https://dialer.example.com/hooks/trillet",
)
REQUEST = CallRequest(
    attempt_key="att-1",
    campaign="spring",
    phone="+12345678901",
    first_name="Jane",
    last_name="Doe",
    email="jane@example.com",
    variables={"zipcode": "98107", "first_name": "Janet"},
)
ANSWER = {
    "status": "success",
    "message": "Outbound call job scheduled",
    "callId": "f9e8d7c6b5a4f3e2d1c0b9a8",
    "roomName": "a1b2-x7k2",
    "jobId": "123",
}


def place(
    response: httpx.Response, account: AccountConfig = ACCOUNT
) -> tuple[PlaceResult, httpx.Request]:
    seen: list[httpx.Request] = []

    def handler(sent: httpx.Request) -> httpx.Response:
        seen.append(sent)
        return response

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        result = TrilletProvider(account, client).place(REQUEST)
    return result, seen[0]


def test_request_on_the_wire() -> None:
    result, sent = place(httpx.Response(200, json=ANSWER))
    assert str(sent.url) == "https://api.trillet.ai/v1/api/call"
    assert sent.headers["x-workspace-id"] == "ws-1"
    assert "x-api-key" not in sent.headers
    assert json.loads(sent.content) == {
        "to": "+12345678901",
        "call_agent_id": "a1b2c3d4e5f6a7b8c9d0e1f2",
        "dynamic_variables": {
            "first_name": "Janet",
            "last_name": "Doe",
            "email": "jane@example.com",
            "zipcode": "98107",
        },
        "metadata": {"dialerAttempt": "att-1", "dialerCampaign": "spring"},
        "callback_url": "https://dialer.example.com/hooks/trillet",
    }
    assert result.provider_call_id == "f9e8d7c6b5a4f3e2d1c0b9a8"


def test_api_key_header_when_configured() -> None:
    account = AccountConfig.model_validate(
        ACCOUNT.model_dump() | {"api_key": "tk-1", "callback_url": None}
    )
    _, sent = place(httpx.Response(200, json=ANSWER), account)
    assert sent.headers["x-api-key"] == "tk-1"
    assert "callback_url" not in json.loads(sent.content)


@pytest.mark.parametrize(
    ("answer", "call_id"),
    [
        ({"call_id": "snake"}, "snake"),
        ({"callId": "camel"}, "camel"),
        ({"status": "success"}, None),
    ],
)
def test_both_call_id_spellings(answer: dict[str, str], call_id: str | None) -> None:
    result, _ = place(httpx.Response(200, json=answer))
    assert result.provider_call_id == call_id


def test_check_refuses_message_texts() -> None:
    with httpx.Client() as client:
        adapter = TrilletProvider(ACCOUNT, client)
        assert adapter.check(REQUEST) is None
        with_intro = CallRequest("a", "c", "+1", messages=Messages(intro="Hi", voicemail="Bye"))
        assert adapter.check(with_intro) == "trillet has no field for --intro, --voicemail"


C, NA, B, F, VM = (
    Outcome.COMPLETED,
    Outcome.NO_ANSWER,
    Outcome.BUSY,
    Outcome.FAILED,
    Outcome.VOICEMAIL,
)


@pytest.mark.parametrize(
    ("table", "status", "expected"),
    [
        (STATUSES, "completed", C),
        (STATUSES, "no_answer", NA),
        (STATUSES, "Voicemail", VM),
        (STATUSES, "busy", B),
        (STATUSES, "in progress", None),
        (EVENTS, "call.completed", C),
        (EVENTS, "call.failed", F),
        (EVENTS, "call.started", None),
    ],
)
def test_each_status_word_maps_to_one_outcome_or_not_final(
    table: dict[str, Outcome | None], status: str, expected: Outcome | None
) -> None:
    assert outcome_of(status, table, provider="trillet") == expected


@pytest.mark.parametrize(
    ("body", "outcome", "call_id", "key"),
    [
        ({"event": "call.completed", "data": {"callId": "t", "status": "completed"}}, C, "t", None),
        ({"event": "call.failed", "data": {"call_id": "t1"}}, F, "t1", None),
        ({"event": "call.ended", "data": {"callId": "t", "status": "voicemail"}}, VM, "t", None),
        ({"event": "call.failed", "call_id": "t1", "status": "no_answer"}, NA, "t1", None),
        ({"status": "busy", "metadata": {ATTEMPT_FIELD: "k-1"}}, B, None, "k-1"),
        (
            {"event": "call.completed", "data": {"callId": 77, "metadata": {ATTEMPT_FIELD: "k"}}},
            C,
            "77",
            "k",
        ),
    ],
)
def test_trillet_webhook_reads_the_envelope_leniently(
    body: dict[str, Any], outcome: Outcome, call_id: str | None, key: str | None
) -> None:
    found = TrilletProvider.outcome_from_webhook(body)
    assert found == ProviderOutcome(
        outcome=outcome, payload=body, provider_call_id=call_id, attempt_key=key
    )


@pytest.mark.parametrize(
    "body",
    [
        {"event": "call.started", "data": {"callId": "t1"}},
        {"event": "sms.delivered", "data": {"status": "delivered"}},
        {"event": "call.transcript", "data": {"callId": "t1"}},
        {"event": "call.completed", "data": {"callId": "t1", "status": "ringing"}},
    ],
)
def test_trillet_events_that_are_no_final_outcome_are_ignored(body: dict[str, Any]) -> None:
    assert TrilletProvider.outcome_from_webhook(body) is None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"data": {"callId": "t1"}},
        {"event": "call.completed", "data": {}},
        {"event": "call.completed", "data": {"callId": "t1", "status": "weird"}},
        {"event": "call.completed", "data": {"callId": True}},
    ],
)
def test_trillet_events_naming_no_call_or_an_unknown_status_are_malformed(
    body: dict[str, Any],
) -> None:
    with pytest.raises(MalformedOutcome):
        TrilletProvider.outcome_from_webhook(body)
