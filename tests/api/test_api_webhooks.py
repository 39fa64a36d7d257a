"""``POST /webhooks/{provider}/{token}`` over a real ledger (SQLite and Postgres), with calls
really placed at the sandbox: accepted, replayed, refused, malformed, unknown, fuzzed; and the
whole loop, the sandbox's own AlloMia webhook reaching a served API."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from dialer.api.app import create_app
from dialer.models import Attempt, Campaign
from dialer.providers.base import ATTEMPT_FIELD
from dialer.settings import Settings
from dialer.wiring import build_service
from tests.api.conftest import ServedApp, api_settings
from tests.outcome_support import (
    accounts,
    attempts,
    dial_all,
    make_campaign,
    sandbox_calls,
    snapshot,
)
from tests.sandbox_fixture import SandboxControl

PHONE, OTHER, REFUSED = "+12125550121", "+12125550122", "+12125550123"


@dataclass
class World:
    client: TestClient
    engine: Engine
    allo: Campaign
    tri: Campaign

    def post(self, provider: str, token: str, body: Any) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.client.post(
            f"/webhooks/{quote(provider, safe='')}/{quote(token, safe='')}",
            content=content,
            headers={"content-type": "application/json"},
        )

    def attempt(self, campaign: Campaign, phone: str) -> Attempt:
        return next(a for a in attempts(self.engine, campaign.name) if a.phone == phone)


def _settings(database_url: str, sandbox_url: str, public_url: str) -> Settings:
    # Campaigns on two providers dial the same numbers at once: no minimum gap here.
    return api_settings(
        database_url,
        sandbox_url,
        accounts=accounts(sandbox_url),
        public_url=public_url,
        min_call_gap="0",
    )


@pytest.fixture
def world(engine: Engine, database_url: str, sandbox_url: str, tmp_path: Path) -> Iterator[World]:
    """An allomia campaign (two calls per contact) and a trillet one, every number dialed
    once; the sandbox sends no webhooks of its own here."""
    with SandboxControl(sandbox_url) as sandbox:
        sandbox.configure(webhooks=False, call_duration_ms=3_600_000)
        sandbox.add_rule(REFUSED, "400")
    settings = _settings(database_url, sandbox_url, "http://127.0.0.1:9")
    dialer = build_service(settings, engine)
    allo = make_campaign(
        engine,
        settings,
        tmp_path,
        [PHONE, OTHER],
        name="allo",
        account="allomia",
        max_attempts=2,
        retry_after="10m",
    )
    tri = make_campaign(
        engine, settings, tmp_path, [PHONE, OTHER, REFUSED], name="tri", account="trillet"
    )
    dial_all(dialer)
    dialer.providers.close()
    app = create_app(settings, engine, tmp_path / "files")
    with TestClient(app) as client:
        yield World(client, engine, allo, tri)


def _allomia(call_id: str | None, status: str = "completed") -> dict[str, Any]:
    return {"outboundCallId": call_id, "contactId": "c", "status": status, "endedAt": "2026"}


def test_an_allomia_webhook_records_the_outcome_once(world: World) -> None:
    call = world.attempt(world.allo, PHONE)
    body = _allomia(call.provider_call_id)
    answer = world.post("allomia", world.allo.callback_token, body)
    assert (answer.status_code, answer.json()) == (200, {"result": "recorded"})
    stored = world.attempt(world.allo, PHONE)
    assert (stored.outcome, stored.outcome_payload) == ("completed", body)
    assert stored.outcome_at is not None

    before = snapshot(world.engine)
    replay = world.post("allomia", world.allo.callback_token, {**body, "status": "failed"})
    assert (replay.status_code, replay.json()) == (200, {"result": "duplicate"})
    assert snapshot(world.engine) == before


def test_a_no_answer_webhook_puts_the_contact_back_for_another_call(world: World) -> None:
    call = world.attempt(world.allo, OTHER)
    answer = world.post(
        "allomia", world.allo.callback_token, _allomia(call.provider_call_id, "no-answer")
    )
    assert (answer.status_code, answer.json()) == (200, {"result": "recalled"})


def test_trillet_webhooks_are_matched_by_our_attempt_key_or_their_call_id(world: World) -> None:
    by_key = world.attempt(world.tri, PHONE)
    event = {
        "event": "call.completed",
        "data": {"callId": "not-theirs", "status": "busy", "metadata": {ATTEMPT_FIELD: by_key.key}},
    }
    assert world.post("trillet", world.tri.callback_token, event).json() == {"result": "recorded"}
    by_id = world.attempt(world.tri, OTHER)
    event = {"event": "call.failed", "data": {"call_id": by_id.provider_call_id}}
    assert world.post("trillet", world.tri.callback_token, event).json() == {"result": "recorded"}
    outcomes = {a.phone: a.outcome for a in attempts(world.engine, "tri")}
    assert outcomes == {PHONE: "busy", OTHER: "failed", REFUSED: None}


def test_events_that_are_not_a_final_outcome_are_ignored(world: World) -> None:
    call = world.attempt(world.allo, PHONE)
    before = snapshot(world.engine)
    for provider, token, body in [
        ("allomia", world.allo.callback_token, _allomia(call.provider_call_id, "calling")),
        ("trillet", world.tri.callback_token, {"event": "call.started", "data": {"callId": "x"}}),
        ("trillet", world.tri.callback_token, {"event": "sms.sent", "data": {}}),
    ]:
        answer = world.post(provider, token, body)
        assert (answer.status_code, answer.json()) == (200, {"result": "ignored"})
    assert snapshot(world.engine) == before


def test_refused_webhooks_are_logged_in_one_line_and_change_nothing(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    allo, tri = world.allo.callback_token, world.tri.callback_token
    call = world.attempt(world.allo, PHONE).provider_call_id
    never = world.attempt(world.tri, REFUSED)
    cases: dict[str, tuple[int, str, str, Any]] = {
        "provider without webhooks": (404, "libby", allo, _allomia(call)),
        "unknown token": (401, "allomia", "x" * 32, _allomia(call)),
        "another provider's campaign": (401, "trillet", allo, _allomia(call)),
        "not JSON": (400, "allomia", allo, b"{nope"),
        "a JSON array": (400, "allomia", allo, [_allomia(call)]),
        "NaN": (400, "allomia", allo, b'{"outboundCallId": NaN}'),
        "NUL character": (400, "allomia", allo, b'{"outboundCallId": "a\\u0000"}'),
        "no status": (422, "allomia", allo, {"outboundCallId": call}),
        "unknown status": (422, "allomia", allo, _allomia(call, "exploded")),
        "no call id": (422, "allomia", allo, _allomia(None)),
        "unknown call id": (404, "allomia", allo, _allomia("0000-not-a-call")),
        "call never placed": (
            409,
            "trillet",
            tri,
            {"event": "call.completed", "metadata": {ATTEMPT_FIELD: never.key}},
        ),
        "too big": (413, "allomia", allo, {**_allomia(call), "pad": "x" * 70_000}),
    }
    before = snapshot(world.engine)
    caplog.set_level(logging.INFO, logger="dialer.api.webhooks")
    for case, (status, provider, token, body) in cases.items():
        caplog.clear()
        answer = world.post(provider, token, body)
        assert (answer.status_code, set(answer.json())) == (status, {"error"}), case
        logged = [r.getMessage() for r in caplog.records if r.name == "dialer.api.webhooks"]
        assert len(logged) == 1 and f"({status})" in logged[0], (case, logged)
        assert "\n" not in logged[0], case
        assert allo not in logged[0] and tri not in logged[0] and PHONE not in logged[0], case
    assert snapshot(world.engine) == before


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
_WORDS = st.sampled_from(["completed", "no-answer", "busy", "calling", "call.completed", ""])
_SHAPED = st.fixed_dictionaries(
    {},
    optional={
        "outboundCallId": st.text() | st.integers(),
        "callId": st.text(),
        "status": _WORDS | st.text() | _JSON,
        "event": _WORDS | st.text(),
        "data": _JSON | st.fixed_dictionaries({"status": _WORDS, "callId": st.text()}),
        "metadata": st.dictionaries(st.just(ATTEMPT_FIELD), st.text()) | _JSON,
    },
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    provider=st.sampled_from(["allomia", "trillet", "libby"]) | st.text(min_size=1, max_size=8),
    use_token=st.booleans(),
    body=st.binary(max_size=200) | _JSON.map(lambda v: json.dumps(v).encode()) | _SHAPED,
)
def test_fuzzed_webhooks_never_fail_and_never_change_the_ledger(
    world: World, provider: str, use_token: bool, body: Any
) -> None:
    before = snapshot(world.engine)
    token = world.allo.callback_token if use_token else "A" * 32
    answer = world.post(provider, token, body)
    assert answer.status_code in {200, 400, 401, 404, 405, 409, 413, 422}, answer.text
    if answer.status_code == 200:
        assert answer.json() == {"result": "ignored"}
    assert snapshot(world.engine) == before


def test_the_sandboxs_allomia_webhook_reaches_a_served_api_and_is_recorded(
    engine: Engine, database_url: str, sandbox_url: str, tmp_path: Path
) -> None:
    with SandboxControl(sandbox_url) as sandbox:
        sandbox.configure(call_duration_ms=200, outcomes={PHONE: "busy"})
    app = create_app(_settings(database_url, sandbox_url, "unused"), engine, tmp_path / "files")
    with ServedApp(app) as served:
        settings = _settings(database_url, sandbox_url, served.url)
        own = settings.accounts["allomia"].model_copy(
            update={"name": "own", "callback_url": "http://127.0.0.1:9/hook"}
        )
        settings = settings.model_copy(update={"accounts": {**settings.accounts, "own": own}})
        dialer = build_service(settings, engine)
        allo = make_campaign(
            engine, settings, tmp_path, [PHONE, OTHER], name="a", account="allomia"
        )
        tri = make_campaign(engine, settings, tmp_path, [PHONE], name="t", account="trillet")
        mine = make_campaign(engine, settings, tmp_path, [OTHER], name="o", account="own")
        dial_all(dialer)
        dialer.providers.close()
        deadline = time.monotonic() + 15
        while any(a.outcome is None for a in attempts(engine, "a")):
            assert time.monotonic() < deadline, "no webhook recorded"
            time.sleep(0.05)

    assert {a.phone: a.outcome for a in attempts(engine, "a")} == {
        PHONE: "busy",
        OTHER: "completed",
    }
    assert sandbox_calls(sandbox_url, "/", method="GET") == {}  # webhooks, not polls
    sent = httpx.get(f"{sandbox_url}/_sandbox/requests").json()
    callbacks = {
        r["json"].get("callbackUrl", r["json"].get("callback_url"))
        for r in sent
        if r["method"] == "POST"
    }
    assert callbacks == {
        f"{served.url}/webhooks/allomia/{allo.callback_token}",
        f"{served.url}/webhooks/trillet/{tri.callback_token}",
        "http://127.0.0.1:9/hook",
    }
    assert mine.callback_token not in str(callbacks)
