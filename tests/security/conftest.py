"""Fixtures of the security tests: the API over a fresh SQLite ledger."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dialer.api.app import create_app
from dialer.ledger.engine import make_engine
from tests.api.conftest import API_KEY, api_settings


@pytest.fixture
def api(sqlite_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """An authenticated client; server exceptions come back as 500s, as a user would see."""
    engine = make_engine(sqlite_url)
    app = create_app(api_settings(sqlite_url), engine, tmp_path / "files")
    with TestClient(app, headers={"X-API-Key": API_KEY}, raise_server_exceptions=False) as client:
        yield client
    engine.dispose()
