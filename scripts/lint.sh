#!/usr/bin/env bash
# The static gates, also run by `npm test`: contracts, formatting, types, lint
# with type information, and import cycles (type-only imports included).
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
tsc -p services/web/e2e
step "eslint (typescript-eslint with type information)"
eslint --cache --cache-location node_modules/.cache/eslint .
step "import cycles, type-only imports included (dpdm)"
dpdm --no-tree --no-warning --no-progress --exit-code circular:1 'services/*/src/**/*.ts' 'services/*/src/**/*.tsx' 'services/*/e2e/**/*.ts' 'bench/**/*.ts'
