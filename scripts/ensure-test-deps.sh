#!/usr/bin/env bash
# System packages the test suite drives as real processes, installed from Debian when missing:
#   redis-server  the multi-process tests start a private one when REDIS_URL is not set
#   chromium      the browser tests (Playwright drives Debian's chromium; never `playwright install`)
#   postgresql    server binaries for the private cluster scripts/private-postgres.sh starts when
#                 DATABASE_URL is not set (the postgres_only tests)
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v chromium >/dev/null 2>&1 || need+=(chromium fonts-dejavu-core)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
echo "Installing test dependencies: ${need[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
clusters() { if command -v pg_lsclusters >/dev/null 2>&1; then pg_lsclusters -h | awk '{print $1, $2}'; fi; }
clusters_before=$(clusters)
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# The Debian packages start system services when they can; the tests start their own servers.
if [[ " ${need[*]} " == *" redis-server "* ]]; then
  $SUDO service redis-server stop >/dev/null 2>&1 || true
fi
# postgresql creates and starts a "main" cluster (on the first free port from 5432, so never one
# a running server holds). Stop only the clusters this install created, and keep them from starting
# at boot; never `service postgresql stop`, which would stop every cluster on the machine.
if [[ " ${need[*]} " == *" postgresql "* ]]; then
  while read -r version name; do
    [ -n "$version" ] || continue
    if grep -qxF "$version $name" <<<"$clusters_before"; then continue; fi
    echo "Stopping the PostgreSQL cluster $version/$name that the package started (the tests start their own)"
    $SUDO pg_ctlcluster "$version" "$name" stop >/dev/null 2>&1 || true
    echo manual | $SUDO tee "/etc/postgresql/$version/$name/start.conf" >/dev/null
  done <<<"$(clusters)"
fi
