#!/usr/bin/env bash
# The static gates, also run by `npm test`: contracts, formatting, types, lint
# with type information, the packages' graph, and import cycles (dpdm, type-only
# imports included), and the Prometheus rules under deploy/ (promtool,
# installed as root when missing: scripts/ensure-promtool.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$PATH"
step() { echo "==> $*" >&2; }

step "buf lint"
buf lint

# Against what (docs/decisions.md, "buf breaking against main's last landed
# contracts"): POOL_CONTRACTS_BASE when set (a branch's merge base with
# main); else HEAD when the contracts in the working tree differ from it (a
# change not yet committed); else HEAD~1 (a fresh clone, where HEAD is the
# candidate). That commit's buf.yaml and proto/ are built into an image here,
# with today's node_modules for google/rpc, which git does not hold, and
# compared with the working tree's.
contracts_base() {
  if [[ -n "${POOL_CONTRACTS_BASE:-}" ]]; then
    echo "$POOL_CONTRACTS_BASE"
  elif [[ -n "$(git status --porcelain -- proto buf.yaml)" ]]; then
    echo HEAD
  else
    echo HEAD~1
  fi
}
BASE="$(contracts_base)"
# A shallow clone may not hold the base yet: fetch one commit more, once.
git rev-parse -q --verify "$BASE^{commit}" >/dev/null || git fetch -q --deepen=1 origin 2>/dev/null || true
git rev-parse -q --verify "$BASE^{commit}" >/dev/null ||
  { echo "lint: $BASE is not in this clone's history; fetch it, or set POOL_CONTRACTS_BASE" >&2; exit 1; }
step "buf breaking: the contracts against those of $BASE ($(git rev-parse --short "$BASE^{commit}"))"
BASE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/pool-contracts.XXXXXX")"
trap 'rm -rf "$BASE_DIR"' EXIT
git archive "$BASE" -- buf.yaml proto | tar -x -C "$BASE_DIR"
ln -s "$ROOT/node_modules" "$BASE_DIR/node_modules"
# Both sides as images: buf 1.74 compares a workspace of two modules against
# an image as if every file of it were deleted.
buf build "$BASE_DIR" --exclude-source-info -o "$BASE_DIR/base.binpb"
buf build -o "$BASE_DIR/candidate.binpb"
buf breaking "$BASE_DIR/candidate.binpb" --against "$BASE_DIR/base.binpb"
rm -rf "$BASE_DIR"
step "biome: format and Biome's recommended lint rules (run 'npm run format' to fix the format)"
biome check --error-on-warnings .
# tsc and eslint each keep about one core busy, and take most of this script's
# time: tsc runs beside eslint, and its output follows eslint's.
step "tsc (services, the web app, its browser tests) beside eslint (typescript-eslint with type information)"
TSC_OUT="$(mktemp "${TMPDIR:-/tmp}/pool-tsc.XXXXXX")"
trap 'rm -f "$TSC_OUT"' EXIT
(tsc -p . && tsc -p services/web && tsc -p services/e2e/browser) >"$TSC_OUT" 2>&1 &
TSC=$!
eslint_status=0
eslint --cache --cache-location node_modules/.cache/eslint . || eslint_status=$?
tsc_status=0
wait "$TSC" || tsc_status=$?
cat "$TSC_OUT"
[[ $tsc_status -eq 0 ]] || { echo "lint: tsc found type errors (above)" >&2; exit "$tsc_status"; }
[[ $eslint_status -eq 0 ]] || exit "$eslint_status"
step "the package graph: no cycle through devDependencies either, every import declared"
tsx scripts/package-graph.ts
step "promtool: the alert and recording rules, and their unit tests (deploy/prometheus)"
PROMTOOL="$(bash scripts/ensure-promtool.sh)"
"$PROMTOOL" check rules deploy/prometheus/alerts.yaml
(cd deploy/prometheus && "$PROMTOOL" test rules alerts.test.yaml)
step "import cycles, type-only imports included (dpdm)"
dpdm --no-tree --no-warning --no-progress --exit-code circular:1 'services/*/src/**/*.ts' 'services/*/src/**/*.tsx' 'services/*/test/**/*.ts' 'services/e2e/browser/**/*.ts' 'bench/**/*.ts'
