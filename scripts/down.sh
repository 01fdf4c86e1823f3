#!/usr/bin/env bash
# Stops what `make up` started: SIGTERM to the entrypoint, which stops
# PostgreSQL (fast shutdown, escalating inside TIMEOUT), then waits.
set -euo pipefail
run=$1
pidfile="$run/entrypoint.pid"
if [ ! -f "$pidfile" ] || ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "pgdock is not running"
  rm -f "$pidfile"
  exit 0
fi
pid=$(cat "$pidfile")
kill -TERM "$pid"
for _ in $(seq 1 400); do
  if ! kill -0 "$pid" 2>/dev/null; then
    rm -f "$pidfile"
    echo "pgdock stopped"
    tail -n 1 "$run/entrypoint.log"
    exit 0
  fi
  sleep 0.1
done
echo "pgdock-entrypoint (pid $pid) did not exit in 40 s" >&2
exit 1
