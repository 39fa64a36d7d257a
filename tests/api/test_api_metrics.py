"""``/metrics``: the ledger's counters in Prometheus text, after real calls to the sandbox."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine

from dialer.api.app import create_app
from dialer.ledger import dispatch as ledger_dispatch
from dialer.ledger.engine import session_scope, utcnow
from dialer.wiring import build_service
from tests.api.conftest import API_KEY, api_settings, upload
from tests.draining import drain

LEADS = "Phone\n+12125552671\n+12125552672\n+12125552673\n"


def _samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_calls_by_account_and_result_and_contacts_by_state(
    engine: Engine, database_url: str, sandbox_url: str, tmp_path: Path
) -> None:
    settings = api_settings(database_url, sandbox_url)
    httpx.post(f"{sandbox_url}/_sandbox/rules", json={"phone": "+12125552672", "action": "400"})
    httpx.post(f"{sandbox_url}/_sandbox/rules", json={"phone": "+12125552673", "action": "drop"})
    app = create_app(settings, engine, tmp_path / "files")
    with TestClient(app, headers={"X-API-Key": API_KEY}) as client:
        assert upload(client, content=LEADS)[0] == 201
        client.post("/campaigns/spring/start")
        drain(build_service(settings, engine))
        samples = _samples(client)
    account = ("account", "sandbox")
    for result in ("placed", "failed", "unknown"):
        key = ("dialer_call_attempts_total", (account, ("result", result)))
        assert samples[key] == 1.0, result
        assert samples[("dialer_contacts", (account, ("state", result)))] == 1.0
    assert samples[("dialer_queue_lag_seconds", ())] == 0.0
    # One batch of three at 200/s: the first slot is free, the next two wait ~5 and ~10 ms.
    assert samples[("dialer_rate_limit_waits_total", (account,))] == 2.0
    assert 0.008 <= samples[("dialer_rate_limit_wait_seconds_total", (account,))] < 0.05


def test_queue_lag_is_the_age_of_the_oldest_queued_contact(client: TestClient) -> None:
    upload(client, content=LEADS)
    client.post("/campaigns/spring/start")
    engine = client.app.state.dialer.engine
    with session_scope(engine) as session:
        claimed = ledger_dispatch.claim_due(
            session,
            campaign_id=1,
            zone_keys=["America/New_York"],
            now=utcnow() - timedelta(seconds=90),
            limit=1,
        )
    assert len(claimed) == 1
    samples = _samples(client)
    assert 90 <= samples[("dialer_queue_lag_seconds", ())] < 120
    assert samples[("dialer_contacts", (("account", "sandbox"), ("state", "queued")))] == 1.0
    assert samples[("dialer_contacts", (("account", "sandbox"), ("state", "pending")))] == 2.0
