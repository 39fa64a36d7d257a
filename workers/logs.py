"""Celery logs every task it receives and every one that succeeds at INFO: for the tick and
the outcome poll, which beat sends every second or so, that is two lines a second saying
nothing. :func:`quiet_schedule_tasks` moves those lines to DEBUG; a dial task's lines, and
every failure, stay where they were."""

from __future__ import annotations

import logging

SCHEDULE_TASKS = frozenset({"dialer.tick", "dialer.poll_outcomes"})
# Where Celery logs "Task ... received" and "Task ... succeeded".
_TASK_LOGGERS = ("celery.worker.strategy", "celery.app.trace")


class _ScheduleTasksAtDebug(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        data = getattr(record, "data", None)
        if record.levelno != logging.INFO or not isinstance(data, dict):
            return True
        if data.get("name") not in SCHEDULE_TASKS:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def quiet_schedule_tasks() -> None:
    """Log the schedule tasks' received/succeeded lines at DEBUG (idempotent)."""
    for name in _TASK_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _ScheduleTasksAtDebug) for f in logger.filters):
            logger.addFilter(_ScheduleTasksAtDebug())
