#!/usr/bin/env bash
# stackd demo: a local Git repository made from deploy/examples/, a stackd daemon following it,
# and the stacks it deploys. Everything lives under .demo/ in the repository root (gitignored).
#
#   bash deploy/demo/demo.sh          start (or restart from scratch); `make demo` builds first
#   bash deploy/demo/demo.sh clean    stop the daemon, remove its containers and networks, .demo/
#
# Settings (environment): STACKD_DEMO_PORT (default 8787; a free port is picked if it is taken),
# STACKD_DEMO_TIMEOUT (seconds to wait for every stack to be synced, default 180).
#
# The daemon runs with instance "stackd-demo": every container it creates carries the label
# io.stackd.managed-by=stackd-demo, and `clean` removes exactly those containers (and the
# networks of their compose projects), nothing else on the engine.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DEMO="$ROOT/.demo"
REPO="$DEMO/repo"
DATA="$DEMO/data"
LOG="$DEMO/stackd.log"
PIDFILE="$DEMO/stackd.pid"
URLFILE="$DEMO/url"
EXAMPLES="$ROOT/deploy/examples"
MAIN="$ROOT/dist/cmd/stackd/main.js"
INSTANCE=stackd-demo
MANAGED_LABEL="io.stackd.managed-by=$INSTANCE"
PROJECT_LABEL=com.docker.compose.project
IMAGE=stackd-test/busybox:1
PORT="${STACKD_DEMO_PORT:-8787}"
TIMEOUT="${STACKD_DEMO_TIMEOUT:-180}"

