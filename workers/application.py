"""The Celery application, configured for this job.

- Early ack, with the ledger as the guard: a redelivered ``place_calls`` finds its contacts no
  longer ``queued`` and does nothing, so at-most-once never depends on the broker.
- Prefetch 1 and no result backend: tasks return nothing anyone reads.
- No ETA/countdown: future attempts are ledger rows with ``next_attempt_at``, picked up by
  the tick. Redis redelivers a task held past ``visibility_timeout``; we set it to an hour and
  never hold one anywhere near that.
- A thread pool by default, of a few threads: each runs one ``place_calls`` batch, whose
  requests go out on the account's own sending threads (``sending_threads`` per account and
  process). More task threads would only let one worker take batches that another, idle
  one could run; run more worker processes (or machines) for more.
"""

from __future__ import annotations

from celery import Celery
from kombu.entity import Exchange
from kombu.entity import Queue as KombuQueue

from dialer import logredaction
from dialer.errors import ConfigError
from dialer.settings import load_settings
from dialer.webhooks.deliver import DELIVER_SECONDS
from workers.logs import quiet_schedule_tasks
from workers.queues import Queue

VISIBILITY_TIMEOUT = 3600


def create_app() -> Celery:
    settings = load_settings()
    logredaction.install(settings)
    if settings.broker_url is None:
        raise ConfigError(
            "celery needs a broker: set broker_url in dialer.toml or DIALER_BROKER_URL"
        )
    celery = Celery("dialer", broker=settings.broker_url, include=["workers.tasks"])
    celery.conf.update(
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=False,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        task_queues=[KombuQueue(q.value, Exchange(q.value), routing_key=q.value) for q in Queue],
        task_default_queue=Queue.DIAL.value,
        task_routes={
            "dialer.place_calls": {"queue": Queue.DIAL.value},
            "dialer.tick": {"queue": Queue.SCHEDULE.value},
            "dialer.poll_outcomes": {"queue": Queue.SCHEDULE.value},
            "dialer.deliver_webhooks": {"queue": Queue.WEBHOOKS.value},
        },
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        broker_connection_retry_on_startup=True,
        worker_pool="threads",
        worker_concurrency=8,
        worker_hijack_root_logger=False,
        beat_schedule={
            "tick": {
                "task": "dialer.tick",
                "schedule": settings.tick_seconds,
                # A tick that waited longer than two intervals is stale: the next one is due.
                "options": {"expires": settings.tick_seconds * 2},
            },
            "deliver-webhooks": {
                "task": "dialer.deliver_webhooks",
                "schedule": DELIVER_SECONDS,
                "options": {"expires": DELIVER_SECONDS},
            },
            "poll-outcomes": {
                "task": "dialer.poll_outcomes",
                "schedule": settings.poll_seconds,
                "options": {"expires": settings.poll_seconds},
            },
        },
    )
    quiet_schedule_tasks()
    return celery


try:
    app = create_app()
except ConfigError as exc:
    raise SystemExit(f"error: {exc}") from None
