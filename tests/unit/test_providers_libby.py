"""The Libby adapter: its request on the wire and the rules it checks at import."""

from __future__ import annotations

import json

import httpx
import pytest

from dialer.providers import CallRequest, LibbyProvider, Messages, PlaceResult
from dialer.settings import AccountConfig

ACCOUNT = AccountConfig(name="main", provider="libby", api_key="lk-123", agent_id="agent-uuid")
REQUEST = CallRequest(
    attempt_key="3b8f6c1e-0000-4000-8000-000000000001",
    campaign="spring",
    phone="+15551234567",
    first_name="Jane",
    last_name="Doe",
    email="jane@example.com",
    variables={"first_name": "Jane", "form_location": "Ballard"},
    messages=Messages(intro="Hi Jane", voicemail="Sorry we missed you"),
)


def place(request: CallRequest, response: httpx.Response) -> tuple[PlaceResult, httpx.Request]:
    seen: list[httpx.Request] = []

    def handler(sent: httpx.Request) -> httpx.Response:
        seen.append(sent)
        return response

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        result = LibbyProvider(ACCOUNT, client).place(request)
    return result, seen[0]


def test_request_on_the_wire() -> None:
    answer = {"success": True, "message": "Your call has been scheduled."}
    result, sent = place(REQUEST, httpx.Response(200, json=answer))
    assert str(sent.url) == "https://api.heylibby.com/api/v1/outbound/call"
    assert sent.headers["x-api-key"] == "lk-123"
    assert sent.headers["content-type"] == "application/json"
    assert "authorization" not in sent.headers
    assert json.loads(sent.content) == {
        "agentId": "agent-uuid",
        "contact": {
            "phoneNumber": "+15551234567",
            "firstName": "Jane",
            "lastName": "Doe",
            "email": "jane@example.com",
        },
        "metadata": {
            "first_name": "Jane",
            "form_location": "Ballard",
            "dialerAttempt": "3b8f6c1e-0000-4000-8000-000000000001",
            "dialerCampaign": "spring",
        },
        "introMessage": "Hi Jane",
        "voicemailMessage": "Sorry we missed you",
    }
    assert result == PlaceResult(200, None, json.dumps(answer, separators=(",", ":")))


def test_instructions_alone_and_empty_contact_fields_left_out() -> None:
    request = CallRequest(
        attempt_key="a",
        campaign="c",
        phone="+15551234567",
        messages=Messages(instructions="Ask about the May promotion"),
    )
    _, sent = place(request, httpx.Response(200))
    body = json.loads(sent.content)
    assert body["contact"] == {"phoneNumber": "+15551234567"}
    assert body["callInstructions"] == "Ask about the May promotion"
    assert "introMessage" not in body
    assert "voicemailMessage" not in body


def test_attempt_key_wins_over_a_lead_column_of_the_same_name() -> None:
    request = CallRequest(
        attempt_key="mine",
        campaign="c",
        phone="+1",
        variables={"dialerAttempt": "theirs"},
        messages=Messages(instructions="i"),
    )
    _, sent = place(request, httpx.Response(200))
    assert json.loads(sent.content)["metadata"]["dialerAttempt"] == "mine"


@pytest.mark.parametrize(
    ("messages", "reason"),
    [
        (Messages(intro="Hi", voicemail="Bye"), None),
        (Messages(instructions="Be nice"), None),
        (Messages(), "libby needs --intro and --voicemail, or --instructions"),
        (Messages(intro="Hi"), "libby needs --intro and --voicemail together"),
        (Messages(voicemail="Bye"), "libby needs --intro and --voicemail together"),
        (
            Messages(intro="Hi", voicemail="Bye", instructions="x"),
            "libby takes --intro/--voicemail or --instructions, not both",
        ),
        (Messages(intro_notes="n"), "libby has no field for --intro-notes"),
        (Messages(questions=("q",), rules=("r",)), "libby has no field for --question, --rule"),
    ],
)
def test_check(messages: Messages, reason: str | None) -> None:
    with httpx.Client() as client:
        found = LibbyProvider(ACCOUNT, client).check(
            CallRequest(attempt_key="a", campaign="c", phone="+15551234567", messages=messages)
        )
    if reason is None:
        assert found is None
    else:
        assert found is not None and found.startswith(reason)
