"""Celery tasks: ids in, one call into :mod:`dialer`, nothing out. Flower shows arguments,
so no task takes a phone number, a name or a secret."""

from __future__ import annotations

import os
import threading

from celery import shared_task

from dialer.dialing import Dialer, place_calls
from dialer.ledger.engine import make_engine, migrate, utcnow
from dialer.models import ContactState
from dialer.polling import poll_outcomes
from dialer.scheduler import tick
from dialer.settings import load_settings
from dialer.wiring import build_dialer

_lock = threading.Lock()
_state: dict[int, Dialer] = {}


def process_dialer() -> Dialer:
    """This process's Dialer (engine, limiter, HTTP clients), built after any fork."""
    pid = os.getpid()
    with _lock:
        found = _state.get(pid)
        if found is None:
            _state.clear()
            settings = load_settings()
            engine = make_engine(settings.database_url)
            migrate(engine)
            found = _state[pid] = build_dialer(settings, engine)
        return found


@shared_task(name="dialer.place_calls", ignore_result=True)
def place_calls_task(contact_ids: list[int]) -> int:
    """Dial a batch of claimed contacts, each at most once (see
    :func:`dialer.dialing.place_calls`); returns how many got a request."""
    outcomes = place_calls(process_dialer(), contact_ids)
    return sum(1 for word in outcomes.values() if word in _SENT)


# The words place_calls uses for a contact whose request was sent (its next state).
_SENT = frozenset(
    state.value
    for state in (
        ContactState.PLACED,
        ContactState.PENDING,
        ContactState.FAILED,
        ContactState.UNKNOWN,
    )
)


@shared_task(name="dialer.tick", ignore_result=True)
def tick_task() -> int:
    """Reap lost claims, claim due contacts of running campaigns, enqueue them after commit."""
    dialer = process_dialer()
    report = tick(dialer.engine, dialer.settings, now=utcnow(), enqueue=_enqueue)
    return report.claimed


@shared_task(name="dialer.poll_outcomes", ignore_result=True)
def poll_outcomes_task() -> int:
    """Ask providers that keep a call's status what became of placed calls; record them."""
    return poll_outcomes(process_dialer(), utcnow())


def _enqueue(contact_ids: list[int]) -> None:
    place_calls_task.apply_async((contact_ids,))
