#!/usr/bin/env bash
# Makes sure a Chromium is there for the web app's browser tests
# (services/e2e/browser): $CHROMIUM, else Debian's /usr/bin/chromium, installed
# with apt-get when missing and running as root (as CI does). Prints its path.
set -euo pipefail

die() { echo "ensure-chromium: $*" >&2; exit 1; }

if [[ -n "${CHROMIUM:-}" ]]; then
  [[ -x "$CHROMIUM" ]] || die "CHROMIUM=$CHROMIUM is not an executable"
  echo "$CHROMIUM"; exit 0
fi
if [[ -x /usr/bin/chromium ]]; then
  echo /usr/bin/chromium; exit 0
fi
[[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1 ||
  die "no Chromium: install Debian's 'chromium' package (sudo apt-get install chromium) or set CHROMIUM to a Chromium binary, then rerun."
echo "ensure-chromium: installing Debian package 'chromium' (one time, about a minute)..." >&2
{
  apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
} </dev/null >&2 || die "installing the 'chromium' package failed"
[[ -x /usr/bin/chromium ]] || die "the 'chromium' package installed no /usr/bin/chromium"
echo /usr/bin/chromium
