"""``POST /campaigns/{name}/recycle`` and ``GET /campaigns/{name}/export?attempts=1``: the
CLI's recycle and attempts export over HTTP, on SQLite and Postgres, dialed at the sandbox."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col

from dialer.api.app import create_app
from dialer.ledger import outcomes as ledger_outcomes
from dialer.ledger.engine import session_scope, utcnow
from dialer.models import Attempt
from dialer.outcomes import Outcome
from dialer.runner import EmbeddedRunner
from dialer.settings import Settings
from dialer.wiring import build_service
from tests.api.conftest import API_KEY, api_settings, upload

pytestmark = pytest.mark.timeout(60)

LEADS = "First Name,Phone\nAnn,+12125552671\nBob,+12125552672\nCy,+12125552673\n"
REFUSED = "+12125552673"


@pytest.fixture
def settings(database_url: str, sandbox_url: str) -> Settings:
    return api_settings(database_url, sandbox_url)


@pytest.fixture
def dialed(
    engine: Engine, settings: Settings, sandbox_url: str, tmp_path: Path
) -> Iterator[TestClient]:
    """Campaign ``spring`` dialed once at the sandbox: Ann no-answer, Bob completed, Cy's
    request refused 503 then 400 (two attempts)."""
    app = create_app(settings, engine, tmp_path / "files")
    with TestClient(app, headers={"X-API-Key": API_KEY}) as client:
        assert upload(client, content=LEADS)[0] == 201
        for action in ("503", "400"):
            rule = {"phone": REFUSED, "action": action, "times": 1}
            httpx.post(f"{sandbox_url}/_sandbox/rules", json=rule).raise_for_status()
        assert client.post("/campaigns/spring/start").status_code == 200
        EmbeddedRunner(build_service(settings, engine), threads=2).run(drain=True)
        with session_scope(engine) as session:
            for phone, outcome in (("+12125552671", Outcome.NO_ANSWER), ("+12125552672", "c")):
                attempt_id = session.execute(
                    select(col(Attempt.id)).where(col(Attempt.phone) == phone)
                ).scalar_one()
                ledger_outcomes.record_outcome(
                    session,
                    attempt_id=attempt_id,
                    outcome=Outcome.COMPLETED if outcome == "c" else outcome,
                    payload={},
                    now=utcnow(),
                )
        yield client


def test_export_attempts_has_one_row_per_attempt(dialed: TestClient, engine: Engine) -> None:
    response = dialed.get("/campaigns/spring/export", params={"attempts": "1"})
    assert response.status_code == 200
    assert "spring-attempts.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    with session_scope(engine) as session:
        attempts = session.execute(
            select(Attempt).order_by(col(Attempt.started_at), col(Attempt.id))
        ).scalars()
        expected = [
            (a.phone, a.account, str(a.http_status), a.result, a.outcome or "", a.provider_call_id)
            for a in attempts
        ]
    assert len(rows) == 4
    assert [
        (
            r["phone"],
            r["account"],
            r["http_status"],
            r["result"],
            r["outcome"],
            r["provider_call_id"] or None,
        )
        for r in rows
    ] == expected
    refused = [r for r in rows if r["phone"] == REFUSED]
    assert [(r["row"], r["http_status"], r["result"]) for r in refused] == [
        ("3", "503", "pending"),
        ("3", "400", "failed"),
    ]
    assert [r["outcome"] for r in rows if r["phone"] != REFUSED] in (
        ["no-answer", "completed"],
        ["completed", "no-answer"],
    )
    assert all(r["time"] for r in rows)


def test_recycle_over_http_reopens_or_copies(dialed: TestClient) -> None:
    copied = dialed.post(
        "/campaigns/spring/recycle", json={"outcome": ["no-answer"], "into": "spring again"}
    )
    assert copied.status_code == 200, copied.text
    assert copied.json() == {"campaign": "spring again", "contacts": 1, "created": True}
    assert dialed.get("/campaigns/spring again").json()["status"] == "draft"
    taken = dialed.post(
        "/campaigns/spring/recycle", json={"outcome": ["no-answer"], "into": "spring again"}
    )
    assert taken.status_code == 409
    reopened = dialed.post("/campaigns/spring/recycle", json={"outcome": ["no-answer", "busy"]})
    assert reopened.json() == {"campaign": "spring", "contacts": 1, "created": False}
    report = dialed.get("/campaigns/spring").json()
    assert report["status"] == "paused"
    assert report["contacts"]["pending"] == 1
    wrong = dialed.post("/campaigns/spring/recycle", json={"outcome": ["unknown"]})
    assert wrong.status_code == 422
    assert wrong.json()["error"].startswith("outcome.0: Input should be 'completed'")
    assert dialed.post("/campaigns/ghost/recycle", json={"outcome": ["busy"]}).status_code == 404
    schema = dialed.get("/openapi.json").json()
    assert "post" in schema["paths"]["/campaigns/{name}/recycle"]
    params = schema["paths"]["/campaigns/{name}/export"]["get"]["parameters"]
    assert "attempts" in {p["name"] for p in params}