say() { printf 'demo: %s\n' "$*"; }
warn() { printf 'demo: warning: %s\n' "$*" >&2; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

stackd() { node "$MAIN" "$@"; }

# ---------------------------------------------------------------------------------------------
# clean

# Is $1 the demo daemon we started (alive, not a zombie, running main.js)?
is_our_daemon() {
  local pid=$1 state cmdline
  [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed 's/.*) //' "/proc/$pid/stat" | cut -c1)
  [ "$state" != Z ] && [ "$state" != X ] || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
  [[ "$cmdline" == *"$MAIN run"* ]]
}

stop_daemon() {
  [ -f "$PIDFILE" ] || return 0
  local pid
  pid=$(cat "$PIDFILE")
  if [[ "$pid" =~ ^[0-9]+$ ]] && is_our_daemon "$pid"; then
    say "stopping the demo daemon (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    # SIGTERM lets a running reconcile finish; the demo's stacks are small, so 30 s is plenty.
    for _ in $(seq 1 60); do
      is_our_daemon "$pid" || break
      sleep 0.5
    done
    if is_our_daemon "$pid"; then
      warn "pid $pid did not stop within 30 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$PIDFILE"
}

remove_containers() {
  if ! timeout 10 docker info >/dev/null 2>&1; then
    warn "the Docker engine does not answer: containers labelled $MANAGED_LABEL (if any) were not removed"
    return 0
  fi
  local ids projects=() networks=() p
  mapfile -t ids < <(docker ps -aq --filter "label=$MANAGED_LABEL")
  if [ ${#ids[@]} -gt 0 ]; then
    mapfile -t projects < <(docker inspect --format "{{index .Config.Labels \"$PROJECT_LABEL\"}}" "${ids[@]}" | sort -u)
    say "removing ${#ids[@]} container(s) labelled $MANAGED_LABEL"
    docker rm -f "${ids[@]}" >/dev/null
  fi
  # stackd labels containers only; compose labels its networks with the project. Remove the
  # networks labelled as ours and those of the projects whose containers were ours (a network
  # still in use by some other container is left alone: docker refuses to remove it).
  mapfile -t networks < <(docker network ls -q --filter "label=$MANAGED_LABEL")
  for p in "${projects[@]}"; do
    [ -n "$p" ] || continue
    mapfile -t -O "${#networks[@]}" networks < <(docker network ls -q --filter "label=$PROJECT_LABEL=$p")
  done
  if [ ${#networks[@]} -gt 0 ]; then
    mapfile -t networks < <(printf '%s\n' "${networks[@]}" | sort -u)
    say "removing ${#networks[@]} network(s)"
    docker network rm "${networks[@]}" >/dev/null || warn "some networks are still in use and were kept"
  fi
}

clean() {
  stop_daemon
  remove_containers
  if [ -d "$DEMO" ]; then
    say "removing $DEMO"
    rm -rf "$DEMO"
  fi
}

# ---------------------------------------------------------------------------------------------
# start

ensure_engine() {
  if timeout 10 docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1 &&
    docker image inspect "$IMAGE" >/dev/null 2>&1; then
    return 0
  fi
  say "preparing Docker, compose and the test images (test/env/setup.sh)"
  bash "$ROOT/test/env/setup.sh"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pick_port() {
  if port_in_use "$PORT"; then
    local wanted=$PORT
    PORT=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')
    say "port $wanted is taken; using $PORT"
  fi
}

# The example stack ids: the directories of deploy/examples holding a compose file.
example_stacks() {
  local d
  for d in "$EXAMPLES"/*/; do
    d=${d%/}
    for f in compose.yaml compose.yml docker-compose.yaml docker-compose.yml; do
      if [ -f "$d/$f" ]; then
        basename "$d"
        break
      fi
    done
  done
}

make_repo() {
  say "creating the stacks repository $REPO from deploy/examples/"
  mkdir -p "$REPO"
  cp -R "$EXAMPLES"/. "$REPO"/
  git -C "$REPO" init -q
  git -C "$REPO" symbolic-ref HEAD refs/heads/main
  # A local identity, so that `git commit` works in the demo repository on any machine.
  git -C "$REPO" config user.name "stackd demo"
  git -C "$REPO" config user.email "demo@stackd.invalid"
  git -C "$REPO" add -A
  git -C "$REPO" commit -q -m "Example stacks"
}

start_daemon() {
  mkdir -p "$DATA"
  : >"$LOG"
  say "starting stackd on http://127.0.0.1:$PORT (log: $LOG)"
  # The inner shell writes its own pid and then becomes node, so the pid file names the daemon.
  # setsid detaches it from this terminal's process group: Ctrl-C here does not stop it.
  (
    cd "$ROOT"
    export STACKD_SOURCE_URL="$REPO" STACKD_SOURCE_BRANCH=main STACKD_DATA_DIR="$DATA"
    export STACKD_INSTANCE="$INSTANCE" STACKD_LISTEN="127.0.0.1:$PORT" STACKD_SOURCE_POLL_INTERVAL=5s
    # Deleting a stack directory in the demo repository removes its containers (only ours); a
    # commit that breaks a stack is rolled back to the last synced revision.
    export STACKD_RECONCILE_PRUNE=true STACKD_RECONCILE_ROLLBACK=true
    # shellcheck disable=SC2016 # expanded by the inner shell
    setsid sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$PIDFILE" node "$MAIN" run >>"$LOG" 2>&1 </dev/null &
  )
  for _ in $(seq 1 50); do
    [ -s "$PIDFILE" ] && break
    sleep 0.1
  done
  [ -s "$PIDFILE" ] || die "stackd did not start; log: $LOG"
  echo "http://127.0.0.1:$PORT" >"$URLFILE"
}

fail_with_log() {
  printf 'demo: error: %s\n' "$1" >&2
  printf -- '--- last lines of %s ---\n' "$LOG" >&2
  tail -n 40 "$LOG" >&2 || true
  printf -- '---\n' >&2
  printf 'demo: inspect it, then stop everything with: make demo-clean\n' >&2
  exit 1
}

# Print "ok" when every expected stack is synced, else "id=status ..." for the others.
# shellcheck disable=SC2016 # JavaScript, not shell
SUMMARY_JS='
let text = "";
process.stdin.on("data", (c) => (text += c));
process.stdin.on("end", () => {
  const want = process.argv.slice(1);
  let stacks = [];
  try { stacks = JSON.parse(text).stacks ?? []; } catch { console.log("no answer yet"); return; }
  const byId = new Map(stacks.map((s) => [s.id, s]));
  const pending = want.map((id) => [id, byId.get(id)]).filter(([, s]) => s?.status !== "synced");
  console.log(pending.length === 0 ? "ok" : pending.map(([id, s]) =>
    `${id}=${s?.status ?? "absent"}${s?.message ? ` (${s.message})` : ""}`).join(", "));
});'

wait_synced() {
  local url=$1 summary="" pid deadline
  local -a want
  mapfile -t want < <(example_stacks)
  pid=$(cat "$PIDFILE")
  deadline=$((SECONDS + TIMEOUT))
  say "waiting up to ${TIMEOUT}s for ${want[*]} to be synced"
  while [ "$SECONDS" -lt "$deadline" ]; do
    is_our_daemon "$pid" || fail_with_log "stackd exited"
    summary=$(stackd status --server "$url" --output json 2>/dev/null | node -e "$SUMMARY_JS" "${want[@]}" || true)
    [ "$summary" = ok ] && return 0
    sleep 1
  done
  fail_with_log "not every stack was synced within ${TIMEOUT}s: ${summary:-no answer from $url}"
}

start() {
  command -v node >/dev/null || die "node is not installed (stackd needs Node.js 20.5 or later)"
  command -v git >/dev/null || die "git is not installed"
  [ -f "$MAIN" ] || die "$MAIN is missing: run 'make build' first (or 'make demo')"
  [ -d "$EXAMPLES" ] || die "$EXAMPLES is missing"
  ensure_engine
  # Re-running starts from scratch: the previous daemon, its containers and .demo/ go first.
  clean
  pick_port
  make_repo
  start_daemon
  local url
  url=$(cat "$URLFILE")
  wait_synced "$url"
  echo
  stackd status --server "$url" || true
  cat <<EOF

The demo is running: stackd (pid $(cat "$PIDFILE"), instance $INSTANCE) follows the Git repository
$REPO, polling every 5 s. Log: $LOG

Make a change and watch it reconcile:

  cd $REPO
  echo '<p>Changed at '"\$(date)"'</p>' >>web/html/index.html
  git commit -qam "web: change the page"
  node $MAIN status --watch --server $url

(Ctrl-C stops watching, not the daemon.) Only the web service is recreated.

Other things to try:

  # the same data as JSON, and the Prometheus metrics
  curl -s $url/api/v1/stacks
  curl -s $url/metrics | grep '^stackd_'
  # the page the web stack serves
  docker exec stackd-example-web-web-1 wget -qO- http://127.0.0.1:8080/
  # recreates the worker service only; scheduler keeps running
  sed -i 's/^BATCH_SIZE=.*/BATCH_SIZE=50/' worker/worker.env && git commit -qam "worker: bigger batches"
  # drift: stackd starts the container again (self-heal)
  docker stop stackd-example-tools-toolbox-1
  # prune is on in the demo: the tools stack is removed (status "missing")
  git rm -rq tools && git commit -qm "remove tools"

Stop the demo (daemon, its containers and networks, .demo/):

  make demo-clean
EOF
}

case "${1:-start}" in
  start) start ;;
  clean) clean ;;
  *) die "usage: $0 [start|clean]" ;;
esac
