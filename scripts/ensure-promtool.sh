#!/usr/bin/env bash
# Makes sure Prometheus' promtool is there for the alert rules' checks in the
# static gates (scripts/lint.sh): $PROMTOOL, else `promtool` on PATH, else
# Debian's prometheus package installed with apt-get when missing and running
# as root (as CI does, and as scripts/ensure-chromium.sh does for the browser).
# No npm package ships promtool. Prints its path.
set -euo pipefail

die() { echo "ensure-promtool: $*" >&2; exit 1; }

if [[ -n "${PROMTOOL:-}" ]]; then
  [[ -x "$PROMTOOL" ]] || die "PROMTOOL=$PROMTOOL is not an executable"
  echo "$PROMTOOL"; exit 0
fi
if command -v promtool >/dev/null 2>&1; then
  command -v promtool; exit 0
fi
[[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1 ||
  die "no promtool: install Debian's 'prometheus' package (sudo apt-get install prometheus) or set PROMTOOL to a promtool binary, then rerun."
echo "ensure-promtool: installing Debian package 'prometheus' for its promtool (one time)..." >&2
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
{
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; }
} </dev/null >"$log" 2>&1 || { cat "$log" >&2; die "installing the 'prometheus' package failed"; }
command -v promtool >/dev/null 2>&1 || die "the 'prometheus' package installed no promtool"
command -v promtool
