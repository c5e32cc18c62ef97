#!/usr/bin/env bash
# Makes sure a Chromium is there for the web app's browser tests
# (services/e2e/browser) and prints its path: $CHROMIUM; else Debian's
# headless shell (chromium-headless-shell: Chromium's engine without the
# browser's windows, about 40% less CPU than the full browser in these tests),
# installed with apt-get when missing and running as root (as CI does); else,
# not root, Debian's full chromium when that is what the machine has.
set -euo pipefail

die() { echo "ensure-chromium: $*" >&2; exit 1; }
SHELL_BIN=/usr/bin/chromium-headless-shell

if [[ -n "${CHROMIUM:-}" ]]; then
  [[ -x "$CHROMIUM" ]] || die "CHROMIUM=$CHROMIUM is not an executable"
  echo "$CHROMIUM"; exit 0
fi
if [[ -x "$SHELL_BIN" ]]; then
  echo "$SHELL_BIN"; exit 0
fi
if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: installing Debian package 'chromium-headless-shell' (one time, about a minute)..." >&2
  {
    apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium-headless-shell fonts-dejavu-core
  } </dev/null >&2 || die "installing the 'chromium-headless-shell' package failed"
  [[ -x "$SHELL_BIN" ]] || die "the 'chromium-headless-shell' package installed no $SHELL_BIN"
  echo "$SHELL_BIN"; exit 0
fi
if [[ -x /usr/bin/chromium ]]; then
  echo /usr/bin/chromium; exit 0
fi
die "no Chromium: install Debian's 'chromium-headless-shell' package (sudo apt-get install chromium-headless-shell) or set CHROMIUM to a Chromium binary, then rerun."
