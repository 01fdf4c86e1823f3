#!/usr/bin/env bash
# `make down`: removes what `make up` started, in either mode.
#
#   scripts/down.sh <run dir> [purge]
#
# Container mode: `compose down` of project pgdock (containers and network;
# with "purge" also its volumes, i.e. the data). Host mode: SIGTERM to the
# entrypoint, which stops PostgreSQL (fast shutdown, escalating inside
# TIMEOUT), then a wait of up to 40 s; the data stays in <run dir>/data.
set -euo pipefail
cd "$(dirname "$0")/.."
run=$1 purge=${2:-}
. ./scripts/lib.sh
did= failed=

if docker info >/dev/null 2>&1; then
  compose_env "$run" 0
  if [ -n "$(project_containers)" ] || { [ -n "$purge" ] && docker volume ls -q | grep -q "^${PGDOCK_PROJECT}_"; }; then
    args=(down --remove-orphans)
    [ -z "$purge" ] || args+=(--volumes)
    # --profile grafana so a Grafana container started by `make up` goes too.
    profile=()
    if docker compose version >/dev/null 2>&1 || docker-compose --help 2>/dev/null | grep -q -- --profile; then
      profile=(--profile grafana)
    fi
    if compose "${profile[@]}" "${args[@]}" 2>&1 | sed 's/^/  /'; then
      echo "pgdock containers removed${purge:+, data volume too}"
    else
      echo "down: compose down failed; the project's containers: $(project_containers | tr '\n' ' ')" >&2
      failed=1
    fi
    did=1
  fi
fi

pidfile="$run/entrypoint.pid"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  pid=$(cat "$pidfile")
  kill -TERM "$pid"
  stopped=
  for _ in $(seq 1 400); do
    if ! kill -0 "$pid" 2>/dev/null; then stopped=1; break; fi
    sleep 0.1
  done
  if [ -z "$stopped" ]; then
    echo "pgdock-entrypoint (pid $pid) did not exit in 40 s" >&2
    exit 1
  fi
  rm -f "$pidfile"
  echo "pgdock (host mode) stopped"
  tail -n 1 "$run/entrypoint.log"
  did=1
else
  rm -f "$pidfile"
fi
[ -n "$did" ] || echo "pgdock is not running"
[ -z "$failed" ]
