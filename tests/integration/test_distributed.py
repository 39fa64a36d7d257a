"""Dispatch across real processes: Celery workers and beat over real Redis, a Postgres ledger,
the sandbox over HTTP. Each test does to the deployment what production will — deliver a task
twice, SIGKILL a worker mid-request, restart Redis, pace two workers under one limit — and
judges guarantees 1, 2 and 4 of DESIGN.md §2 by what the sandbox received.

Each test runs its own redis-server on a free port rather than a database of the shared one:
the queue names are fixed, so two runs of this file on one Redis (two engineers, or CI next to
a developer) would take each other's tasks, and one test restarts its Redis.
"""

from __future__ import annotations

import bisect
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from celery import Celery
from cluster import CAMPAIGN, Cluster, ClusterFactory, clusters
from procs import Process, wait_until
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col

from dialer.dispatch.protocol import place_call
from dialer.dispatch.results import DispatchResult
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import dispatch as ledger_dispatch
from dialer.ledger.engine import session_scope, utcnow
from dialer.models import ContactState, Suppression
from dialer.wiring import build_service

pytestmark = [
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgres"], indirect=True),
]

# Small enough that lost claims and a dead worker's contacts are dealt with within a test.
TIMEOUTS = {"tick_seconds": 0.5, "queued_timeout": 3, "dialing_timeout": 5}


@pytest.fixture
def cluster(tmp_path: Path, database_url: str, engine: Engine) -> Iterator[ClusterFactory]:
    yield from clusters(tmp_path, database_url, engine)


def _claim_all(cluster: Cluster) -> list[int]:
    """Claim every contact of the running campaign, as a tick would (pending → queued)."""
    with session_scope(cluster.engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name=CAMPAIGN)
        assert campaign.id is not None
        keys = ledger_campaigns.zone_key_counts(
            session, campaign_id=campaign.id, states=[ContactState.PENDING]
        )
        return ledger_dispatch.claim_due(
            session, campaign_id=campaign.id, zone_keys=keys, now=utcnow(), limit=10_000
        )


def _finished_tasks(workers: list[Process]) -> int:
    return sum(worker.log().count("succeeded in") for worker in workers)


def test_a_task_delivered_twice_places_one_call(cluster: ClusterFactory) -> None:
    # Slow answers keep the first copy in flight while the second one runs.
    deployment = cluster(rate="100/s", latency_ms=300)
    numbers = deployment.campaign(20)
    claimed = _claim_all(deployment)
    assert len(claimed) == len(numbers)
    workers = deployment.workers(2)
    sender = Celery("duplicates", broker=deployment.broker_url)
    try:
        # A redelivery, a second beat, a publish retried after a lost reply: one claim, sent
        # twice, the copies side by side in the queue so that both workers take one each.
        for contact_id in claimed:
            for _ in range(2):
                sender.send_task("dialer.place_calls", args=[[contact_id]], queue="dialer.dial")
    finally:
        sender.close()

    wait_until(
        lambda: _finished_tasks(workers) == 2 * len(claimed),
        timeout=30,
        what=lambda: f"both copies done ({_finished_tasks(workers)} of {2 * len(claimed)})",
    )
    assert set(deployment.states().values()) == {ContactState.PLACED}
    assert deployment.calls() == Counter(dict.fromkeys(numbers, 1))
    assert deployment.attempts() == Counter(dict.fromkeys(numbers, 1))


