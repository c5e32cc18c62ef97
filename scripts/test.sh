#!/usr/bin/env bash
# What `npm test` runs: promtool and a Chromium (installed as root when
# missing), generated code freshness, then the static gates (scripts/lint.sh)
# beside every tier of vitest tests against a throwaway PostgreSQL, and the 15
# slowest test files. Extra arguments go to vitest, e.g.
# `npm test -- services/kit` or `npm test -- --project unit`; POOL_TEST_REPORT=FILE
# keeps vitest's JSON report (every file's start and end) in FILE.
#
# Why beside: most integration tests wait on other processes (PostgreSQL, the
# XMTP node, the services), and tsc and eslint, about two and a half minutes
# of one core on a fresh clone, fill those waits; one after the other, the
# gates added their whole time to the run's (docs/testing.md, "How long").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# The project's own Node 22 (npm package `node`) and tools come first on PATH.
export PATH="$ROOT/node_modules/.bin:$PATH"

[[ -x node_modules/.bin/buf && -x node_modules/.bin/vitest ]] ||
  { echo "test: dependencies missing; run 'npm install' (or 'npm ci') first" >&2; exit 1; }

step() { echo "==> $*" >&2; }

TMP="$(mktemp -d "${TMPDIR:-/tmp}/pool-test.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

# Installs first, one at a time: apt-get takes one lock.
step "promtool, for the alert rules' checks in the static gates"
PROMTOOL="$(bash scripts/ensure-promtool.sh)"
export PROMTOOL
step "a browser for the web app's tests"
CHROMIUM="$(bash scripts/ensure-chromium.sh)"
export CHROMIUM

step "generated code is fresh (buf generate)"
buf generate --output "$TMP"
if ! diff -r gen "$TMP/gen" >"$TMP/diff.txt"; then
  cat "$TMP/diff.txt" >&2
  echo "test: gen/ is stale: run 'npm run generate' and commit the result" >&2
  exit 1
fi

# The gates' output waits in a file until the tests end, or is shown at once
# when they fail, so that a person can stop the tests early.
step "the static gates (scripts/lint.sh), beside the tests; their output follows the tests'"
(
  rc=0
  bash scripts/lint.sh >"$TMP/lint.txt" 2>&1 || rc=$?
  echo "$rc" >"$TMP/lint.rc"
  if [[ $rc -ne 0 ]]; then
    { cat "$TMP/lint.txt"; echo "test: the static gates failed (above); the tests go on"; } >&2
  fi
) &
GATES=$!

step "vitest run: unit, integration and browser tiers (with a throwaway PostgreSQL)"
status=0
bash scripts/with-postgres.sh vitest run --reporter=default --reporter=json \
  --outputFile.json="$TMP/vitest.json" "$@" || status=$?

wait "$GATES" || true
gates="$(cat "$TMP/lint.rc" 2>/dev/null || echo 1)"
if [[ $gates -eq 0 ]]; then
  echo >&2
  cat "$TMP/lint.txt" >&2
  echo "test: the static gates passed" >&2
fi
# The slowest files, then one plain closing line, whatever reads this output.
if [[ -f "$TMP/vitest.json" ]]; then
  node scripts/test-report.mjs "$TMP/vitest.json"
  # Kept where asked: each file's start and end, to see which tier or file a run waited on last.
  if [[ -n "${POOL_TEST_REPORT:-}" ]]; then cp "$TMP/vitest.json" "$POOL_TEST_REPORT"; fi
fi
[[ $status -ne 0 ]] && exit "$status"
exit "$gates"
