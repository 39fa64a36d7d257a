"""``/outbound-webhooks`` and the webhook lines of ``/metrics``, over a real ledger and a real
receiver; the event bodies in the OpenAPI schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine

from dialer.api.app import create_app
from dialer.webhooks.deliver import Courier, deliver_due
from tests.api.conftest import API_KEY, api_settings, upload
from tests.webhook_receiver import SECRET, Receiver
from tests.webhook_support import endpoint


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    modes = {"now": "400"}
    with Receiver(lambda _id, _n: modes["now"]) as found:
        found.modes_now = modes  # type: ignore[attr-defined]
        yield found


@pytest.fixture
def hooked(
    sqlite_url: str, sqlite_engine: Engine, tmp_path: Path, receiver: Receiver
) -> Iterator[TestClient]:
    url = receiver.url.replace("http://", "http://user:pa55@") + "?token=t0p"
    settings = api_settings(sqlite_url, webhooks=[endpoint(url, timeout=2)])
    app = create_app(settings, sqlite_engine, tmp_path / "files")
    with TestClient(app, headers={"X-API-Key": API_KEY}) as client:
        yield client


def _metrics(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = client.get("/metrics").text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("dialer_webhook")
    }


def test_events_are_listed_resent_and_counted(
    hooked: TestClient, sqlite_engine: Engine, receiver: Receiver
) -> None:
    assert upload(hooked)[0] == 201
    for action in ("start", "pause"):
        assert hooked.post(f"/campaigns/spring/{action}").status_code == 200
    (event,) = hooked.get("/outbound-webhooks/events").json()
    assert (event["endpoint"], event["type"], event["state"], event["tries"]) == (
        "crm",
        "campaign.paused",
        "pending",
        0,
    )
    assert _metrics(hooked)[("dialer_webhook_oldest_undelivered_seconds", ())] > 0
    hook = endpoint(receiver.url, timeout=2)
    courier = Courier(sqlite_engine, [hook])
    try:
        deliver_due(courier)  # refused with a 400: dead at once
        (dead,) = hooked.get("/outbound-webhooks/events", params={"status": "dead"}).json()
        assert (dead["id"], dead["last_status"], dead["tries"]) == (event["id"], 400, 1)
        samples = _metrics(hooked)
        assert (
            samples[("dialer_webhook_deliveries_total", (("endpoint", "crm"), ("result", "dead")))]
            == 1
        )
        assert samples[("dialer_webhook_oldest_undelivered_seconds", ())] == 0
        resent = hooked.post(f"/outbound-webhooks/events/{event['id']}/resend")
        assert resent.json() == {"resent": [event["id"]]}
        again = hooked.post(f"/outbound-webhooks/events/{event['id']}/resend")
        assert again.status_code == 404
        assert again.json() == {
            "error": f"no event {event['id']} to resend (unknown, or still pending)"
        }
        assert hooked.post("/outbound-webhooks/events/resend-dead").json() == {"resent": []}
        receiver.modes_now["now"] = "ok"  # type: ignore[attr-defined]
        deliver_due(courier)
    finally:
        courier.close()
    (delivered,) = hooked.get("/outbound-webhooks/events").json()
    assert (delivered["state"], delivered["tries"]) == ("delivered", 1)  # a fresh budget
    assert list(receiver.processed) == [delivered["webhook_id"]]
    assert receiver.tries[delivered["webhook_id"]] == 2
    samples = _metrics(hooked)
    assert (
        samples[("dialer_webhook_deliveries_total", (("endpoint", "crm"), ("result", "delivered")))]
        == 1
    )


def test_endpoints_are_shown_masked_and_pinged(hooked: TestClient, receiver: Receiver) -> None:
    listed = hooked.get("/outbound-webhooks/endpoints")
    (shown,) = listed.json()
    assert shown["url"] == receiver.url.replace("http://", "http://***@") + "?token=***"
    assert "pa55" not in listed.text and "t0p" not in listed.text and SECRET not in listed.text
    receiver.modes_now["now"] = "ok"  # type: ignore[attr-defined]
    ping = hooked.post("/outbound-webhooks/endpoints/crm/test")
    assert ping.json() == {"delivered": True, "status": 200, "error": ""}
    (body,) = receiver.processed.values()
    assert body["type"] == "ping"
    unknown = hooked.post("/outbound-webhooks/endpoints/erp/test")
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "no webhook named 'erp' (configured: crm)"}


def test_every_event_body_is_in_the_openapi_schema(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert set(schema["webhooks"]) == {
        "call.placed",
        "call.failed",
        "call.unknown",
        "call.outcome",
        "campaign.completed",
        "campaign.paused",
        "ping",
    }
    body = schema["webhooks"]["call.outcome"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"] == {"$ref": "#/components/schemas/CallEvent"}
    for model in ("CallEvent", "CampaignEvent", "PingEvent", "CallData", "ContactData"):
        assert model in schema["components"]["schemas"]
