"""Sending the outbox: claim an endpoint's due events, send each (signed) once, record how
each try ended. Celery's ``dialer.deliver_webhooks`` and the embedded runner's delivery
thread call :func:`deliver_due`; nothing here runs on a dialing thread.

Bounds, so that a slow or dead endpoint holds up nothing but its own events: each request has
the endpoint's ``timeout``; each endpoint has its own ``concurrency`` sending threads (per
process) and its own loop in a pass; a pass claims at most :data:`ROUNDS` rounds of
``concurrency`` events per batch; once a request of a batch times out, the batch's unsent
events are handed back untried and the endpoint's pass ends; a pass also ends once
:data:`PASS_SECONDS` have gone by.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy.engine import Engine

from dialer.backoff import parse_retry_after
from dialer.ledger import deliveries
from dialer.ledger.deliveries import EventRecord, TryResult
from dialer.ledger.engine import session_scope, utcnow
from dialer.webhooks import schedule
from dialer.webhooks.endpoints import WebhookEndpoint
from dialer.webhooks.payloads import event_body, ping_body
from dialer.webhooks.schedule import Verdict, after_failure, verdict_for
from dialer.webhooks.signing import signed_headers

log = logging.getLogger("dialer.webhooks")

DELIVER_SECONDS = 1.0
"""How often beat (and the embedded runner) starts a delivery pass."""
ROUNDS = 8
PASS_SECONDS = 20.0
LEASE_MARGIN = timedelta(seconds=10)


class Courier:
    """One process's means of delivery: per endpoint an ``httpx.Client`` and a pool of
    ``concurrency`` sending threads, built on first use. ``transport``: for tests."""

    def __init__(
        self,
        engine: Engine,
        endpoints: Sequence[WebhookEndpoint],
        *,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.engine = engine
        self.endpoints = tuple(endpoints)
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not secrets)
        self._transport = transport
        self._lock = threading.Lock()
        self._clients: dict[str, httpx.Client] = {}
        self._senders: dict[str, ThreadPoolExecutor] = {}
        self.passing = threading.Lock()
        """Held during a pass: a second pass in the same process would only wait."""

    def client(self, endpoint: WebhookEndpoint) -> httpx.Client:
        with self._lock:
            found = self._clients.get(endpoint.name)
            if found is None:
                limits = httpx.Limits(max_connections=endpoint.concurrency)
                timeout = httpx.Timeout(endpoint.timeout, connect=min(5.0, endpoint.timeout))
                found = self._clients[endpoint.name] = httpx.Client(
                    limits=limits, timeout=timeout, transport=self._transport
                )
            return found

    def sender(self, endpoint: WebhookEndpoint) -> ThreadPoolExecutor:
        with self._lock:
            found = self._senders.get(endpoint.name)
            if found is None:
                found = self._senders[endpoint.name] = ThreadPoolExecutor(
                    max_workers=endpoint.concurrency, thread_name_prefix=f"webhook-{endpoint.name}"
                )
            return found

    def close(self) -> None:
        with self._lock:
            senders, self._senders = list(self._senders.values()), {}
            clients, self._clients = list(self._clients.values()), {}
        for sender in senders:
            sender.shutdown(wait=True)
        for client in clients:
            client.close()


@dataclass(frozen=True)
class PassReport:
    """Tries made in one pass, by what they led to."""

    delivered: int = 0
    failed: int = 0
    dead: int = 0

    def __add__(self, other: PassReport) -> PassReport:
        return PassReport(
            self.delivered + other.delivered, self.failed + other.failed, self.dead + other.dead
        )


def deliver_due(courier: Courier) -> PassReport:
    """One pass over every endpoint at once (each in its own thread); returns what it did.
    Returns at once, having done nothing, while another pass of this process runs."""
    if not courier.endpoints or not courier.passing.acquire(blocking=False):
        return PassReport()
    try:
        if len(courier.endpoints) == 1:
            return _endpoint_pass(courier, courier.endpoints[0])
        with ThreadPoolExecutor(len(courier.endpoints), thread_name_prefix="webhooks") as pool:
            reports = list(pool.map(lambda e: _endpoint_pass(courier, e), courier.endpoints))
        return sum(reports, PassReport())
    finally:
        courier.passing.release()


def _endpoint_pass(courier: Courier, endpoint: WebhookEndpoint) -> PassReport:
    started = courier.clock()
    batch = endpoint.concurrency * ROUNDS
    report = PassReport()
    while True:
        done, hanging, claimed = _batch(courier, endpoint, batch)
        report += done
        elapsed = (courier.clock() - started).total_seconds()
        if claimed < batch or hanging or elapsed >= PASS_SECONDS:
            return report


def _batch(courier: Courier, endpoint: WebhookEndpoint, limit: int) -> tuple[PassReport, bool, int]:
    """Claim, send and record one batch. (what it did, a request timed out, claimed).

    Once one request of the batch times out, the batch's requests not yet sent stay unsent:
    handed back due a little later, no try counted. So an endpoint that hangs costs a batch
    one ``timeout``, not one per event. (A refused or dropped connection is no reason: it
    costs no time.)
    """
    now = courier.clock()
    lease = now + timedelta(seconds=endpoint.timeout * ROUNDS) + LEASE_MARGIN
    with session_scope(courier.engine) as session:
        ids = deliveries.claim_due(
            session, endpoint=endpoint.name, now=now, limit=limit, lease_until=lease
        )
        records = deliveries.load_events(session, ids=ids)
    if not records:
        return PassReport(), False, 0
    client, sender = courier.client(endpoint), courier.sender(endpoint)
    hanging = threading.Event()
    futures = [
        sender.submit(_try, courier, client, endpoint, record, lease, hanging) for record in records
    ]
    tried = [result for future in futures if (result := future.result()) is not None]
    unsent = sorted(set(ids) - {result.event_id for result in tried})
    with session_scope(courier.engine) as session:
        deliveries.record_tries(session, results=tried, now=courier.clock())
        deliveries.hand_back(
            session, ids=unsent, lease=lease, due=courier.clock() + schedule.FIRST_DELAY
        )
    report = PassReport(
        delivered=sum(r.state == deliveries.DELIVERED for r in tried),
        failed=sum(r.state == deliveries.PENDING for r in tried),
        dead=sum(r.state == deliveries.DEAD for r in tried),
    )
    return report, hanging.is_set(), len(ids)


@dataclass(frozen=True, slots=True)
class Answer:
    """What one request got: the status (None: no answer) and what to say of a failure."""

    status: int | None
    error: str = ""
    retry_after: str | None = None
    timed_out: bool = False


def post(
    client: httpx.Client, endpoint: WebhookEndpoint, *, message_id: str, body: bytes
) -> Answer:
    """POST one signed body to ``endpoint``; never raises for what the endpoint does. The
    signature's timestamp is the wall clock's (receivers compare it with theirs), whatever
    clock schedules the tries."""
    headers = signed_headers(endpoint.secret, message_id=message_id, timestamp=utcnow(), body=body)
    try:
        response = client.post(endpoint.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        # httpx may name the URL in its message: show it masked, like everywhere else.
        text = str(exc).replace(endpoint.url, endpoint.shown_url) or "no answer"
        error = f"{type(exc).__name__}: {text}"[:300]
        return Answer(None, error, timed_out=isinstance(exc, httpx.TimeoutException))
    error = "" if response.is_success else f"HTTP {response.status_code}"
    return Answer(response.status_code, error, response.headers.get("retry-after"))


def _try(
    courier: Courier,
    client: httpx.Client,
    endpoint: WebhookEndpoint,
    record: EventRecord,
    lease: datetime,
    hanging: threading.Event,
) -> TryResult | None:
    """One try of ``record``; None when it was not sent (the endpoint is ``hanging``)."""
    if hanging.is_set():
        return None
    body = event_body(record, include_lead=endpoint.include_lead)
    now = courier.clock()
    answer = post(client, endpoint, message_id=record.message_id, body=body)
    if answer.timed_out:
        hanging.set()
    verdict = verdict_for(answer.status)

    def result(state: str, next_try_at: datetime | None = None) -> TryResult:
        return TryResult(
            event_id=record.id,
            endpoint=endpoint.name,
            lease=lease,
            state=state,
            http_status=answer.status,
            error=answer.error,
            next_try_at=next_try_at,
        )

    if verdict is Verdict.DELIVERED:
        return result(deliveries.DELIVERED)
    if verdict is Verdict.RETRY:
        after = courier.clock()
        following = after_failure(
            tries=record.tries + 1,
            first_tried_at=record.first_tried_at or now,
            now=after,
            retry_at=parse_retry_after(answer.retry_after, after),
            rng=courier.rng,
        )
        if following.at is not None:
            return result(deliveries.PENDING, following.at)
    log.warning(
        "webhook %s event %d (%s) is dead: %s",
        endpoint.name,
        record.id,
        record.event_type,
        answer.error,
    )
    return result(deliveries.DEAD)


def send_ping(
    endpoint: WebhookEndpoint, *, now: datetime, transport: httpx.BaseTransport | None = None
) -> Answer:
    """Send one signed ``ping`` to ``endpoint`` now (``dialer webhooks test``)."""
    timeout = httpx.Timeout(endpoint.timeout, connect=min(5.0, endpoint.timeout))
    with httpx.Client(timeout=timeout, transport=transport) as client:
        message_id = f"msg_ping_{secrets.token_hex(12)}"
        return post(client, endpoint, message_id=message_id, body=ping_body(endpoint.name, now))
