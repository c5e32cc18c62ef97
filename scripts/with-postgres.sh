#!/usr/bin/env bash
# Usage: scripts/with-postgres.sh CMD [ARGS...]
#
# Starts a throwaway PostgreSQL server in a temporary directory, runs CMD with
# POOL_TEST_PG_URL set to an admin URL (postgres://postgres@127.0.0.1:PORT/postgres),
# then stops the server and deletes the directory (also on failure or Ctrl-C).
# Exits with CMD's status.
#
# Server binaries: $PG_BINDIR if set, else Debian's /usr/lib/postgresql/<ver>/bin,
# else `pg_config --bindir`, else initdb on PATH. If none is found and we are
# root, Debian's `postgresql` package is installed (without starting or creating
# its own cluster). The server is for tests only: 127.0.0.1, trust auth, fsync off.
set -euo pipefail

if [[ $# -eq 0 ]]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi

log() { echo "with-postgres: $*" >&2; }
die() { log "$*"; exit 1; }

find_bindir() {
  local d
  if [[ -n "${PG_BINDIR:-}" && -x "$PG_BINDIR/initdb" ]]; then
    echo "$PG_BINDIR"; return 0
  fi
  # Debian/Ubuntu: newest installed major version.
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4,4 -V -r); do
    if [[ -x "$d/initdb" && -x "$d/postgres" ]]; then echo "$d"; return 0; fi
  done
  if command -v pg_config >/dev/null 2>&1; then
    d="$(pg_config --bindir 2>/dev/null || true)"
    if [[ -n "$d" && -x "$d/initdb" ]]; then echo "$d"; return 0; fi
  fi
  if command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v initdb)"; return 0
  fi
  return 1
}

install_postgres() {
  command -v apt-get >/dev/null 2>&1 ||
    die "PostgreSQL server binaries not found and apt-get is unavailable: install PostgreSQL (initdb, postgres, pg_ctl) or set PG_BINDIR."
  log "PostgreSQL server not found; installing Debian package 'postgresql' (one time)..."
  # Keep the package from creating and starting its own cluster: we never use it.
  # (A drop-in that the package's createcluster.conf includes; the conf itself is
  # the package's to write.) It does not matter if this fails.
  local dropin=/etc/postgresql-common/createcluster.d/00-pool-no-main-cluster.conf
  mkdir -p "$(dirname "$dropin")" && echo "create_main_cluster = false" >"$dropin" || true
  local added_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    added_policy=1
  fi
  local rc=0
  {
    apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql
  } </dev/null >&2 || rc=$?
  if [[ $added_policy -eq 1 ]]; then rm -f /usr/sbin/policy-rc.d; fi
  rm -f "$dropin"
  [[ $rc -eq 0 ]] || die "installing the 'postgresql' package failed (exit $rc)"
}

BINDIR="$(find_bindir || true)"
if [[ -z "$BINDIR" ]]; then
  if [[ $EUID -eq 0 ]]; then
    install_postgres
    BINDIR="$(find_bindir || true)"
    [[ -n "$BINDIR" ]] || die "PostgreSQL was installed but initdb was not found under /usr/lib/postgresql/*/bin"
  else
    die "PostgreSQL server binaries (initdb, postgres, pg_ctl) not found. Install them, e.g. 'sudo apt-get install postgresql' (Debian/Ubuntu) or 'brew install postgresql' (macOS), or set PG_BINDIR to their directory, then rerun."
  fi
fi

# initdb refuses to run as root: run the server as the 'postgres' system user then.
AS=()
if [[ $EUID -eq 0 ]]; then
  id postgres >/dev/null 2>&1 ||
    die "running as root, but there is no 'postgres' system user to run the server as (create one, or run as a normal user)"
  if command -v runuser >/dev/null 2>&1; then
    AS=(runuser -u postgres --)
  else
    AS=(su postgres -s /bin/sh -c '"$0" "$@"' --)
  fi
fi

