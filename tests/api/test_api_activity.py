"""The console's reads through the HTTP API: recent attempts, calls over time, the calling
window now, an import's rejects as JSON and an account's health.

Attempts are written by the real dispatcher against the sandbox (SQLite and Postgres), or
placed at chosen times in the ledger where the bucketing itself is under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from dialer.api.app import create_app
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import contacts as ledger_contacts
from dialer.ledger.engine import session_scope
from dialer.models import Attempt, Campaign, Contact
from dialer.wiring import build_service
from tests.api.conftest import API_KEY, api_settings, upload
from tests.draining import drain

pytestmark = pytest.mark.timeout(60)

MESSY = (
    "First Name,Mobile Phone,City\n"
    "Ann,(212) 555-2671,NYC\n"
    "Bob,n/a,LA\n"
    "Cy,2125552671,NYC\n"
    "Di,+44 20 7946 0958,London\n"
    "Ed,+1 212 555 2672 ext. 7,NYC\n"
)


@pytest.fixture
def dialed(
    engine: Engine, database_url: str, sandbox_url: str, tmp_path: Path
) -> Iterator[TestClient]:
    """A client whose campaign ``spring`` (3 contacts) has been dialed to the end."""
    settings = api_settings(database_url, sandbox_url)
    app = create_app(settings, engine, tmp_path / "files")
    with TestClient(app, headers={"X-API-Key": API_KEY}) as client:
        assert upload(client, content=MESSY)[0] == 201
        assert client.post("/campaigns/spring/start").status_code == 200
        drain(build_service(settings, engine))
        yield client


def test_recent_attempts_newest_first_with_a_limit(dialed: TestClient) -> None:
    attempts = dialed.get("/campaigns/spring/attempts").json()
    assert sorted(a["row"] for a in attempts) == [1, 4, 5]
    assert {a["result"] for a in attempts} == {"placed"}
    assert all(a["provider_call_id"] and a["http_status"] == 200 for a in attempts)
    started = [a["started_at"] for a in attempts]
    assert started == sorted(started, reverse=True)
    phones = {a["row"]: a["phone"] for a in attempts}
    assert phones[1] == "+12125552671" and phones[4] == "+442079460958"
    assert len(dialed.get("/campaigns/spring/attempts?limit=2").json()) == 2
    assert dialed.get("/campaigns/spring/attempts?limit=0").status_code == 422


def test_calls_over_the_campaigns_life_by_result(dialed: TestClient) -> None:
    series = dialed.get("/campaigns/spring/calls").json()
    assert series["bucket_seconds"] == 60
    assert sum(p["total"] for p in series["points"]) == 3
    assert sum(p["by_result"].get("placed", 0) for p in series["points"]) == 3
    first = datetime.fromisoformat(series["first_attempt_at"])
    since = datetime.fromisoformat(series["since"])
    assert since <= first < since + timedelta(seconds=60)


def test_calls_and_list_count_the_last_minute(dialed: TestClient) -> None:
    (item,) = dialed.get("/campaigns").json()
    assert item["calls_last_minute"] == 3
    assert (item["status"], item["done"], item["total"]) == ("completed", 3, 3)
    assert item["contacts"]["placed"] == 3


def test_window_now_and_account_health(dialed: TestClient) -> None:
    window = dialed.get("/campaigns/spring/window").json()
    assert window["hours"] == "00:00-24:00 in each recipient's own time zone, every day"
    assert (window["pending"], window["open_now"], window["open_percent"]) == (0, 0, None)
    assert window["is_default"] is False
    health = dialed.get("/accounts/sandbox").json()
    assert (health["provider"], health["rate"], health["rate_per_second"]) == (
        "sandbox",
        "200/s",
        200.0,
    )
    assert health["recent"] == {"placed": 3}
    # No broker and no runner in this server: it cannot read the capacity, so it says none.
    assert "capacity" not in health
    assert health["messages"] == [
        "intro",
        "voicemail",
        "instructions",
        "intro_notes",
        "questions",
        "rules",
    ]
    assert dialed.get("/accounts/ghost").json() == {
        "error": "no account named 'ghost' on this server"
    }


def _attempts_at(engine: Engine, moments: list[tuple[datetime, str | None]]) -> None:
    """A campaign ``timed`` with one contact and one attempt at each moment, with that result."""
    with session_scope(engine) as session:
        campaign = ledger_campaigns.create_campaign(
            session, campaign=Campaign(name="timed", account="sandbox", created_at=moments[0][0])
        )
        assert campaign.id is not None
    phone = "+12125550100"
    frame = pd.DataFrame(
        {
            "row": [1],
            "phone": [phone],
            "raw_phone": [phone],
            "extension": [None],
            "number_type": "mobile",
            "zone_key": "",
            "first_name": "",
            "last_name": "",
            "email": "",
            "variables": ["{}"],
        }
    )
    with engine.begin() as conn:
        ledger_contacts.insert_contacts(conn, campaign_id=campaign.id, frame=frame)
    with session_scope(engine) as session:
        contact_id = session.exec(select(Contact.id)).one()
        assert contact_id is not None
        for i, (at, result) in enumerate(moments):
            session.add(
                Attempt(
                    key=f"k{i}",
                    contact_id=contact_id,
                    campaign_id=campaign.id,
                    account="sandbox",
                    phone=phone,
                    started_at=at,
                    result=result,
                )
            )


def test_buckets_are_aligned_and_empty_ones_are_kept(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    base = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    _attempts_at(
        engine,
        [
            (base + timedelta(seconds=5), "placed"),
            (base + timedelta(seconds=59), "pending"),
            (base + timedelta(minutes=2, seconds=1), "placed"),
            (base + timedelta(minutes=2, seconds=30), None),
            (base + timedelta(minutes=9), "failed"),  # outside the range asked for
        ],
    )
    app = create_app(api_settings(database_url), engine, tmp_path / "files")
    with TestClient(app, headers={"X-API-Key": API_KEY}) as client:
        query = "since=2026-12-01T09:00:30&until=2026-12-01T09:03:00&bucket=60"
        series = client.get(f"/campaigns/timed/calls?{query}").json()
        assert series["since"] == "2026-12-01T09:00:00Z"
        assert [(p["at"], p["by_result"]) for p in series["points"]] == [
            # since moves back to its bucket's start: every bucket is counted whole.
            ("2026-12-01T09:00:00Z", {"placed": 1, "pending": 1}),
            ("2026-12-01T09:01:00Z", {}),
            ("2026-12-01T09:02:00Z", {"placed": 1, "in_flight": 1}),
        ]
        whole = client.get("/campaigns/timed/calls?until=2026-12-01T09:10:00&bucket=300").json()
        assert [(p["at"], p["total"]) for p in whole["points"]] == [
            ("2026-12-01T09:00:00Z", 4),
            ("2026-12-01T09:05:00Z", 1),
        ]
        too_many = client.get("/campaigns/timed/calls?since=2026-01-01T00:00:00&bucket=60")
        assert too_many.status_code == 422
        assert "buckets of 60 s" in too_many.json()["error"]
        backwards = client.get("/campaigns/timed/calls?since=2026-12-02T00:00:00&until=2026-12-01")
        assert backwards.json() == {"error": "since must be before until"}
        assert client.get("/campaigns/ghost/calls").status_code == 404


def test_rejects_as_json_rows_with_a_limit(client: TestClient) -> None:
    assert upload(client, content=MESSY)[0] == 201
    rejects = client.get("/campaigns/spring/rejects/rows").json()
    assert rejects == {
        "rows": [
            {"row": 2, "value": "n/a", "reason": "missing", "detail": "no phone number"},
            {
                "row": 3,
                "value": "2125552671",
                "reason": "duplicate",
                "detail": "same number as row 1",
            },
        ],
        "more": False,
    }
    first = client.get("/campaigns/spring/rejects/rows?limit=1").json()
    assert (len(first["rows"]), first["more"]) == (1, True)
    assert client.get("/campaigns/ghost/rejects/rows").status_code == 404
