#!/usr/bin/env bash
# A throw-away PostgreSQL for the tests that need it when DATABASE_URL is not set (`make test`).
#   start        initdb a cluster in a new temporary directory, start it on a free port on
#                127.0.0.1 (trust auth, fsync off) and print its DATABASE_URL; if this checkout's
#                cluster already runs, print its URL
#   url          print the DATABASE_URL of the running cluster (fails when none runs)
#   stop         stop the cluster and delete its directory (nothing to do when none runs)
#   run CMD...   start, run CMD with DATABASE_URL set, stop (also when CMD fails); CMD's exit code
# Its state lives in $CONTACTCENTRE_VAR_DIR/test-pg/ (default var/test-pg/): test sessions with
# their own CONTACTCENTRE_VAR_DIR get their own cluster. As root the server runs as the `postgres`
# user that Debian's package creates (PostgreSQL refuses to run as root); the data directory is
# under /tmp then, since that user may not be able to enter the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE_DIR="${CONTACTCENTRE_VAR_DIR:-$PWD/var}/test-pg"
STATE="$STATE_DIR/cluster"
DB=contactcentre
PGDIR="" BIN="" PORT="" URL=""

find_bindir() {
  local initdb
  initdb=$(ls -1d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)
  [ -n "$initdb" ] || initdb=$(command -v initdb || true)
  if [ -z "$initdb" ]; then
    echo "private-postgres: no initdb: run scripts/ensure-test-deps.sh (make test does)" >&2
    exit 1
  fi
  dirname "$initdb"
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

load_state() {
  [ -f "$STATE" ] || return 1
  # shellcheck source=/dev/null
  . "$STATE"
  case "$PGDIR" in
    */contactcentre-pg.*) ;;
    *) echo "private-postgres: $STATE does not name one of our clusters" >&2; exit 1 ;;
  esac
}

running() {
  load_state && [ -n "$PORT" ] && [ -d "$PGDIR/data" ] && "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -d postgres -U postgres
}

stop() {
  load_state || return 0
  if [ -f "$PGDIR/data/postmaster.pid" ]; then
    # Throw-away data: no shutdown checkpoint needed.
    as_owner "$BIN/pg_ctl" stop -D "$PGDIR/data" -m immediate -w >/dev/null 2>&1 \
      || kill -QUIT "$(head -n 1 "$PGDIR/data/postmaster.pid")" 2>/dev/null || true
  fi
  rm -rf "$PGDIR" "$STATE"
}

start() {
  if running; then
    URL="postgres://postgres@127.0.0.1:$PORT/$DB"
    echo "$URL"
    return
  fi
  stop  # a cluster whose server is gone (an interrupted run): remove what is left of it
  BIN=$(find_bindir)
  mkdir -p "$STATE_DIR"
  local base="${TMPDIR:-/tmp}"
  if [ "$(id -u)" -eq 0 ]; then base=/tmp; fi
  PGDIR=$(mktemp -d "$base/contactcentre-pg.XXXXXX")
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$PGDIR"; fi
  # Recorded before anything can fail, so that `stop` removes it.
  printf 'PGDIR=%q\nBIN=%q\n' "$PGDIR" "$BIN" >"$STATE"
  if ! as_owner "$BIN/initdb" -D "$PGDIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
      >"$PGDIR/initdb.log" 2>&1; then
    cat "$PGDIR/initdb.log" >&2
    stop
    exit 1
  fi
  cat >>"$PGDIR/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PGDIR'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  # The port is free when chosen; another process may take it before the server binds: try again.
  local attempt
  for attempt in 1 2 3; do
    PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if as_owner "$BIN/pg_ctl" start -D "$PGDIR/data" -l "$PGDIR/server.log" -o "-p $PORT" -w -t 60 >/dev/null; then
      printf 'PORT=%q\n' "$PORT" >>"$STATE"
      "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
      URL="postgres://postgres@127.0.0.1:$PORT/$DB"
      echo "$URL"
      return
    fi
  done
  echo "private-postgres: the server did not start (attempt $attempt); its log:" >&2
  cat "$PGDIR/server.log" >&2 || true
  stop
  exit 1
}

run() {
  [ $# -gt 0 ] || { echo "usage: $0 run COMMAND [ARGS...]" >&2; exit 2; }
  trap stop EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  start >/dev/null
  echo "private-postgres: $URL (stopped and deleted after the run)" >&2
  local status=0
  DATABASE_URL="$URL" "$@" || status=$?
  exit "$status"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url)
    if running; then echo "postgres://postgres@127.0.0.1:$PORT/$DB"; else
      echo "private-postgres: not running" >&2; exit 1
    fi ;;
  run) shift; run "$@" ;;
  *) echo "usage: $0 start|stop|url|run COMMAND [ARGS...]" >&2; exit 2 ;;
esac
