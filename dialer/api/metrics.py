"""``GET /metrics``: the ledger's counters in the Prometheus text format.

Read from the ledger at scrape time, so every API process reports the same numbers whichever
workers placed the calls:

- ``dialer_call_attempts_total{account,result}``: provider requests by the contact state each
  led to (``placed``, ``failed``, ``unknown``, ``pending`` = retried later, ``in_flight``).
- ``dialer_contacts{account,state}``: contacts by state.
- ``dialer_queue_lag_seconds``: how long the oldest ``queued`` contact has waited for a worker.
- ``dialer_rate_limit_waits_total{account}`` and ``dialer_rate_limit_wait_seconds_total{account}``:
  requests that waited for their account's rate limit (1 ms or more), and the time they waited.
- ``dialer_webhook_deliveries_total{endpoint,result}``: outbound webhook tries by how they
  ended (``delivered``, ``failed`` = tried again later, ``dead``).
- ``dialer_webhook_oldest_undelivered_seconds``: age of the oldest event not yet delivered
  (nor dead); 0 when none waits.

With a broker, from the account gate (dialer/capacity), per account:
``dialer_calls_in_progress``, ``dialer_call_cap`` (capped accounts only),
``dialer_account_breaker_open`` (0/1) and ``dialer_account_held_seconds_total`` (time a
429's Retry-After held it).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from fastapi import APIRouter, Response
from prometheus_client import generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from dialer.api import errors
from dialer.api.auth import AUTHENTICATED
from dialer.api.context import Context
from dialer.capacity import accounts as capacity
from dialer.capacity.gate import Gate
from dialer.ledger.deliveries import WebhookMetrics, webhook_metrics
from dialer.ledger.engine import session_scope, utcnow
from dialer.ledger.metrics import LedgerMetrics, ledger_metrics
from dialer.settings import Settings

router = APIRouter(tags=["service"], dependencies=AUTHENTICATED, responses=errors.responses(401))


class _Families(Collector):
    """Metric families already read: what :func:`generate_latest` formats."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


def _families(snapshot: LedgerMetrics, now: datetime) -> list[Metric]:
    attempts = CounterMetricFamily(
        "dialer_call_attempts",
        "Provider requests by account and the contact state each led to.",
        labels=["account", "result"],
    )
    contacts = GaugeMetricFamily(
        "dialer_contacts", "Contacts by account and state.", labels=["account", "state"]
    )
    lag = GaugeMetricFamily(
        "dialer_queue_lag_seconds", "Age of the oldest queued contact; 0 when none is queued."
    )
    waits = CounterMetricFamily(
        "dialer_rate_limit_waits",
        "Provider requests that waited for their account's rate limit (1 ms or more).",
        labels=["account"],
    )
    waited = CounterMetricFamily(
        "dialer_rate_limit_wait_seconds",
        "Time provider requests waited for their account's rate limit.",
        labels=["account"],
    )
    for account, (count, seconds) in sorted(snapshot.rate_limit_waits.items()):
        waits.add_metric([account], count)
        waited.add_metric([account], seconds)
    for (account, result), count in sorted(snapshot.attempts.items()):
        attempts.add_metric([account, result], count)
    for (account, state), count in sorted(snapshot.contacts.items()):
        contacts.add_metric([account, state], count)
    oldest = snapshot.oldest_queued_at
    lag.add_metric([], 0.0 if oldest is None else max((now - oldest).total_seconds(), 0.0))
    return [attempts, contacts, lag, waits, waited]


def _webhook_families(snapshot: WebhookMetrics, now: datetime) -> list[Metric]:
    tries = CounterMetricFamily(
        "dialer_webhook_deliveries",
        "Outbound webhook tries by endpoint and result (delivered, failed, dead).",
        labels=["endpoint", "result"],
    )
    for (endpoint, result), count in sorted(snapshot.tries.items()):
        tries.add_metric([endpoint, result], count)
    age = GaugeMetricFamily(
        "dialer_webhook_oldest_undelivered_seconds",
        "Age of the oldest outbound webhook event not yet delivered; 0 when none waits.",
    )
    oldest = snapshot.oldest_undelivered_at
    age.add_metric([], 0.0 if oldest is None else max((now - oldest).total_seconds(), 0.0))
    return [tries, age]


def _capacity_families(gate: Gate, settings: Settings, now: datetime) -> list[Metric]:
    in_progress = GaugeMetricFamily(
        "dialer_calls_in_progress", "Calls holding a place of their account.", labels=["account"]
    )
    cap = GaugeMetricFamily(
        "dialer_call_cap", "The account's concurrent_calls.", labels=["account"]
    )
    breaker = GaugeMetricFamily(
        "dialer_account_breaker_open",
        "1 while the account's outage breaker is open.",
        labels=["account"],
    )
    held = CounterMetricFamily(
        "dialer_account_held_seconds",
        "Time the account was held by a 429's Retry-After.",
        labels=["account"],
    )
    for name, account in sorted(settings.accounts.items()):
        found = capacity.capacity_of(gate, account, now)
        if found is None:
            continue
        in_progress.add_metric([name], found.in_progress)
        if found.cap is not None:
            cap.add_metric([name], found.cap)
        breaker.add_metric([name], 1.0 if found.breaker == "open" else 0.0)
        held.add_metric([name], found.held_seconds_total)
    return [in_progress, cap, breaker, held]


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        **errors.responses(503),
    },
)
def metrics(ctx: Context) -> Response:
    """Prometheus text exposition of the ledger's counters (scrape with the X-API-Key header)."""
    with session_scope(ctx.engine) as session:
        snapshot = ledger_metrics(session)
        webhooks = webhook_metrics(session)
    now = utcnow()
    families = _families(snapshot, now) + _webhook_families(webhooks, now)
    if ctx.gate is not None:
        families += _capacity_families(ctx.gate, ctx.settings, now)
    text = generate_latest(_Families(families))
    return Response(text, media_type=CONTENT_TYPE_LATEST)
