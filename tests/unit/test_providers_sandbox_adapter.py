"""The sandbox adapter (the dialer's own dry-run provider)."""

from __future__ import annotations

import json

import httpx

from dialer.providers import CallRequest, Messages, SandboxProvider
from dialer.settings import AccountConfig


def test_request_on_the_wire() -> None:
    seen: list[httpx.Request] = []

    def handler(sent: httpx.Request) -> httpx.Response:
        seen.append(sent)
        return httpx.Response(200, json={"call_id": "sbx-1"})

    request = CallRequest(
        attempt_key="att-1",
        campaign="spring",
        phone="+15551234567",
        first_name="Jane",
        variables={"first_name": "Jane", "plan": "gold"},
        messages=Messages(intro="Hi Jane", voicemail="Bye", questions=("Still interested?",)),
    )
    account = AccountConfig(provider="sandbox", base_url="http://127.0.0.1:9")
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        adapter = SandboxProvider(account, client)
        assert adapter.check(request) is None
        result = adapter.place(request)
    (sent,) = seen
    assert str(sent.url) == "http://127.0.0.1:9/sandbox/call"
    assert "authorization" not in sent.headers
    assert json.loads(sent.content) == {
        "to": "+15551234567",
        "attempt": "att-1",
        "campaign": "spring",
        "variables": {"first_name": "Jane", "plan": "gold"},
        "messages": {"intro": "Hi Jane", "voicemail": "Bye", "questions": ["Still interested?"]},
    }
    assert result.provider_call_id == "sbx-1"
