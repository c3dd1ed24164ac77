#!/usr/bin/env bash
# The whole test suite: builds consulk8s, builds (or reuses) the real test environment's
# binaries, starts two Kubernetes API servers and two Consul datacenters, runs every test
# against them and tears everything down. `--unit` runs only the unit tests (no environment).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ "${1:-}" == "--unit" ]]; then
  npm run --silent build
  exec node --import tsx --test test/unit/*.test.ts
fi

npm run --silent build
bash test/env/build.sh >/dev/null
exec node --import tsx test/env/with-env.ts -- node --import tsx --test test/unit/*.test.ts test/integration/*.test.ts
