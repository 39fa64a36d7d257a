"""The API under test: ``create_app`` over a real ledger, called in-process (TestClient) or,
for the browser, served by uvicorn on a free port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from dialer.api.app import create_app
from dialer.ledger.engine import make_engine
from dialer.settings import AccountConfig, Settings

API_KEY = "test-key-0123456789abcdef"
OTHER_KEY = "second-key-fedcba9876543210"
LEADS = "First Name,Phone,City\nAnn,(212) 555-2671,NYC\nBob,n/a,LA\nCy,2125552671,NYC\n"


def api_settings(
    database_url: str, sandbox_url: str = "http://127.0.0.1:9", **extra: object
) -> Settings:
    """Settings with the two test keys and a ``sandbox`` account at ``sandbox_url``."""
    sandbox = AccountConfig(
        name="sandbox",
        provider="sandbox",
        base_url=sandbox_url,
        rate="200/s",
        timeout=2,
        max_attempts=2,
        backoff_seconds=0.2,
    )
    fields: dict[str, object] = {
        "database_url": database_url,
        "accounts": {"sandbox": sandbox},
        "api_keys": (SecretStr(API_KEY), SecretStr(OTHER_KEY)),
        "tick_seconds": 0.1,
        **extra,
    }
    return Settings.model_validate(fields)


def upload(
    client: TestClient,
    name: str = "spring",
    content: str | bytes = LEADS,
    *,
    filename: str = "leads.csv",
    **form: str | list[str],
) -> tuple[int, dict[str, object]]:
    """POST /campaigns with the CSV and form fields; (status, JSON body)."""
    data = {"name": name, "account": "sandbox", "window": "00:00-24:00", "days": "all", **form}
    response = client.post("/campaigns", files={"file": (filename, content, "text/csv")}, data=data)
    return response.status_code, response.json()


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture
def client(sqlite_url: str, sqlite_engine: Engine, tmp_path: Path) -> Iterator[TestClient]:
    """An authenticated client of the API on a fresh SQLite ledger."""
    app = create_app(api_settings(sqlite_url), sqlite_engine, tmp_path / "files")
    with TestClient(app, headers={"X-API-Key": API_KEY}) as test_client:
        yield test_client


class ServedApp:
    """``app`` served by uvicorn from a thread on a free loopback port."""

    def __init__(self, app: FastAPI) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def __enter__(self) -> ServedApp:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()
