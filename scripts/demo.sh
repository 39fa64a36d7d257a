#!/usr/bin/env bash
# The demo: installs everything, then runs a whole campaign against the local sandbox
# (SQLite, no Redis needed). Output lands in ./demo-output/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
cd "$root"
exec "$root/.venv/bin/dialer" demo "$@"
