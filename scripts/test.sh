#!/usr/bin/env bash
# The whole test suite: installs everything, then runs pytest. Redis and Postgres tests use
# the local services (127.0.0.1:6379, 127.0.0.1:5432/test); they skip when a service is down
# unless DIALER_TEST_REQUIRE_SERVICES=1, which makes them fail instead.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
cd "$root"
exec "$root/.venv/bin/python" -m pytest "$@"
