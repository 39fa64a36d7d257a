"""What a provider echoes back is stored bounded and masked: :func:`dialer.redaction.redact`,
applied where an attempt's error and body enter the ledger (the end-to-end probe, with a
provider that echoes the whole request, is in test_logs.py). The sandbox's request log shows
``Authorization: Bearer ****``, never the key, unless a test asks for the exact request."""

from __future__ import annotations

import json

import httpx
from hypothesis import given
from hypothesis import strategies as st

from dialer.redaction import ERROR_LIMIT, MASK, redact, remember

SECRET = "acct-secret-Xq7Lm2Pz9Rt4"
TOKEN = "cbToken_Kd83jfQ0pa1Z9xYw"


def test_known_secrets_tokens_named_credentials_and_phone_lists_are_masked() -> None:
    remember([SECRET])
    echoed = (
        f'{{"error": "bad key {SECRET}", "callbackUrl": "https://x/webhooks/allomia/{TOKEN}", '
        '"headers": {"Authorization": "Bearer abc.def.ghi", "x-api-key": "k-123456"}, '
        '"to": ["+12125550147", "+12125550148", "2125550149"], "password=hunter22"}'
    )
    masked = redact(echoed)
    for leaked in (
        SECRET,
        TOKEN,
        "abc.def.ghi",
        "k-123456",
        "2125550147",
        "2125550149",
        "hunter22",
    ):
        assert leaked not in masked
    assert f"/webhooks/allomia/{MASK}" in masked and f"Bearer {MASK}" in masked


def test_an_error_is_bounded() -> None:
    masked = redact("x" * 10_000, limit=ERROR_LIMIT)
    assert len(masked) == ERROR_LIMIT and masked.endswith("…")


def test_short_values_are_not_remembered_as_secrets() -> None:
    remember(["ab", ""])
    assert redact("a table, a cab") == "a table, a cab"


@given(st.text(max_size=200), st.text(max_size=200), st.integers(min_value=2, max_value=500))
def test_a_remembered_secret_never_survives(before: str, after: str, limit: int) -> None:
    remember([SECRET])
    masked = redact(before + SECRET + after, limit=limit)
    assert SECRET not in masked and len(masked) <= limit


KEY = "allomia-key-Wq4zR8tY2uI6oP0a"
SECRET = "legacy-secret-Zx9Cv8Bn7Mm6"


def test_the_request_log_masks_credentials(sandbox_url: str) -> None:
    with httpx.Client(base_url=sandbox_url) as client:
        client.delete("/_sandbox/requests")
        client.post(
            "/api/outbound",
            headers={"Authorization": f"Bearer {KEY}"},
            json={"phoneNumber": "+12125550147", "assistantId": "a", "phoneNumberId": "p"},
        )
        client.post(
            "/api/v1/outbound/call", headers={"x-api-key": KEY}, json={"toPhoneNumber": "+1"}
        )
        client.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials", "client_id": "c", "client_secret": SECRET},
        )
        shown = client.get("/_sandbox/requests").json()
        exact = client.get("/_sandbox/requests", params={"credentials": "show"}).json()
    assert [r["headers"].get("authorization") for r in shown][:1] == ["Bearer ****"]
    assert shown[1]["headers"]["x-api-key"] == "****"
    assert shown[2]["form"]["client_secret"] == "****" and shown[2]["form"]["client_id"] == "c"
    listed = json.dumps(shown)
    assert KEY not in listed and SECRET not in listed
    assert exact[0]["headers"]["authorization"] == f"Bearer {KEY}"
    assert exact[2]["form"]["client_secret"] == SECRET
