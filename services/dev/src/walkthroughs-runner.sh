# Runs one ```sh block of a walk-through page as a person's terminal would
# (walkthroughs.system.test.ts): in the shell state the blocks before it left
# (variables, functions), from the walk's directory. Prints `@@line N` before
# each command of the block and `@@failed STATUS N` for each that failed, so
# the test can hold each output to what the page shows.
#   bash walkthroughs-runner.sh BLOCK_FILE STATE_FILE BACKGROUND_DIR
exec 2>&1
set -m # a command kept running gets a process group of its own: the test ends it whole
cd "$WALK_DIR" || exit 1
__base=" $(compgen -v | tr '\n' ' ') "
__bgdir=$3
[ -f "$2" ] && source "$2"

# A `# keep running` command: in the background, as in a terminal of its own.
__bg() {
  local log
  log="$__bgdir/bg-$(date +%s%N).log"
  (
    trap - DEBUG ERR
    eval "$1"
  ) >"$log" 2>&1 </dev/null &
  echo "$!" >>"$__bgdir/pids"
  echo "kept running (process group $!, its output in $log): $1"
}

# `npm start` kept running: in place of the one before (stopped as Ctrl-C stops it), up once it says so.
__pool() {
  local old log
  old=$(cat "$__bgdir/pool.pid" 2>/dev/null)
  if [ -n "$old" ] && kill -0 -- "-$old" 2>/dev/null; then
    echo "stopping the npm start before (process group $old) as Ctrl-C does, waiting up to 60 s"
    kill -INT -- "-$old"
    timeout 60 bash -c "while kill -0 -- -$old 2>/dev/null; do sleep 1; done" ||
      { echo "it had not stopped after 60 s: killed"; kill -KILL -- "-$old"; }
  fi
  log="$__bgdir/npm-start-$(date +%s%N).log"
  (
    trap - DEBUG ERR
    eval "$1"
  ) >"$log" 2>&1 </dev/null &
  echo "$!" >"$__bgdir/pool.pid"
  echo "$!" >>"$__bgdir/pids"
  echo "waiting up to 300 s for npm start (process group $!) to print \"Convos agent pool is up.\" (its output: $log)"
  if ! timeout 300 bash -c "until grep -q 'Convos agent pool is up.' '$log'; do sleep 2; done"; then
    echo "npm start was not up after 300 s; the end of its output:"
    tail -30 "$log"
    return 1
  fi
  cat "$log"
}

# The block's own lines only: not those of its functions, pipelines or $(…) (-T lets the trap into `source`).
set -T
trap '[ "${FUNCNAME[0]:-source}" = source ] && [ "$BASH_SUBSHELL" = 0 ] && echo "@@line $LINENO"' DEBUG
trap 'echo "@@failed $? $LINENO"' ERR
source "$1"
trap - DEBUG ERR
set +T
declare -f >"$2.new"
for __v in $(compgen -v); do
  case "$__base" in *" $__v "*) continue ;; esac
  case "$__v" in __* | BASH_* | FUNCNAME | PIPESTATUS | LINENO | OLDPWD | _) continue ;; esac
  declare -p "$__v" 2>/dev/null | grep -v '^declare -[a-zA-Z]*r' >>"$2.new"
done
mv "$2.new" "$2"
echo "@@end"
