#!/usr/bin/env bash
# What `npm test` runs: the static gates (scripts/lint.sh), generated code
# freshness, a Chromium for the browser tests (installed as root when
# missing), then every tier of vitest tests against a throwaway PostgreSQL,
# and the 15 slowest test files. Extra arguments go to vitest, e.g.
# `npm test -- services/kit` or `npm test -- --project unit`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# The project's own Node 22 (npm package `node`) and tools come first on PATH.
export PATH="$ROOT/node_modules/.bin:$PATH"

[[ -x node_modules/.bin/buf && -x node_modules/.bin/vitest ]] ||
  { echo "test: dependencies missing; run 'npm install' (or 'npm ci') first" >&2; exit 1; }

step() { echo "==> $*" >&2; }

bash scripts/lint.sh

step "generated code is fresh (buf generate)"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/pool-test.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
buf generate --output "$TMP"
if ! diff -r gen "$TMP/gen" >"$TMP/diff.txt"; then
  cat "$TMP/diff.txt" >&2
  echo "test: gen/ is stale: run 'npm run generate' and commit the result" >&2
  exit 1
fi

step "a browser for the web app's tests"
CHROMIUM="$(bash scripts/ensure-chromium.sh)"
export CHROMIUM

step "vitest run: unit, integration and browser tiers (with a throwaway PostgreSQL)"
status=0
bash scripts/with-postgres.sh vitest run --reporter=default --reporter=json \
  --outputFile.json="$TMP/vitest.json" "$@" || status=$?
# The slowest files, then one plain closing line, whatever reads this output.
if [[ -f "$TMP/vitest.json" ]]; then
  node scripts/test-report.mjs "$TMP/vitest.json"
fi
exit "$status"
