#!/usr/bin/env bash
# The whole test suite: installs everything, then runs pytest. Redis and Postgres tests use
# the local services (127.0.0.1:6379, 127.0.0.1:5432/test); they skip when a service is down
# unless DIALER_TEST_REQUIRE_SERVICES=1, which makes them fail instead.
#
# Tests run in parallel processes (pytest-xdist): most of their time is waiting on the
# sandbox, Celery workers, the browser and subprocesses, so three workers a core (at least
# 4, at most 8) keep the cores busy (on 2 cores, quiet: 4 workers 249-251 s, 6 232 s, 8 249 s,
# one run each). --dist worksteal hands each worker a contiguous share of the tests and lets
# an idle one take half of the busiest one's queue: under the default --dist load the queues
# were topped up in chunks, and at the end two workers sat idle ~35 s while the others worked
# through long tests already queued on them. DIALER_TEST_WORKERS=N sets N; -n 0 given after
# it runs everything in this process. Worker N uses Redis database base - N, base from
# DIALER_TEST_REDIS_URL (15 by default), so the base must be at least the workers - 1.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
cd "$root"
# Each worker imports ~500 modules whose asserts pytest rewrites (the tests and the pytest
# plugins'); it keeps the rewritten code in __pycache__ (ignored by git) unless bytecode
# writing is off, and then rewrites and compiles them all again in every worker of every
# run: ~5 CPU-seconds a worker. So the suite writes bytecode even where the environment
# says not to (PYTHONDONTWRITEBYTECODE, often set in containers).
unset PYTHONDONTWRITEBYTECODE
cores="$(nproc 2>/dev/null || echo 2)"
workers="${DIALER_TEST_WORKERS:-$((cores * 3 < 4 ? 4 : (cores * 3 > 8 ? 8 : cores * 3)))}"
exec "$root/.venv/bin/python" -m pytest -n "$workers" --dist worksteal "$@"
