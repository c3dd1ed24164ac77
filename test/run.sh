#!/usr/bin/env bash
# The whole test suite (`npm test`): builds consulk8s, builds (or reuses from the cache) the
# real test environment's binaries, starts two Kubernetes control planes and two Consul
# datacenters (test/env/with-env.ts), runs every unit and integration test against them with
# CONSULK8S_TESTENV set, tears everything down and exits with the tests' status.
#
# A second, short pass starts the environment with simulated nodes (kwok: pods Running, exec
# into consul-server-N reaches that cluster's Consul) and runs the tests that exec into server
# pods (env-smoke, verify) and the install waiting for Ready pods (install-wait). The first pass
# keeps pods Pending, which the install tests rely on.
#
# Lint (eslint and prettier --check) runs first: a finding stops the run.
# `--unit` runs only the unit tests (no environment). See docs/testing.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

failed() { echo "test setup failed at step \"$1\" (see above); no tests were run." >&2; exit 1; }

echo "test: lint (eslint, prettier --check)" >&2
npm run --silent lint || failed "lint (npm run lint; npm run format fixes formatting)"

echo "test: building consulk8s" >&2
npm run --silent build || failed "build consulk8s (npm run build)"

if [[ "${1:-}" == "--unit" ]]; then
  exec node --import tsx --test test/unit/*.test.ts
fi

echo "test: building or reusing the test environment's binaries (test/env/build.sh)" >&2
CONSULK8S_TESTENV_KWOK=1 bash test/env/build.sh >/dev/null || failed "build the test environment's binaries (test/env/build.sh)"

logs="$(mktemp -d "${TMPDIR:-/tmp}/consulk8s-test-logs.XXXXXX")"
status=0
# node 20's --test takes no globs: the shell expands them. One file at a time: the files share
# two clusters, and the install preflight, like consul-k8s's, looks at every namespace.
echo "test: pass 1 of 2: every test, nodes without kubelets (pods stay Pending)" >&2
CONSULK8S_TESTENV_KWOK=0 node --import tsx test/env/with-env.ts -- \
  node --import tsx --test --test-concurrency=1 test/unit/*.test.ts test/integration/*.test.ts 2>&1 | tee "$logs/pass1.tap" || status=1
echo "test: pass 2 of 2: pods on simulated nodes (kwok): env-smoke, verify, install-wait" >&2
CONSULK8S_TESTENV_KWOK=1 node --import tsx test/env/with-env.ts -- \
  node --import tsx --test --test-concurrency=1 test/integration/env-smoke.test.ts test/integration/verify.test.ts test/integration/install-wait.test.ts 2>&1 | tee "$logs/pass2.tap" || status=1

# One closing line over both passes (each pass's runner summary is above).
sum() { grep -h "^# $1 " "$logs"/pass*.tap | awk '{total += $3} END {print total + 0}'; }
passed="$(sum pass)" failures="$(sum fail)" skipped="$(sum skipped)"
rm -rf "$logs"
if [[ "$status" -ne 0 && "$failures" -eq 0 ]]; then failures=1; fi # a pass that failed before its summary
echo "${passed} passed, ${failures} failed, ${skipped} skipped"
exit "$status"
