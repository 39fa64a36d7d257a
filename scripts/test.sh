#!/usr/bin/env bash
# The whole test suite: installs everything, then runs pytest. Redis and Postgres tests use
# the local services (127.0.0.1:6379, 127.0.0.1:5432/test); they skip when a service is down
# unless DIALER_TEST_REQUIRE_SERVICES=1, which makes them fail instead.
#
# Tests run in parallel processes (pytest-xdist): most of their time is waiting on the
# sandbox, Celery workers, the browser and subprocesses, so twice as many workers as cores
# (at least 4, at most 8) keeps the cores busy. xdist's default --dist load hands out tests
# by index: loadscope/loadgroup key them by node id, and schemathesis gives its generated
# tests one id per test function, so those modes would run one case of each and drop the
# rest. DIALER_TEST_WORKERS=N sets N; -n 0 given
# after it runs everything in this process. Worker N uses Redis database base - N, base
# from DIALER_TEST_REDIS_URL (15 by default), so the base must be at least the workers - 1.
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
workers="${DIALER_TEST_WORKERS:-$((cores * 2 < 4 ? 4 : (cores * 2 > 8 ? 8 : cores * 2)))}"
exec "$root/.venv/bin/python" -m pytest -n "$workers" "$@"
