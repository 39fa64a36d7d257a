"""Shared fixtures: real Redis, real Postgres, real SQLite files.

Tests that need Redis or Postgres skip when the service is down, unless
``DIALER_TEST_REQUIRE_SERVICES=1`` (CI), where they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
import sqlalchemy
from hypothesis import settings
from sqlalchemy.engine import Engine

from dialer.ledger.engine import make_engine, migrate
from dialer.sandbox import SandboxServer

REDIS_URL = os.environ.get("DIALER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES_ADMIN_URL = os.environ.get(
    "DIALER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_SERVICES = os.environ.get("DIALER_TEST_REQUIRE_SERVICES") == "1"

# In CI every property test draws the same examples each run, so a red build always means a
# change broke something; locally they keep exploring new inputs.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


def _service_missing(what: str, exc: Exception) -> None:
    message = f"{what} unavailable: {exc}"
    if REQUIRE_SERVICES:
        pytest.fail(message + " (DIALER_TEST_REQUIRE_SERVICES=1)")
    pytest.skip(message)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis URL on the tests' own database number, flushed before and after."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        _service_missing("Redis", exc)
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh Postgres database for this test session, dropped at the end."""
    admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"dialer_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    except sqlalchemy.exc.OperationalError as exc:
        admin.dispose()
        _service_missing("PostgreSQL", exc)
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sqlalchemy.text(
                "TRUNCATE attempt, attempt_count, contact, contact_count, suppression, campaign"
                ", webhook_event, webhook_subscription, webhook_counter RESTART IDENTITY CASCADE"
            )
        )


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty ledger database: every ledger test runs on SQLite and on Postgres."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        yield url
        return
    url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate(engine)
    _truncate_all(engine)
    yield url
    _truncate_all(engine)
    engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on :func:`database_url`."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite ledger only (for tests that don't need to run on both)."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """One sandbox provider server (in a thread) for the whole session."""
    with SandboxServer() as server:
        yield server


@pytest.fixture
def sandbox_url(sandbox_server: SandboxServer) -> Iterator[str]:
    """The sandbox's URL, with its rules, recorded requests and config reset for this test."""
    with httpx.Client(base_url=sandbox_server.url) as control:
        control.post("/_sandbox/reset").raise_for_status()
        yield sandbox_server.url
        control.post("/_sandbox/reset").raise_for_status()