TMPDIR_PG="$(mktemp -d "${TMPDIR:-/tmp}/pool-pg.XXXXXX")"
DATA="$TMPDIR_PG/data"
PGLOG="$TMPDIR_PG/server.log"
STARTED=0
if [[ $EUID -eq 0 ]]; then chown postgres: "$TMPDIR_PG"; fi
chmod 700 "$TMPDIR_PG"

cleanup() {
  local status=$?
  trap - EXIT INT TERM HUP
  if [[ $STARTED -eq 1 ]]; then
    "${AS[@]}" "$BINDIR/pg_ctl" -D "$DATA" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$TMPDIR_PG"
  exit "$status"
}
CHILD=""
SIGNALLED=""
# A signal before CMD runs: just exit (cleanup runs). While CMD runs: pass it on
# as TERM (an asynchronous command ignores SIGINT in a non-interactive shell),
# then wait for CMD and exit with its status.
on_signal() {
  SIGNALLED="$2"
  if [[ -n "$CHILD" ]]; then kill -TERM "$CHILD" 2>/dev/null || true; else exit "$2"; fi
}
trap cleanup EXIT
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM
trap 'on_signal HUP 129' HUP

"${AS[@]}" "$BINDIR/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --no-locale \
  --no-sync --no-instructions >"$TMPDIR_PG/initdb.log" 2>&1 ||
  { cat "$TMPDIR_PG/initdb.log" >&2; die "initdb failed"; }

port_in_use() { (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Pick a free port below the Linux ephemeral range; retry if we lose a race.
PORT=""
for attempt in 1 2 3 4 5 6 7 8; do
  candidate=$((20000 + RANDOM % 12000))
  if port_in_use "$candidate"; then continue; fi
  # -c settings: test server only. Many connections (benchmarks use 50+ at once),
  # no durability, no parallel workers (small /dev/shm in containers).
  opts="-c listen_addresses=127.0.0.1 -p $candidate -c unix_socket_directories=$TMPDIR_PG"
  opts+=" -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  opts+=" -c max_parallel_workers_per_gather=0 -c shared_buffers=128MB"
  # A generous wait: a busy machine (a CPU-bound process beside the tests) can take long over a start; it still
  # fails, with the server's log, when the server cannot start at all.
  if "${AS[@]}" "$BINDIR/pg_ctl" -D "$DATA" -l "$PGLOG" -o "$opts" -w -t 120 start >/dev/null 2>&1; then
    PORT="$candidate"
    STARTED=1
    break
  fi
  if grep -q "Address already in use" "$PGLOG" 2>/dev/null; then
    : >"$PGLOG" 2>/dev/null || true
    continue
  fi
  cat "$PGLOG" >&2 || true
  die "PostgreSQL failed to start"
done
[[ -n "$PORT" ]] || die "could not find a free port for PostgreSQL"

ready=0
for _ in $(seq 1 600); do
  if "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres; then ready=1; break; fi
  sleep 0.1
done
[[ $ready -eq 1 ]] || { cat "$PGLOG" >&2 || true; die "PostgreSQL did not accept connections on 127.0.0.1:$PORT"; }

export POOL_TEST_PG_URL="postgres://postgres@127.0.0.1:$PORT/postgres"
# For tests that run a server of their own (to stop and restart it: faults.system.test.ts).
export POOL_TEST_PG_BINDIR="$BINDIR"
log "PostgreSQL $("$BINDIR/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT (temporary: $TMPDIR_PG)"

# Run CMD (in the background so that signals reach our traps at once; it keeps
# our stdin and process group). The EXIT trap stops the server and deletes the
# directory; we exit with CMD's status.
set +e
"$@" <&0 &
CHILD=$!
while :; do
  wait "$CHILD"
  status=$?
  # wait returns early when a trap ran; wait again until CMD has really ended.
  if kill -0 "$CHILD" 2>/dev/null; then continue; fi
  break
done
exit "$status"
