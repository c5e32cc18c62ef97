#!/usr/bin/env bash
# Usage: scripts/openclaw-install.sh [DIR]
#
# Installs the OpenClaw agent runtime (npm `openclaw`) and the Node 24 it needs
# (npm `node`) into a folder of their own, outside the project's dependencies:
# they take about 70 s and 650 MB, which only a host that runs OpenClaw agents
# should pay. DIR defaults to $POOL_OPENCLAW_DIR, else vendor/openclaw in the
# repository (gitignored). A second run with the same pins does nothing.
#
# The instance host finds the result the same way (services/instance/src/openclaw/install.ts):
# DIR/node_modules/.bin/node and DIR/node_modules/openclaw.
set -euo pipefail

OPENCLAW_VERSION=2026.9.6
NODE_VERSION=24.21.0

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-${POOL_OPENCLAW_DIR:-$root/vendor/openclaw}}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

manifest="{
  \"name\": \"pool-openclaw-runtime\",
  \"private\": true,
  \"dependencies\": {
    \"node\": \"$NODE_VERSION\",
    \"openclaw\": \"$OPENCLAW_VERSION\"
  }
}"

installed_version() {
  local pkg="$dir/node_modules/$1/package.json"
  [[ -f "$pkg" ]] && sed -n 's/^  "version": "\(.*\)",*$/\1/p' "$pkg" | head -1
}

if [[ "$(installed_version openclaw)" == "$OPENCLAW_VERSION" \
   && "$(installed_version node)" == "$NODE_VERSION" \
   && -x "$dir/node_modules/.bin/node" ]]; then
  echo "openclaw-install: openclaw $OPENCLAW_VERSION and node $NODE_VERSION already in $dir" >&2
  exit 0
fi

echo "openclaw-install: installing openclaw $OPENCLAW_VERSION and node $NODE_VERSION into $dir (about 70 s, 650 MB)" >&2
printf '{"name": "pool-openclaw-runtime", "private": true}\n' > "$dir/package.json"
start=$(date +%s)
# Node 24 first: openclaw's install scripts refuse an older node, and npm runs
# them with the nearest node_modules/.bin first on PATH, which is then DIR's.
# --prefix keeps npm from walking up into the project's workspaces.
npm install --prefix "$dir" --no-audit --no-fund --omit=dev --save-exact --loglevel=error "node@$NODE_VERSION"
PATH="$dir/node_modules/.bin:$PATH" \
  npm install --prefix "$dir" --no-audit --no-fund --omit=dev --save-exact --loglevel=error "openclaw@$OPENCLAW_VERSION"
# The manifest as pinned (npm's save wrote caret ranges).
printf '%s\n' "$manifest" > "$dir/package.json"
echo "openclaw-install: done in $(( $(date +%s) - start )) s; $("$dir/node_modules/.bin/node" --version)," \
  "openclaw $(installed_version openclaw), $(du -sm "$dir/node_modules" | cut -f1) MB" >&2
