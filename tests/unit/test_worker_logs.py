"""The tick's and the poll's "received"/"succeeded" lines are DEBUG; a dial task's stay INFO."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator

import pytest


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def trace(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[logging.Logger, Kept]]:
    # The workers package builds its Celery app on import, which needs a broker URL (it
    # connects to nothing until a task is sent).
    monkeypatch.setenv("DIALER_BROKER_URL", "redis://127.0.0.1:6379/15")
    quiet_schedule_tasks = importlib.import_module("workers.logs").quiet_schedule_tasks
    logger = logging.getLogger("celery.app.trace")
    kept = Kept()
    logger.addHandler(kept)
    level, filters = logger.level, list(logger.filters)
    logger.filters.clear()
    quiet_schedule_tasks()
    quiet_schedule_tasks()  # idempotent: one filter
    yield logger, kept
    logger.removeHandler(kept)
    logger.setLevel(level)
    logger.filters[:] = filters


def succeeded(logger: logging.Logger, task: str) -> None:
    context = {"name": task, "id": "1", "runtime": 0.01, "return_value": 0}
    logger.info("Task %(name)s[%(id)s] succeeded", context, extra={"data": context})


def test_schedule_tasks_log_at_debug(trace: tuple[logging.Logger, Kept]) -> None:
    logger, kept = trace
    assert len(logger.filters) == 1
    logger.setLevel(logging.INFO)
    succeeded(logger, "dialer.tick")
    succeeded(logger, "dialer.poll_outcomes")
    succeeded(logger, "dialer.place_calls")
    assert [(r.levelname, r.data["name"]) for r in kept.records] == [  # type: ignore[attr-defined]
        ("INFO", "dialer.place_calls")
    ]
    kept.records.clear()
    logger.setLevel(logging.DEBUG)
    succeeded(logger, "dialer.tick")
    assert [r.levelname for r in kept.records] == ["DEBUG"]
