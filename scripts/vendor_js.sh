#!/usr/bin/env bash
# Re-fetches the JavaScript the repository ships, at pinned versions, from the npm registry:
#   Chart.js (the console's charts; MIT)  -> dialer/api/console/static/vendor/
#   axe-core (the console's accessibility test; MPL-2.0) -> tests/console/vendor/
# The files are committed so that `dialer serve` needs nothing from the internet and the tests
# need no npm; this script makes them reproducible. Each tarball's sha512 is checked against
# the integrity pinned here (the registry's `dist.integrity`) before anything is unpacked.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fetch() {  # fetch NAME VERSION INTEGRITY: unpack the verified tarball into $work/NAME
  local name=$1 version=$2 integrity=$3 tarball actual
  tarball="$(cd "$work" && npm pack --silent "$name@$version")"
  actual="sha512-$(openssl dgst -sha512 -binary "$work/$tarball" | base64 -w0)"
  if [ "$actual" != "$integrity" ]; then
    echo "error: $name@$version: integrity $actual, expected $integrity" >&2
    exit 1
  fi
  mkdir -p "$work/$name"
  tar -xzf "$work/$tarball" -C "$work/$name" --strip-components=1
}

fetch chart.js 4.6.1 \
  'sha512-hJyniucsFmq//EvXYvJ6c6mahPoI3kaxdjVH8awTaJ/fDNWeSqqqArixMJWkWNN6fcYvPU3HneSANFNYtRi61g=='
vendor="$root/dialer/api/console/static/vendor"
cp "$work/chart.js/dist/chart.umd.min.js" "$vendor/chart.umd.min.js"
cp "$work/chart.js/LICENSE.md" "$vendor/chart.js-LICENSE.md"

fetch axe-core 4.14.1 \
  'sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=='
cp "$work/axe-core/axe.min.js" "$root/tests/console/vendor/axe.min.js"
cp "$work/axe-core/LICENSE" "$root/tests/console/vendor/axe-core-LICENSE"

echo "vendored chart.js 4.6.1 and axe-core 4.14.1"
