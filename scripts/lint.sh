#!/usr/bin/env bash
# The static gates, also run by `npm test`: contracts, formatting, types, lint
# with type information, the packages' graph, and import cycles (type-only
# imports included), and the Prometheus rules under deploy/ (promtool,
# installed as root when missing: scripts/ensure-promtool.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$PATH"
step() { echo "==> $*" >&2; }

step "buf lint"
buf lint
step "biome: format and Biome's recommended lint rules (run 'npm run format' to fix the format)"
biome check --error-on-warnings .
step "tsc: services, the web app, its browser tests"
tsc -p .
tsc -p services/web
tsc -p services/e2e/browser
step "eslint (typescript-eslint with type information)"
eslint --cache --cache-location node_modules/.cache/eslint .
step "the package graph: no cycle through devDependencies either, every import declared"
tsx scripts/package-graph.ts
step "promtool: the alert and recording rules, and their unit tests (deploy/prometheus)"
PROMTOOL="$(bash scripts/ensure-promtool.sh)"
"$PROMTOOL" check rules deploy/prometheus/alerts.yaml
(cd deploy/prometheus && "$PROMTOOL" test rules alerts.test.yaml)
step "import cycles, type-only imports included (dpdm)"
dpdm --no-tree --no-warning --no-progress --exit-code circular:1 'services/*/src/**/*.ts' 'services/*/src/**/*.tsx' 'services/*/test/**/*.ts' 'services/e2e/browser/**/*.ts' 'bench/**/*.ts'
