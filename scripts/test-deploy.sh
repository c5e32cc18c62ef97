#!/usr/bin/env bash
# npm run test:deploy: the pool as operators deploy it (deploy/README.md).
# Installs podman, runc and debootstrap from Debian's packages when missing
# (as root), makes the base images and builds the pool's image
# (deploy/test/images.ts: each step's time, the image's size, the time from
# start to healthy), then runs deploy/test/'s tests: the Kubernetes manifests
# against the API's schemas, the compose stack in containers with the core
# walk-through and containers killed during claims, and the manifests played
# by `podman kube play` with the same walk-through.
# --prepare: only what is network-bound (the bases, the image's npm ci layer).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$PATH"
step() { echo "==> $*" >&2; }
SECONDS=0

if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v debootstrap >/dev/null; then
  step "podman, runc and debootstrap from Debian's packages"
  [[ "$(id -u)" == 0 ]] || { echo "test:deploy: podman, runc and debootstrap are missing; install them as root" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc debootstrap >/dev/null ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc debootstrap >/dev/null; }
fi
# Podman as this kind of machine needs it (runc, cgroupfs, ulimits below the hard limits), chroot builds.
export CONTAINERS_CONF="$ROOT/deploy/test/containers.conf" BUILDAH_ISOLATION=chroot

if [[ "${1:-}" == "--prepare" ]]; then
  # What is network-bound (Debian's packages, the npm registry): the base images and the image's npm ci
  # layer. .ci/run runs this beside npm test; test:deploy then starts at the pool's image.
  step "base images and the image's dependencies (deploy/test/images.ts prepare)"
  tsx deploy/test/images.ts prepare
  step "test:deploy --prepare: ${SECONDS} s"
  exit 0
fi

step "images (deploy/test/images.ts)"
tsx deploy/test/images.ts

step "deploy/test: the manifests and the stack"
vitest run --config deploy/test/vitest.config.ts "$@"
step "test:deploy: ${SECONDS} s"
