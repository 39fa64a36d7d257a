"""Shared fixtures: real Redis, real Postgres, real SQLite files.

Tests that need Redis or Postgres skip when the service is down, unless
``DIALER_TEST_REQUIRE_SERVICES=1`` (CI), where they fail instead.

The suite runs in several processes (pytest-xdist: ``scripts/test.sh`` passes ``-n``), so
every fixture here gives each process its own resources, and a test that takes its services
from these fixtures is safe to run beside any other: worker N of a run uses Redis database
``base - N`` (``base`` from ``DIALER_TEST_REDIS_URL``, 15 by default, so sixteen workers fit
in Redis's default sixteen databases), its own Postgres database, SQLite files in the test's
``tmp_path`` and a sandbox on a port of its own. A test marked ``alone`` runs with no other
test beside it (tests/alone.py).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import redis
import sqlalchemy
from hypothesis import settings
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from dialer.ledger.engine import make_engine, migrate
from dialer.sandbox import SandboxServer
from tests.alone import RunLock
from tests.ledgers import migrated_sqlite

# "gw0", "gw1"... in a pytest-xdist worker; unset in a run without -n (one process: number 0).
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
BASE_REDIS_URL = os.environ.get("DIALER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
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


def worker_redis_url(base_url: str, worker: str) -> str:
    """``base_url`` on this worker's database: the base's number less the worker's (``gw2``
    of a run on database 15 uses 13). ValueError when that would be below 0."""
    parts = urlsplit(base_url)
    base = int(parts.path.strip("/") or 0)
    number = base - int(worker.removeprefix("gw"))
    if number < 0:
        raise ValueError(
            f"worker {worker} would need Redis database {number}: give DIALER_TEST_REDIS_URL a"
            " database number at least the number of workers less one (-n)"
        )
    return urlunsplit(parts._replace(path=f"/{number}"))


REDIS_URL = worker_redis_url(BASE_REDIS_URL, WORKER)


@pytest.fixture(scope="session")
def _run_lock(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunLock | None]:
    """The lock the workers of this run share (in the run's temporary directory, the parent
    of each worker's own); ``None`` when the run has one process."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        yield None
        return
    alone_tests = sum(_alone(item) for item in request.session.items)
    lock = RunLock(tmp_path_factory.getbasetemp().parent / "run-lock", alone_tests=alone_tests)
    yield lock
    lock.close()


def _alone(item: pytest.Item) -> bool:
    return item.get_closest_marker("alone") is not None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``alone`` first (in their order, the others in theirs): at the start of a
    run nothing is in flight yet, where later each would hold the other workers idle until
    every test already beside it had ended. (xdist hands each worker a first batch of
    consecutive tests, so one worker runs them all, one after the other.)"""
    items.sort(key=lambda item: not _alone(item))


_NEXT = pytest.StashKey["pytest.Item | None"]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Remember the test this process runs after ``item`` (None: none), for the run lock."""
    item.stash[_NEXT] = nextitem


@pytest.fixture(autouse=True)
def _alone_or_beside_others(
    request: pytest.FixtureRequest, _run_lock: RunLock | None
) -> Iterator[None]:
    """Holds the run lock across the test's function-scoped fixtures and call: exclusively
    for a test marked ``alone`` (and on until the next, when this process runs one next),
    shared for the others."""
    if _run_lock is None:
        yield
        return
    if not _alone(request.node):
        with _run_lock.shared():
            yield
        return
    following = request.node.stash.get(_NEXT, None)
    with _run_lock.alone(keep=following is not None and _alone(following)):
        yield


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis URL on this worker's own database number, flushed before and after."""
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
    """A fresh Postgres database for this test session (and worker), dropped at the end."""
    admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"dialer_test_{WORKER}_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
            # A commit returns without waiting for its WAL to reach the disk: what others
            # see, and when, is unchanged (only a crash of the server could lose the last
            # commits, and then the database is thrown away), and the suite's thousands of
            # commits stop waiting on fsync.
            conn.execute(sqlalchemy.text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    except sqlalchemy.exc.OperationalError as exc:
        admin.dispose()
        _service_missing("PostgreSQL", exc)
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_all(engine: Engine) -> None:
    """Delete every row of every table the models declare (so that a new one cannot be
    forgotten here), children before parents, and restart their ids at 1.

    What ``TRUNCATE ... RESTART IDENTITY`` leaves, for far less: a truncate gives every
    table and index new files, ~30 ms and ~50 ms of the server's CPU each time, twice for
    each of the ~170 Postgres tests, where deleting the rows a test leaves (none to a few
    thousand) takes about a millisecond. Autovacuum reclaims the dead rows."""
    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())
        # The sequences the tables own (as RESTART IDENTITY resets), back to their start.
        conn.execute(
            sqlalchemy.text(
                "SELECT setval(s.seqrelid, s.seqstart, false) FROM pg_sequence AS s"
                " JOIN pg_depend AS d ON d.classid = 'pg_class'::regclass"
                " AND d.objid = s.seqrelid AND d.deptype IN ('a', 'i')"
                " WHERE d.refobjid = ANY(CAST(:tables AS regclass[]))"
            ),
            {"tables": [table.name for table in SQLModel.metadata.sorted_tables]},
        )


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty ledger database: every ledger test runs on SQLite and on Postgres."""
    if request.param == "sqlite":
        yield migrated_sqlite(tmp_path / "ledger.db")
        return
    url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate(engine)
    _empty_all(engine)
    yield url
    _empty_all(engine)
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
    return migrated_sqlite(tmp_path / "ledger.db")


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """One sandbox provider server (in a thread) for the whole session."""
    with SandboxServer() as server:
        yield server


@pytest.fixture(scope="session")
def _sandbox_control(sandbox_server: SandboxServer) -> Iterator[httpx.Client]:
    """One client of the session sandbox's control API: a new client loads the CA bundle,
    ~15 ms of CPU, more than most tests that reset the sandbox take."""
    with httpx.Client(base_url=sandbox_server.url) as control:
        yield control


@pytest.fixture
def sandbox_url(sandbox_server: SandboxServer, _sandbox_control: httpx.Client) -> Iterator[str]:
    """The sandbox's URL, with its rules, recorded requests and config reset for this test."""
    _sandbox_control.post("/_sandbox/reset").raise_for_status()
    yield sandbox_server.url
    _sandbox_control.post("/_sandbox/reset").raise_for_status()
