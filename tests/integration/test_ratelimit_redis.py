"""The Redis limiter against a real server: one pace across processes, keys apart, Redis down."""

from __future__ import annotations

import itertools
import multiprocessing
import queue
import socket
import threading
import time
from collections.abc import Callable
from multiprocessing.synchronize import Barrier

import pytest
import redis

from dialer.errors import RateLimitTimeout, ServiceUnavailable
from dialer.ratelimit import RedisRateLimiter, Reservation

pytestmark = pytest.mark.redis

SECOND = 1_000_000  # µs
RATE = 20
PROCESSES, THREADS, PER_THREAD = 2, 5, 6  # 60 tokens


class RecordingLimiter(RedisRateLimiter):
    """The real limiter, remembering the slot of each grant in whole µs of the server's clock."""

    def __init__(self, client: redis.Redis[bytes]) -> None:
        super().__init__(client)
        self.slots: list[int] = []

    def reserve(self, key: str, rate_per_second: float, *, max_wait: float | None) -> Reservation:
        reservation = super().reserve(key, rate_per_second, max_wait=max_wait)
        if reservation.granted:
            self.slots.append(round(reservation.at * SECOND))
        return reservation


def _dial_from_a_process(
    url: str, key: str, start: Barrier, out: multiprocessing.Queue[tuple[list[int], list[float]]]
) -> None:
    client = redis.Redis.from_url(url)
    limiter = RecordingLimiter(client)
    returned: list[float] = []

    def dial() -> None:
        for _ in range(PER_THREAD):
            limiter.acquire(key, RATE, timeout=10)
            returned.append(time.time())

    threads = [threading.Thread(target=dial) for _ in range(THREADS)]
    start.wait(timeout=30)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.close()
    out.put((limiter.slots, returned))


@pytest.mark.alone  # times its callers
def test_two_processes_share_one_pace(redis_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(PROCESSES + 1)
    out: multiprocessing.Queue[tuple[list[int], list[float]]] = context.Queue()
    workers = [
        context.Process(target=_dial_from_a_process, args=(redis_url, "acme", start, out))
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    start.wait(timeout=30)
    began = time.monotonic()
    try:
        results = [out.get(timeout=15) for _ in workers]
    except queue.Empty:
        pytest.fail("a worker process died or hung; see its stderr above")
    elapsed = time.monotonic() - began
    for worker in workers:
        worker.join(timeout=5)
        assert worker.exitcode == 0

    slots = sorted(slot for process_slots, _ in results for slot in process_slots)
    returns = sorted(at for _, process_returns in results for at in process_returns)
    assert len(slots) == len(returns) == PROCESSES * THREADS * PER_THREAD == 60
    # The guarantee, on the server's clock: no [t, t + 1 s) holds more than RATE grants.
    crowded = [i for i in range(len(slots) - RATE) if slots[i + RATE] - slots[i] < SECOND]
    assert not crowded
    # Strict spacing (burst 1), and callers really waited: the k-th return is not before the
    # k-th slot (Redis and time.time() read the same clock on this machine; 1 ms for rounding).
    assert min(b - a for a, b in itertools.pairwise(slots)) >= SECOND // RATE
    assert all(r >= s / SECOND - 0.001 for s, r in zip(slots, returns, strict=True))
    # 60 tokens at 20/s cannot take less than (60 - 20) / 20 s; contention wasted no slot.
    assert elapsed >= (60 - RATE) / RATE
    assert (slots[-1] - slots[0]) / SECOND == pytest.approx(59 / RATE, abs=0.01)
    assert elapsed < 59 / RATE + 0.5


@pytest.fixture
def client(redis_url: str) -> redis.Redis[bytes]:
    return redis.Redis.from_url(redis_url)


def test_keys_and_prefixes_are_independent(client: redis.Redis[bytes]) -> None:
    limiter = RedisRateLimiter(client)
    assert limiter.try_acquire("acme", 1) == 0.0
    assert 0.9 < limiter.try_acquire("acme", 1) <= 1.0
    assert limiter.try_acquire("globex", 1) == 0.0
    assert RedisRateLimiter(client, prefix="other:").try_acquire("acme", 1) == 0.0
    client.close()


def test_keys_expire_once_their_pace_has_passed(client: redis.Redis[bytes]) -> None:
    # 1 a second: the key lives until its pace has passed, with room for a loaded machine
    # between the calls (at 10 a second, 100 ms, a run of the full suite overran it).
    limiter = RedisRateLimiter(client)
    assert limiter.reserve("acme", 1, max_wait=None).wait == 0.0
    assert 0 < client.pttl("dialer:rate:acme") <= 1000
    assert limiter.reserve("acme", 1, max_wait=None).wait > 0.9  # the slot 1 s ahead
    assert 1000 < client.pttl("dialer:rate:acme") <= 2000
    client.close()


def test_a_refusal_takes_nothing(client: redis.Redis[bytes]) -> None:
    limiter = RedisRateLimiter(client)
    limiter.acquire("acme", 1)
    with pytest.raises(RateLimitTimeout) as raised:
        limiter.acquire("acme", 1, timeout=0.2)
    assert 0.9 < raised.value.wait <= 1.0
    assert limiter.try_acquire("acme", 1) <= raised.value.wait
    client.close()


def test_burst_tolerance_runs_in_the_script(client: redis.Redis[bytes]) -> None:
    limiter = RedisRateLimiter(client, burst=3)  # 10/s with a burst of 3: 8/s sustained
    assert [limiter.try_acquire("acme", 10) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert 0.1 < limiter.try_acquire("acme", 10) <= 0.125
    client.close()


def test_reserve_many_takes_consecutive_slots_in_one_step(client: redis.Redis[bytes]) -> None:
    limiter = RedisRateLimiter(client)
    began = time.monotonic()
    waits = limiter.reserve_many("acme", 10, 5)
    assert waits[0] == 0.0
    assert [round(b - a, 3) for a, b in itertools.pairwise(waits)] == [0.1] * 4
    # The next caller, on any process, queues behind all five: its slot is 0.5 s after the
    # first, less only the time that passed since (1 ms for rounding to whole µs).
    wait = limiter.reserve("acme", 10, max_wait=None).wait
    assert 0.5 - (time.monotonic() - began) - 0.001 <= wait <= 0.5
    assert 400 < client.pttl("dialer:rate:acme") <= 600
    client.close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_redis_down_is_service_unavailable() -> None:
    client = redis.Redis.from_url(
        f"redis://:hunter2@127.0.0.1:{_closed_port()}/0", socket_connect_timeout=1
    )
    limiter = RedisRateLimiter(client)
    attempts: list[Callable[[], object]] = [
        lambda: limiter.acquire("acme", 10),
        lambda: limiter.try_acquire("acme", 10),
        lambda: limiter.reserve_many("acme", 10, 3),
    ]
    for attempt in attempts:
        with pytest.raises(ServiceUnavailable) as raised:
            attempt()
        message = str(raised.value)
        assert message.startswith("rate limiter: Redis failed: ")
        assert "\n" not in message and "hunter2" not in message
    client.close()
