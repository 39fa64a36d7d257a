"""Pacing through the Redis rate limiter from several processes, each with many threads.

    python bench/bench_ratelimit.py [--rate 20/s] [--processes 2] [--threads 16]
                                    [--seconds 10] [--redis redis://127.0.0.1:6379/0]

Every thread calls ``acquire`` in a loop on one fresh key until the run ends, the way dispatch
threads wait for a token before each request. Prints:

- the achieved rate (grants after the first, over the time from the first return to the
  last) as a share of the limit;
- the busiest 1-second window twice: by slot on the Redis clock (what the limiter
  guarantees) and by the time ``acquire`` returned (what a provider would see at best:
  thread scheduling delays some callers a little past their slot, so this can exceed it);
- how late callers returned after their slot;
- Redis script calls per grant, counted by the server (other clients' scripts add in).
"""

from __future__ import annotations

import argparse
import multiprocessing
import threading
import time
import uuid
from multiprocessing.synchronize import Barrier
from typing import cast

import redis

from dialer.errors import RateLimitTimeout
from dialer.ratelimit import RedisRateLimiter, Reservation
from dialer.settings import parse_rate


class _Timed(RedisRateLimiter):
    """Remembers, per thread, the slot of the last reservation (Redis server Unix time)."""

    def __init__(self, client: redis.Redis[bytes]) -> None:
        super().__init__(client, prefix="dialer:bench:")
        self.last = threading.local()

    def reserve(self, key: str, rate_per_second: float, *, max_wait: float | None) -> Reservation:
        reservation = super().reserve(key, rate_per_second, max_wait=max_wait)
        self.last.slot = reservation.at
        return reservation


def _dial(
    url: str,
    key: str,
    rate: float,
    threads: int,
    seconds: float,
    start: Barrier,
    out: multiprocessing.Queue[list[tuple[float, float]]],
) -> None:
    client = redis.Redis.from_url(url, socket_timeout=5)
    # One open connection per thread before the start, as in a dispatcher that has warmed up.
    warm = [client.connection_pool.get_connection() for _ in range(threads)]
    for connection in warm:
        client.connection_pool.release(connection)
    limiter = _Timed(client)
    grants: list[tuple[float, float]] = []  # (slot, returned)
    start.wait()
    deadline = time.time() + seconds

    def loop() -> None:
        while (left := deadline - time.time()) > 0:
            try:
                limiter.acquire(key, rate, timeout=left)
            except RateLimitTimeout:
                return
            grants.append((limiter.last.slot, time.time()))

    pool = [threading.Thread(target=loop) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    client.close()
    out.put(grants)


def _script_calls(client: redis.Redis[bytes]) -> int:
    stats = cast(dict[str, dict[str, int]], client.info("commandstats"))
    return sum(stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in ("evalsha", "eval"))


def _busiest_second(times: list[float]) -> int:
    """The most of ``times`` (sorted, seconds) in any [t, t + 1 s), counted in whole µs."""
    micros = [round(at * 1_000_000) for at in times]
    busiest, first = 0, 0
    for last, at in enumerate(micros):
        while at - micros[first] >= 1_000_000:
            first += 1
        busiest = max(busiest, last - first + 1)
    return busiest


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rate", default="20/s", help="as in dialer.toml: 20/s, 600/m")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16, help="per process")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    rate = parse_rate(args.rate)

    key = f"bench-{uuid.uuid4().hex[:8]}"
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(args.processes)
    out: multiprocessing.Queue[list[tuple[float, float]]] = context.Queue()
    workers = [
        context.Process(
            target=_dial, args=(args.redis, key, rate, args.threads, args.seconds, start, out)
        )
        for _ in range(args.processes)
    ]
    admin = redis.Redis.from_url(args.redis)
    calls_before = _script_calls(admin)
    for worker in workers:
        worker.start()
    grants = [grant for _ in workers for grant in out.get()]
    for worker in workers:
        worker.join()
    calls = _script_calls(admin) - calls_before
    admin.close()

    slots = sorted(slot for slot, _ in grants)
    returns = sorted(returned for _, returned in grants)
    late = sorted(1000 * (returned - slot) for slot, returned in grants)
    achieved = (len(returns) - 1) / (returns[-1] - returns[0])
    print(
        f"{args.processes} processes x {args.threads} threads, limit {args.rate} "
        f"({rate:g}/s), {args.seconds:g} s"
    )
    print(f"grants:          {len(grants)}")
    print(f"achieved:        {achieved:,.1f}/s = {100 * achieved / rate:.1f}% of the limit")
    by_slot, by_return = _busiest_second(slots), _busiest_second(returns)
    print(f"busiest second:  {by_slot} by slot, {by_return} by return")
    print(
        f"late return:     p50 {late[len(late) // 2]:.1f} ms, "
        f"p99 {late[len(late) * 99 // 100]:.1f} ms, max {late[-1]:.1f} ms"
    )
    print(f"script calls:    {calls / len(grants):.2f} per grant (incl. the final refusals)")


if __name__ == "__main__":
    main()
