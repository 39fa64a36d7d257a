"""``POST /campaigns`` over several accounts (``account`` repeated as NAME=WEIGHT,
``failover``), the split in ``GET /campaigns/{name}``, and ``GET /campaigns/{name}/compare``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from dialer.api.app import create_app
from dialer.settings import AccountConfig
from tests.api.conftest import API_KEY, api_settings, upload


@pytest.fixture
def duo(sqlite_url: str, sqlite_engine: Engine, tmp_path: Path) -> Iterator[TestClient]:
    settings = api_settings(sqlite_url)
    trial = AccountConfig.model_validate({"name": "trial", "provider": "sandbox"})
    poly = AccountConfig.model_validate(
        {"name": "poly", "provider": "polyai", "token": "t", "encryption": "TLS/SRTP"}
    )
    accounts = {**settings.accounts, "trial": trial, "poly": poly}
    app = create_app(
        settings.model_copy(update={"accounts": accounts}), sqlite_engine, tmp_path / "files"
    )
    with TestClient(app, headers={"X-API-Key": API_KEY}) as client:
        yield client


def test_a_campaign_over_two_accounts_and_its_comparison(duo: TestClient) -> None:
    status, body = upload(duo, account=["sandbox=70", "trial=30"], failover="true")
    assert status == 201, body
    report = duo.get("/campaigns/spring").json()
    assert report["accounts"] == [
        {"name": "sandbox", "weight": 70},
        {"name": "trial", "weight": 30},
    ]
    assert report["failover"] is True and report["reassigned"] == 0
    found = duo.get("/campaigns/spring/compare").json()
    assert [a["account"] for a in found["accounts"]] == ["sandbox", "trial"]
    assert found["not_yet_attempted"] == 1 and found["accounts"][0]["contacts"] == 0
    assert duo.get("/campaigns/ghost/compare").status_code == 404
    paths = duo.get("/openapi.json").json()["paths"]
    assert "/campaigns/{name}/compare" in paths


def test_one_account_is_as_before(duo: TestClient) -> None:
    assert upload(duo)[0] == 201
    report = duo.get("/campaigns/spring").json()
    assert report["account"] == "sandbox" and report["accounts"] == []


def test_every_accounts_provider_is_checked_and_named(duo: TestClient) -> None:
    status, body = upload(duo, account=["sandbox=1", "poly=1"], instructions="Be kind")
    assert status == 422
    assert body == {"error": "account 'poly': polyai has no field for instructions"}
