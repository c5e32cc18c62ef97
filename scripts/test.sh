#!/usr/bin/env bash
# What `npm test` runs: contracts lint, generated code freshness, type checks,
# a Chromium for the browser tests (installed as root when missing), then
# every vitest test file against a throwaway PostgreSQL server.
# Extra arguments go to vitest, e.g. `npm test -- services/kit`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# The project's own Node 22 (npm package `node`) and tools come first on PATH.
export PATH="$ROOT/node_modules/.bin:$PATH"

[[ -x node_modules/.bin/buf && -x node_modules/.bin/vitest ]] ||
  { echo "test: dependencies missing; run 'npm install' (or 'npm ci') first" >&2; exit 1; }

step() { echo "==> $*" >&2; }

step "buf lint"
npx --no -- buf lint

step "generated code is fresh (buf generate)"
GEN_TMP="$(mktemp -d "${TMPDIR:-/tmp}/pool-gen.XXXXXX")"
trap 'rm -rf "$GEN_TMP"' EXIT
npx --no -- buf generate --output "$GEN_TMP"
if ! diff -r gen "$GEN_TMP/gen" >"$GEN_TMP/diff.txt"; then
  cat "$GEN_TMP/diff.txt" >&2
  echo "test: gen/ is stale: run 'npm run generate' and commit the result" >&2
  exit 1
fi

step "tsc -p . (services), services/web (the app), services/web/e2e (its browser tests)"
npx --no -- tsc -p .
npx --no -- tsc -p services/web
npx --no -- tsc -p services/web/e2e

step "a browser for the web app's tests"
CHROMIUM="$(bash scripts/ensure-chromium.sh)"
export CHROMIUM

step "vitest run (with a throwaway PostgreSQL)"
status=0
bash scripts/with-postgres.sh npx --no -- vitest run --reporter=default --reporter=json \
  --outputFile.json="$GEN_TMP/vitest.json" "$@" || status=$?
# One plain closing line, whatever reads this output.
if [[ -f "$GEN_TMP/vitest.json" ]]; then
  node -e 'const r = require(process.argv[1]);
    console.log(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);' "$GEN_TMP/vitest.json"
fi
exit "$status"
