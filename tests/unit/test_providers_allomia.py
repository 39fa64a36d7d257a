"""The AlloMia adapter: its request on the wire, its call id and error text, its import rules,
its status words and its webhook reader."""

from __future__ import annotations

import json

import httpx
import pytest

from dialer.errors import MalformedOutcome, RejectedByProvider
from dialer.outcomes import Outcome, outcome_of
from dialer.providers import AllomiaProvider, CallRequest, Messages, PlaceResult
from dialer.providers.allomia import STATUSES
from dialer.providers.base import ProviderOutcome
from dialer.settings import AccountConfig

ACCOUNT = AccountConfig(
    name="main",
    provider="allomia",
    api_key="am-123",
    assistant_id="a1b2c3d4-e5f6-7890-abcd-123456789012",
    phone_number_id="b2c3d4e5-f6a7-8901-bcde-234567890123",
    callback_url="https://dialer.example.com/hooks/allomia",
)
REQUEST = CallRequest(
    attempt_key="att-1",
    campaign="spring",
    phone="+15145551234",
    first_name="John",
    last_name="Doe",
    variables={"patient_id": "12345", "practitioner": "Dr. Smith"},
)
ANSWER = {
    "outboundCallId": "c3d4e5f6-a7b8-9012-cdef-345678901234",
    "contactId": "d4e5f6a7-b8c9-0123-defa-456789012345",
    "status": "calling",
    "message": "Outbound call dispatched",
}


def place(
    request: CallRequest, response: httpx.Response, account: AccountConfig = ACCOUNT
) -> tuple[PlaceResult, httpx.Request]:
    seen: list[httpx.Request] = []

    def handler(sent: httpx.Request) -> httpx.Response:
        seen.append(sent)
        return response

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        result = AllomiaProvider(account, client).place(request)
    return result, seen[0]


def test_request_on_the_wire_and_call_id() -> None:
    result, sent = place(REQUEST, httpx.Response(200, json=ANSWER))
    assert str(sent.url) == "https://allomia.com/api/outbound"
    assert sent.headers["authorization"] == "Bearer am-123"
    assert json.loads(sent.content) == {
        "phoneNumber": "+15145551234",
        "assistantId": "a1b2c3d4-e5f6-7890-abcd-123456789012",
        "phoneNumberId": "b2c3d4e5-f6a7-8901-bcde-234567890123",
        "customerName": "John Doe",
        "dynamicVariables": {"patient_id": "12345", "practitioner": "Dr. Smith"},
        "callbackUrl": "https://dialer.example.com/hooks/allomia",
    }
    assert result.provider_call_id == "c3d4e5f6-a7b8-9012-cdef-345678901234"


def test_request_callback_url_wins_and_none_is_omitted() -> None:
    request = CallRequest(attempt_key="a", campaign="c", phone="+15145551234", callback_url="u")
    _, sent = place(request, httpx.Response(200, json=ANSWER))
    assert json.loads(sent.content)["callbackUrl"] == "u"

    account = ACCOUNT.model_copy(update={"callback_url": None})
    _, sent = place(CallRequest("a", "c", "+15145551234"), httpx.Response(200), account)
    body = json.loads(sent.content)
    assert "callbackUrl" not in body
    assert "customerName" not in body
    assert body["dynamicVariables"] == {}


def test_validation_error_keeps_every_field_message() -> None:
    answer = {
        "error": "Invalid request data",
        "details": [
            {"field": "phoneNumber", "message": "Phone number must be at least 10 digits"},
            {"field": "assistantId", "message": "Invalid uuid", "code": "invalid_string"},
        ],
    }
    with pytest.raises(RejectedByProvider) as caught:
        place(REQUEST, httpx.Response(400, json=answer))
    assert str(caught.value) == (
        "allomia: HTTP 400: Invalid request data (phoneNumber: Phone number must be at least"
        " 10 digits; assistantId: Invalid uuid)"
    )


def test_not_found_is_rejected_with_its_text() -> None:
    answer = {"error": "Assistant or phone number not found"}
    with pytest.raises(RejectedByProvider, match="HTTP 404: Assistant or phone number not found"):
        place(REQUEST, httpx.Response(404, json=answer))


@pytest.mark.parametrize(
    ("phone", "messages", "reason"),
    [
        ("+15145551234", Messages(), None),
        ("+4191234567", Messages(), None),
        ("+" + "1" * 19, Messages(), None),
        ("+49891234", Messages(), "allomia needs a phone number of 10 to 20 characters, got 9"),
        ("+" + "1" * 20, Messages(), "allomia needs a phone number of 10 to 20 characters, got 21"),
        ("+15145551234", Messages(intro="Hi", voicemail="Bye"), "allomia has no field for"),
    ],
)
def test_check(phone: str, messages: Messages, reason: str | None) -> None:
    with httpx.Client() as client:
        found = AllomiaProvider(ACCOUNT, client).check(
            CallRequest(attempt_key="a", campaign="c", phone=phone, messages=messages)
        )
    if reason is None:
        assert found is None
    else:
        assert found is not None and found.startswith(reason)


C, F, B, NA = Outcome.COMPLETED, Outcome.FAILED, Outcome.BUSY, Outcome.NO_ANSWER


@pytest.mark.parametrize(
    ("table", "status", "expected"),
    [
        (STATUSES, "completed", C),
        (STATUSES, "failed", F),
        (STATUSES, "busy", B),
        (STATUSES, "no-answer", NA),
        (STATUSES, "No_Answer", NA),
        (STATUSES, "calling", None),
    ],
)
def test_each_status_word_maps_to_one_outcome_or_not_final(
    table: dict[str, Outcome | None], status: str, expected: Outcome | None
) -> None:
    assert outcome_of(status, table, provider="allomia") == expected


def test_allomia_webhook_reads_terminal_states_and_ignores_others() -> None:
    body = {"outboundCallId": "c-1", "contactId": "x", "status": "busy", "endedAt": "..."}
    assert AllomiaProvider.outcome_from_webhook(body) == ProviderOutcome(
        outcome=B, payload=body, provider_call_id="c-1"
    )
    assert AllomiaProvider.outcome_from_webhook({**body, "status": "calling"}) is None
    with pytest.raises(MalformedOutcome):
        AllomiaProvider.outcome_from_webhook({"status": "busy"})
    with pytest.raises(MalformedOutcome):
        AllomiaProvider.outcome_from_webhook({**body, "status": "exploded"})
