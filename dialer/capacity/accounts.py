"""An account's capacity as the tick, polling, webhooks and status use it: how many calls it
may start now, giving a finished call's place back, and pausing its campaigns when its
provider has been out for ``outage_pause``.

Each reads or writes the account gate once; a gate that cannot be reached is logged, never
raised: nothing starts (the dispatch step hands claims back as well), and a place not given
back returns at its lease.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from dialer.capacity.gate import AccountState, Gate
from dialer.errors import ServiceUnavailable
from dialer.settings import AccountConfig

if TYPE_CHECKING:  # status reads capacity without importing SQLAlchemy
    from sqlalchemy.engine import Engine

log = logging.getLogger("dialer.capacity")


def state_of(gate: Gate, account: AccountConfig) -> AccountState | None:
    """The account's capacity now; None when the gate cannot be reached (logged)."""
    from dialer.dispatch.pacing import limits  # here: status need not import the limiter

    try:
        return gate.state(account.name, limits(account))
    except ServiceUnavailable as exc:
        log.warning("account %s: capacity unknown: %s", account.name, exc)
        return None


@dataclass(frozen=True, slots=True)
class Capacity:
    """One account's capacity as people read it: calls in progress of its cap, its breaker
    (open since when, next probe when) and its hold (until when)."""

    in_progress: int
    cap: int | None
    breaker: str  # "closed" or "open"
    open_since: datetime | None
    next_probe_at: datetime | None
    held_until: datetime | None
    held_seconds_total: float


def capacity_of(gate: Gate, account: AccountConfig, now: datetime) -> Capacity | None:
    """:func:`state_of` in wall-clock instants from ``now``; None when unknown."""
    state = state_of(gate, account)
    if state is None:
        return None

    def at(seconds: float | None) -> datetime | None:
        return None if seconds is None else now + timedelta(seconds=seconds)

    return Capacity(
        in_progress=state.in_progress,
        cap=state.cap,
        breaker="closed" if state.open_for is None else "open",
        open_since=at(None if state.open_for is None else -state.open_for),
        next_probe_at=at(state.next_probe_in),
        held_until=at(state.held_for),
        held_seconds_total=state.held_seconds_total,
    )


def describe(found: Capacity) -> str:
    """One line for ``status``: "2 of 10 calls in progress; breaker open since 13:40:01 UTC,
    next probe 13:41:05 UTC; held until 13:40:30 UTC"."""

    def clock(at: datetime | None) -> str:
        return "" if at is None else at.strftime("%H:%M:%S UTC")

    cap = "" if found.cap is None else f" of {found.cap}"
    parts = [f"{found.in_progress}{cap} calls in progress"]
    if found.breaker == "open":
        parts.append(
            f"breaker open since {clock(found.open_since)}, next probe {clock(found.next_probe_at)}"
        )
    else:
        parts.append("breaker closed")
    if found.held_until is not None:
        parts.append(f"held until {clock(found.held_until)} (Retry-After)")
    return "; ".join(parts)


def calls_per_second(account: AccountConfig, call_seconds: float | None) -> float:
    """What the account can sustain: ``min(rate, concurrent_calls / call length)``, the call
    length learned from outcomes (``call_seconds``) or else ``call_lease``."""
    rate = account.rate_per_second
    if account.concurrent_calls is None:
        return rate
    length = call_seconds if call_seconds else account.call_lease
    return min(rate, account.concurrent_calls / length)


def startable(gate: Gate, account: AccountConfig) -> int | None:
    """How many calls ``account`` may start now; None: no bound but its rate. 0 when the gate
    cannot be reached."""
    state = state_of(gate, account)
    return 0 if state is None else state.startable


def call_over(gate: Gate, account: AccountConfig, attempt_key: str) -> None:
    """A final outcome arrived: the call's place is free."""
    if account.concurrent_calls is None:
        return
    try:
        gate.give_back(account.name, [attempt_key])
    except ServiceUnavailable as exc:
        log.warning("account %s: place free only at its lease: %s", account.name, exc)


def pause_after_outage(engine: Engine, gate: Gate, account: AccountConfig, now: datetime) -> int:
    """Pause the account's running campaigns once its breaker has been open for
    ``outage_pause``, with the reason, so a long outage needs a person; how many paused."""
    state = state_of(gate, account)
    if state is None or state.outage_for is None or state.outage_for < account.outage_pause:
        return 0
    minutes = round((state.open_for or 0.0) / 60)
    reason = f"provider outage: account {account.name} failing for {minutes} min"
    # Here: `campaign status` reads capacity without the ORM the ledger's writes import.
    from dialer.ledger import campaigns as ledger_campaigns
    from dialer.ledger.engine import session_scope

    with session_scope(engine) as session:
        paused = ledger_campaigns.pause_account(
            session, account=account.name, reason=reason, now=now, refused=False
        )
    try:
        gate.note_pause(account.name)
    except ServiceUnavailable as exc:
        log.warning("account %s: outage pause not noted: %s", account.name, exc)
    if paused:
        log.error("%s: paused %d campaign(s)", reason, paused)
    return paused
