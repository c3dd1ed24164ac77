#!/usr/bin/env bash
# The whole test suite (`npm test`): builds consulk8s, builds (or reuses from the cache) the
# real test environment's binaries, starts two Kubernetes control planes and two Consul
# datacenters (test/env/with-env.ts), runs every unit and integration test against them with
# CONSULK8S_TESTENV set, tears everything down and exits with the tests' status.
# `--unit` runs only the unit tests (no environment). See docs/testing.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ "${1:-}" == "--unit" ]]; then
  exec node --import tsx --test test/unit/*.test.ts
fi

failed() { echo "test setup failed at step \"$1\" (see above); no tests were run." >&2; exit 1; }

echo "test: building consulk8s" >&2
npm run --silent build || failed "build consulk8s (npm run build)"
echo "test: building or reusing the test environment's binaries (test/env/build.sh)" >&2
bash test/env/build.sh >/dev/null || failed "build the test environment's binaries (test/env/build.sh)"
# node 20's --test takes no globs: the shell expands them.
exec node --import tsx test/env/with-env.ts -- node --import tsx --test test/unit/*.test.ts test/integration/*.test.ts
