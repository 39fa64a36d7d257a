"""The sandbox's account limits over HTTP: a cap on calls in progress with a call length, an
account-wide outage, and the counts tests read back."""

from __future__ import annotations

import time

import httpx

PHONES = [f"+1212555{3000 + i:04d}" for i in range(6)]


def _call(client: httpx.Client, phone: str) -> httpx.Response:
    return client.post("/sandbox/call", json={"to": phone, "attempt": "k", "campaign": "c"})


def test_calls_beyond_the_cap_are_refused_429_until_one_ends(sandbox_url: str) -> None:
    with httpx.Client(base_url=sandbox_url) as client:
        config = {"max_concurrent_calls": 2, "call_duration_ms": 400}
        client.post("/_sandbox/config", json=config).raise_for_status()
        assert [_call(client, p).status_code for p in PHONES[:3]] == [200, 200, 429]
        placed = _call(client, PHONES[3])
        assert placed.status_code == 429 and placed.json() == {"error": "Too Many Requests"}
        load = client.get("/_sandbox/load").json()
        assert load["in_progress"] == {"sandbox": 2}
        assert load["most"] == {"sandbox": 2} and load["refused"] == {"sandbox": 2}
        time.sleep(0.45)
        assert _call(client, PHONES[4]).status_code == 200
        # A call ends in its outcome when its length has passed.
        call_id = _call(client, PHONES[5]).json()["call_id"]
        time.sleep(0.45)
        assert client.get(f"/sandbox/call/{call_id}").json()["status"] == "completed"


def test_an_outage_refuses_every_call_503_for_its_seconds(sandbox_url: str) -> None:
    with httpx.Client(base_url=sandbox_url) as client:
        assert client.post("/_sandbox/outage", json={"seconds": 0.3}).status_code == 200
        assert _call(client, PHONES[0]).status_code == 503
        assert client.get("/_sandbox/load").json()["outage_refused"] == {"sandbox": 1}
        time.sleep(0.35)
        assert _call(client, PHONES[0]).status_code == 200
        assert client.post("/_sandbox/outage", json={"seconds": "x"}).status_code == 400
        assert client.post("/_sandbox/outage", json={"seconds": 60}).status_code == 200
        client.post("/_sandbox/reset").raise_for_status()
        assert _call(client, PHONES[1]).status_code == 200
