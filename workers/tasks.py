"""Celery tasks: ids in, one call into :mod:`dialer`, nothing out. Flower shows arguments,
so no task takes a phone number, a name or a secret."""

from __future__ import annotations

import os
import threading

from celery import shared_task

from dialer.dispatch.protocol import place_calls
from dialer.ledger.engine import make_engine, migrate
from dialer.polling import poll_outcomes
from dialer.scheduler import tick
from dialer.service import CallService
from dialer.settings import load_settings
from dialer.webhooks.deliver import Courier, deliver_due
from dialer.wiring import build_service

_lock = threading.Lock()
_state: dict[int, CallService] = {}
_couriers: dict[int, Courier] = {}


def process_service() -> CallService:
    """This process's CallService (engine, limiter, HTTP clients), built after any fork."""
    pid = os.getpid()
    with _lock:
        found = _state.get(pid)
        if found is None:
            _state.clear()
            settings = load_settings()
            engine = make_engine(settings.database_url)
            migrate(engine)
            found = _state[pid] = build_service(settings, engine)
        return found


@shared_task(name="dialer.place_calls", ignore_result=True)
def place_calls_task(contact_ids: list[int]) -> int:
    """Dial a batch of claimed contacts, each at most once (see
    :func:`dialer.dispatch.protocol.place_calls`); returns how many got a request."""
    results = place_calls(process_service(), contact_ids)
    return sum(1 for result in results.values() if result.begun)


@shared_task(name="dialer.tick", ignore_result=True)
def tick_task() -> int:
    """Reap lost claims, claim due contacts of running campaigns, enqueue them after commit."""
    service = process_service()
    report = tick(
        service.engine,
        service.settings,
        now=service.clock.now(),
        enqueue=_enqueue,
        gate=service.gate,
    )
    return report.claimed


@shared_task(name="dialer.poll_outcomes", ignore_result=True)
def poll_outcomes_task() -> int:
    """Ask providers that keep a call's status what became of placed calls; record them."""
    service = process_service()
    return poll_outcomes(service, service.clock.now())


@shared_task(name="dialer.deliver_webhooks", ignore_result=True)
def deliver_webhooks_task() -> int:
    """Send the outbox's due events to their endpoints; returns how many were delivered."""
    return deliver_due(process_courier()).delivered


def process_courier() -> Courier:
    """This process's Courier (webhook HTTP clients and sending threads), built after any fork."""
    service = process_service()
    pid = os.getpid()
    with _lock:
        found = _couriers.get(pid)
        if found is None:
            _couriers.clear()
            found = _couriers[pid] = Courier(
                service.engine, service.settings.webhooks, clock=service.clock.now
            )
        return found


def _enqueue(contact_ids: list[int]) -> None:
    place_calls_task.apply_async((contact_ids,))
