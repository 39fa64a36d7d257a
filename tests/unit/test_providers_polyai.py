"""The PolyAI adapter: string-only metadata, encryption, call_sid, the 26 KB metadata rule, its
status words."""

from __future__ import annotations

import json

import httpx
import pytest

from dialer.outcomes import Outcome, outcome_of
from dialer.providers import CallRequest, Messages, PlaceResult, PolyaiProvider
from dialer.providers.polyai import METADATA_LIMIT, STATUSES
from dialer.settings import AccountConfig

ACCOUNT = AccountConfig(name="main", provider="polyai", token="pt-123")
REQUEST = CallRequest(
    attempt_key="att-1",
    campaign="spring",
    phone="+16176451984",
    first_name="Paul",
    last_name="Glynn",
    variables={"patient_dob": "1981-August-26", "patient_zip_code": "07676"},
)


def place(
    response: httpx.Response, account: AccountConfig = ACCOUNT
) -> tuple[PlaceResult, httpx.Request]:
    seen: list[httpx.Request] = []

    def handler(sent: httpx.Request) -> httpx.Response:
        seen.append(sent)
        return response

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        result = PolyaiProvider(account, client).place(REQUEST)
    return result, seen[0]


def test_request_on_the_wire() -> None:
    answer = {"call_sid": "OUT-550e8400-e29b-41d4-a716-446655440000"}
    result, sent = place(httpx.Response(200, json=answer))
    assert str(sent.url) == "https://api.us-1.platform.polyai.app/v1/outbound-calling"
    assert sent.headers["x-polyai-auth-token"] == "pt-123"
    assert json.loads(sent.content) == {
        "to_number": "+16176451984",
        "metadata": {
            "first_name": "Paul",
            "last_name": "Glynn",
            "patient_dob": "1981-August-26",
            "patient_zip_code": "07676",
            "dialerAttempt": "att-1",
            "dialerCampaign": "spring",
        },
        "encryption": "TLS/SRTP",
    }
    assert result.provider_call_id == "OUT-550e8400-e29b-41d4-a716-446655440000"


def test_configured_encryption() -> None:
    _, sent = place(httpx.Response(200), ACCOUNT.model_copy(update={"encryption": "UDP/RTP"}))
    assert json.loads(sent.content)["encryption"] == "UDP/RTP"


def with_note(length: int) -> CallRequest:
    return CallRequest(
        attempt_key="a" * 36, campaign="c", phone="+1", variables={"n": "x" * length}
    )


def test_check_metadata_size_limit() -> None:
    # The metadata's compact JSON around the note; base64 turns every 3 bytes into 4, so JSON of
    # 19497 bytes encodes to 25996 (fits) and 19498 bytes to 26000 (too large).
    metadata = {"n": "", "dialerAttempt": "a" * 36, "dialerCampaign": "c"}
    overhead = len(json.dumps(metadata, separators=(",", ":")))
    fits = METADATA_LIMIT * 3 // 4 - 3 - overhead
    with httpx.Client() as client:
        adapter = PolyaiProvider(ACCOUNT, client)
        assert adapter.check(with_note(fits)) is None
        reason = adapter.check(with_note(fits + 1))
    assert reason == "polyai metadata is 26000 bytes in base64, over the 26000 limit"


@pytest.mark.parametrize("messages", [Messages(intro="Hi", voicemail="B"), Messages(rules=("r",))])
def test_check_refuses_message_texts(messages: Messages) -> None:
    with httpx.Client() as client:
        reason = PolyaiProvider(ACCOUNT, client).check(
            CallRequest("a", "c", "+1", messages=messages)
        )
    assert reason is not None and reason.startswith("polyai has no field for")


C, F = Outcome.COMPLETED, Outcome.FAILED


@pytest.mark.parametrize(
    ("table", "status", "expected"),
    [
        (STATUSES, "success", C),
        (STATUSES, "failure", F),
        (STATUSES, "queued", None),
        (STATUSES, "calling", None),
    ],
)
def test_each_status_word_maps_to_one_outcome_or_not_final(
    table: dict[str, Outcome | None], status: str, expected: Outcome | None
) -> None:
    assert outcome_of(status, table, provider="polyai") == expected
