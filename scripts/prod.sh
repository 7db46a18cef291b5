#!/usr/bin/env bash
# The production topology as local processes, for machines without Docker (benchmarks and the
# multi-process tests use the same shape): N daphne instances, a Celery worker and beat, and the
# SMTP intake listener, on the PostgreSQL and Redis named by DATABASE_URL and REDIS_URL.
#   scripts/prod.sh start | stop | status
# Settings come from the environment (CONTACTCENTRE_ENV=production needs SECRET_KEY etc.).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
RUN=var/prod
WEB_INSTANCES=${WEB_INSTANCES:-2}
WEB_BASE_PORT=${WEB_BASE_PORT:-8001}
SMTP_PORT=${SMTP_INTAKE_PORT:-2525}
mkdir -p "$RUN"

start_one() {  # name, command...
  local name=$1; shift
  if [ -f "$RUN/$name.pid" ] && kill -0 "$(cat "$RUN/$name.pid")" 2>/dev/null; then
    echo "  $name already running (pid $(cat "$RUN/$name.pid"))"; return
  fi
  nohup "$@" >"$RUN/$name.log" 2>&1 &
  echo $! >"$RUN/$name.pid"
  echo "  $name started (pid $!, log $RUN/$name.log)"
}

case "${1:-start}" in
  start)
    : "${DATABASE_URL:?set DATABASE_URL (PostgreSQL), e.g. postgres://postgres@127.0.0.1:5432/contactcentre}"
    : "${REDIS_URL:?set REDIS_URL, e.g. redis://127.0.0.1:6379/0}"
    export SMTP_INTAKE_EMBEDDED=0
    $PY manage.py migrate --noinput >/dev/null
    $PY manage.py collectstatic --noinput >/dev/null
    for i in $(seq 1 "$WEB_INSTANCES"); do
      port=$((WEB_BASE_PORT + i - 1))
      start_one "web$i" $PY -m daphne -b 127.0.0.1 -p "$port" --proxy-headers contactcentre.asgi:application
    done
    start_one worker $PY -m celery -A contactcentre worker --loglevel=INFO --concurrency=2 --without-gossip --without-mingle
    start_one beat $PY -m celery -A contactcentre beat --loglevel=INFO --schedule "$RUN/celerybeat-schedule"
    start_one smtp $PY manage.py run_smtp_intake --port "$SMTP_PORT"
    echo "web: $(for i in $(seq 1 "$WEB_INSTANCES"); do printf 'http://127.0.0.1:%s ' $((WEB_BASE_PORT + i - 1)); done)· smtp://127.0.0.1:$SMTP_PORT"
    ;;
  stop)
    for f in "$RUN"/*.pid; do
      [ -e "$f" ] || continue
      pid=$(cat "$f"); kill "$pid" 2>/dev/null && echo "  stopped $(basename "$f" .pid)" || true
      rm -f "$f"
    done
    ;;
  status)
    for f in "$RUN"/*.pid; do
      [ -e "$f" ] || continue
      pid=$(cat "$f"); name=$(basename "$f" .pid)
      if kill -0 "$pid" 2>/dev/null; then echo "  $name up (pid $pid)"; else echo "  $name DOWN"; fi
    done
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
