#!/usr/bin/env bash
# `make status`: health of what `make up` started; exits 0 only when it is
# up and healthy (1 when unhealthy, 3 when nothing runs).
#
#   scripts/status.sh <run dir> <bin dir>
set -uo pipefail
cd "$(dirname "$0")/.."
run=$1 bin=$2
. ./scripts/lib.sh

found= rc=0
if docker info >/dev/null 2>&1; then
  compose_env "$run" 0
  ids=$(project_containers)
  if [ -n "$ids" ]; then
    found=1
    echo "containers (compose project $PGDOCK_PROJECT):"
    for id in $ids; do
      line=$(docker inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}}' "$id")
      echo "  ${line#/}"
      case $line in
        *" running healthy" | *" running -") ;;
        *) rc=1 ;;
      esac
    done
    pg=$(project_containers postgres | head -n 1)
    if [ -n "$pg" ]; then
      docker exec "$pg" pgdock-healthcheck readiness | sed 's/^/  /'
      [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
    else
      echo "  no postgres container"
      rc=1
    fi
  fi
fi

if [ -f "$run/entrypoint.pid" ] && kill -0 "$(cat "$run/entrypoint.pid")" 2>/dev/null; then
  found=1
  echo "host mode (pid $(cat "$run/entrypoint.pid")):"
  "$bin/pgdock-healthcheck" --state-dir "$run/state" readiness | sed 's/^/  /'
  [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
fi
if [ -z "$found" ]; then
  echo "pgdock is not running (make up starts it)" >&2
  exit 3
fi
exit $rc