def test_racing_threads_place_one_call(cluster: ClusterFactory) -> None:
    deployment = cluster(rate="1000/s", latency_ms=100)
    numbers = deployment.campaign(10)
    claimed = _claim_all(deployment)
    dialer = build_service(deployment.settings, deployment.engine)
    racers = 4
    start = threading.Barrier(racers * len(claimed))
    results: list[DispatchResult] = []

    def race(contact_id: int) -> None:
        start.wait(timeout=10)
        results.append(place_call(dialer, contact_id))

    threads = [threading.Thread(target=race, args=(i,)) for i in claimed for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    dialer.providers.close()
    assert len(results) == len(threads)
    assert Counter(results)[ContactState.PLACED] == len(numbers)
    assert deployment.calls() == Counter(dict.fromkeys(numbers, 1))


def test_a_worker_killed_mid_request(cluster: ClusterFactory) -> None:
    deployment = cluster(rate="10/s", **TIMEOUTS)
    numbers = deployment.campaign(40)
    hung = numbers[:4]
    for number in hung:
        deployment.sandbox.rule(number, "hang")
    [doomed] = deployment.workers(1, beat=True)
    wait_until(
        lambda: set(hung) <= set(deployment.calls()), timeout=30, what="hung requests in flight"
    )
    doomed.kill()
    deployment.workers(1)

    states = deployment.wait_settled(timeout=60)
    calls = deployment.calls()
    assert {number: states[number] for number in hung} == dict.fromkeys(hung, ContactState.UNKNOWN)
    assert max(calls.values()) == 1
    # Placed: its one request was answered. Unknown: the worker died after ``dialing`` was
    # committed, with the request on the wire or about to be: at most one, never redialed.
    assert set(states.values()) <= {ContactState.PLACED, ContactState.UNKNOWN}
    placed = {number for number, state in states.items() if state == ContactState.PLACED}
    assert placed <= set(calls)


def test_redis_restarted_mid_campaign(cluster: ClusterFactory) -> None:
    deployment = cluster(rate="20/s", **TIMEOUTS)
    numbers = deployment.campaign(100)
    deployment.workers(2, beat=True)
    wait_until(lambda: len(deployment.calls()) >= 30, timeout=30, what="campaign under way")
    deployment.restart_redis()
    # Tasks were in Redis or in the workers' hands when it died; nothing persisted them.
    assert {ContactState.QUEUED, ContactState.DIALING} & set(deployment.states().values())

    states = deployment.wait_settled(timeout=60)
    assert set(states.values()) == {ContactState.PLACED}
    assert deployment.calls() == Counter(dict.fromkeys(numbers, 1))


@pytest.mark.alone  # times requests at the sandbox
def test_two_workers_share_one_rate_limit(cluster: ClusterFactory) -> None:
    deployment = cluster(rate="20/s", tick_seconds=0.5)
    numbers = deployment.campaign(200)
    deployment.workers(2, beat=True)
    deployment.wait_settled(timeout=60)

    received = sorted(
        datetime.fromisoformat(str(record["received_at"])).astimezone(UTC).timestamp()
        for record in deployment.sandbox.requests()
    )
    assert len(received) == len(numbers)
    # The most requests in any window [t, t + 1 s), t at each request: at most 20, the bound
    # the rate issue set at the provider. The limiter's slots are 50 ms apart; a thread woken
    # late (30-80 ms from slot to arrival at p99 on a loaded 2-core machine) can still make a
    # 21st in one window, which is why this test runs alone.
    busiest = max(bisect.bisect_left(received, t + 1.0) - i for i, t in enumerate(received))
    assert busiest <= 20
    # Paced, not merely capped: 200 requests at 20/s cannot arrive in much under 10 s.
    assert received[-1] - received[0] >= (len(received) - 21) / 20


def test_two_workers_keep_within_the_accounts_concurrent_call_cap(cluster: ClusterFactory) -> None:
    # A fast rate, so the cap is the tighter limit; outcomes polled promptly, so places come
    # back soon after each call ends (the sandbox serves them when the call's length passed).
    deployment = cluster(
        rate="50/s", account={"concurrent_calls": 4}, tick_seconds=0.5, poll_seconds=0.5
    )
    deployment.sandbox.configure(max_concurrent_calls=4, call_duration_ms=1000)
    numbers = deployment.campaign(24)
    deployment.workers(2, beat=True)
    states = deployment.wait_settled(timeout=90)

    assert set(states.values()) == {"placed"}
    assert deployment.calls() == dict.fromkeys(numbers, 1)
    load = deployment.sandbox.load()
    assert load["refused"] == {} and load["outage_refused"] == {}
    assert load["most"] == {"sandbox": 4}


def test_a_bad_number_answer_under_celery_lists_the_number_for_every_campaign(
    cluster: ClusterFactory,
) -> None:
    deployment = cluster(rate="50/s")
    numbers = deployment.campaign(4)
    deployment.sandbox.rule(numbers[0], "invalid-number")
    claimed = _claim_all(deployment)
    workers = deployment.workers(1)
    sender = Celery("bad-numbers", broker=deployment.broker_url)
    try:
        sender.send_task("dialer.place_calls", args=[claimed], queue="dialer.dial")
    finally:
        sender.close()
    wait_until(
        lambda: _finished_tasks(workers) >= 1,
        timeout=30,
        what=lambda: f"the batch done ({_finished_tasks(workers)} tasks)",
    )
    states = deployment.states()
    assert states[numbers[0]] == ContactState.FAILED
    assert {states[n] for n in numbers[1:]} == {ContactState.PLACED}
    with session_scope(deployment.engine) as session:
        listed = session.execute(
            select(col(Suppression.phone), col(Suppression.source), col(Suppression.reason))
        ).all()
    assert [tuple(row) for row in listed] == [
        (numbers[0], "provider", "sandbox: HTTP 400: to: number not in service")
    ]
    assert deployment.calls() == Counter(numbers)
