"""Fixtures of the in-process tests: a SQLite file ledger, a fake clock, a fake provider."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests import fakes
from tests.fakes import FakeClock, FakeProvider


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    """A migrated SQLite file ledger (the in-process tests run on SQLite only)."""
    return fakes.ledger(tmp_path)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def provider(clock: FakeClock) -> FakeProvider:
    return FakeProvider(clock)
