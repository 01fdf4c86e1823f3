#!/usr/bin/env bash
# `make up`: brings pgdock up and prints how to connect. Idempotent.
#
#   scripts/up.sh <run dir> <bin dir> <port> [container|host]
#
# Container mode (a Docker Engine answers `docker info`): builds the images
# that are missing or older than bin/ (scripts/image.sh), generates the
# secrets under <run dir>/compose (0600), runs compose/monitoring (PostgreSQL,
# postgres_exporter, Prometheus; Grafana too when its image is present) as
# project "pgdock", waits until every container is healthy.
# Host mode (no Engine, or mode "host"): pgdock-entrypoint runs on this host
# with everything under <run dir>.
# Both modes refuse a port something else listens on, and check that the
# server answering on 127.0.0.1:<port> is the one just started.
set -euo pipefail
cd "$(dirname "$0")/.."
run=$1 bin=$2 port=$3 mode=${4:-}
. ./scripts/lib.sh

mkdir -p "$run"
chmod 755 "$run"
run=$(cd "$run" && pwd)
bin=$(cd "$bin" && pwd)

if [ -z "$mode" ]; then
  if docker info >/dev/null 2>&1; then
    mode=container
  else
    echo "up: no Docker Engine reachable (docker info failed); running pgdock on this host instead (host mode)"
    mode=host
  fi
fi

# A generated password, kept in a private file; never on a command line.
new_secret() { # file
  if [ ! -s "$1" ]; then
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$1")
  fi
  chmod 600 "$1"
}

# Fails unless the server on 127.0.0.1:$port accepts the password in
# $password_file and reports system identifier $1: it is then ours, and not
# another program that holds the port on some address.
verify_ours() { # want-system-identifier where
  local got psql=(psql)
  # Without a psql on the host (container mode only), the image's, on the host's network.
  if ! command -v psql >/dev/null 2>&1 && [ "$mode" = container ]; then
    psql=(docker run --rm --network host -e PGPASSWORD -e PGCONNECT_TIMEOUT --entrypoint psql "$PGDOCK_IMAGE")
  fi
  got=$(PGPASSWORD=$(cat "$password_file") PGCONNECT_TIMEOUT=5 \
    "${psql[@]}" -X -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc 'select system_identifier from pg_control_system()' 2>&1) || {
    echo "up: the server on 127.0.0.1:$port did not accept pgdock's login: $got" >&2
    return 1
  }
  if [ "$got" != "$1" ]; then
    echo "up: 127.0.0.1:$port is answered by another PostgreSQL (system identifier $got, $2 has $1)" >&2
    return 1
  fi
}

# ---------------------------------------------------------------- host mode
host_up() {
  local log=$run/entrypoint.log pidfile=$run/entrypoint.pid
  password_file=$run/password
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    if verify_ours "$(sysid_host "$run/data")" "$run/data"; then
      echo "pgdock is already running (pid $(cat "$pidfile")); make down stops it"
      host_banner
      exit 0
    fi
    exit 1
  fi
  port_free "$port" || exit 1
  new_secret "$password_file"
  mkdir -p "$run/initdb.d" "$run/conf"
  export PGDATA="$run/data" PGPORT="$port" \
    POSTGRESQL_UNIX_SOCKET_DIRECTORIES="$run/sock" PGDOCK_STATE_DIR="$run/state" \
    PGDOCK_INITDB_DIR="$run/initdb.d" PGCONFIG="$run/conf" PGDOCK_PLUGIN_DIR="$bin/plugins" \
    POSTGRES_PASSWORD_FILE="$password_file"
  unset POSTGRES_PASSWORD
  # The log is appended to, never overwritten: each start gets a header, and
  # readiness is looked for only in what this start wrote.
  touch "$log"
  local offset
  offset=$(stat -c %s "$log")
  printf '\n==== make up %s ====\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >> "$log"
  nohup "$bin/pgdock-entrypoint" >> "$log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  local deadline=$((SECONDS + 60))
  while [ $SECONDS -lt $deadline ]; do
    if tail -c +$((offset + 1)) "$log" | grep -q "PostgreSQL is ready"; then
      if ! verify_ours "$(sysid_host "$run/data")" "$run/data"; then
        echo "up: stopping the pgdock just started (make down); free port $port or pick another: make up UP_PORT=…" >&2
        ./scripts/down.sh "$run" >/dev/null 2>&1 || true
        exit 1
      fi
      echo "pgdock is running on this host (pid $(cat "$pidfile")), data in $run/data, log in $log"
      host_banner
      exit 0
    fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "up: pgdock-entrypoint exited; what it logged:" >&2
      tail -c +$((offset + 1)) "$log" >&2
      rm -f "$pidfile"
      exit 1
    fi
    sleep 0.1
  done
  echo "up: PostgreSQL did not become ready in 60 s; see $log" >&2
  exit 1
}

sysid_host() { # pgdata
  local pgcd=/usr/lib/postgresql/15/bin/pg_controldata
  if [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1; then
    runuser -u postgres -- "$pgcd" "$1" 2>/dev/null | awk -F': *' '/^Database system identifier/ {print $2}'
  else
    "$pgcd" "$1" 2>/dev/null | awk -F': *' '/^Database system identifier/ {print $2}'
  fi
}

host_banner() {
  cat <<MSG

  connect:  PGPASSWORD="\$(cat $password_file)" psql -h 127.0.0.1 -p $port -U postgres
  health:   $bin/pgdock-healthcheck --state-dir $run/state     (make status)
  stop:     make down
MSG
}

# ----------------------------------------------------------- container mode
container_up() {
  local dir=$run/compose
  mkdir -p "$dir"
  chmod 700 "$dir"
  password_file=$dir/postgres-password
  new_secret "$password_file"
  new_secret "$dir/exporter-password"
  new_secret "$dir/grafana-password"
  compose_env "$run" "$port"
  export PGDOCK_PASSWORD_FILE=$password_file
  PGDOCK_EXPORTER_PASSWORD=$(cat "$dir/exporter-password")
  PGDOCK_GRAFANA_PASSWORD=$(cat "$dir/grafana-password")
  export PGDOCK_EXPORTER_PASSWORD PGDOCK_GRAFANA_PASSWORD

  local profiles=()
  grafana=
  if docker image inspect "$GRAFANA_IMAGE" >/dev/null 2>&1; then
    profiles=(--profile grafana)
    grafana=1
  fi
  # Ports first: a taken port fails before anything is built or started.
  # When some of the stack runs, its own containers hold them (a port taken
  # by something else then fails the engine's bind, or the check below).
  local running
  running=$(docker ps -q --filter "label=com.docker.compose.project=$PGDOCK_PROJECT" | wc -l)
  if [ "$running" -eq 0 ]; then
    for p in "$port" "$PGDOCK_PROMETHEUS_PORT" ${grafana:+"$PGDOCK_GRAFANA_PORT"}; do
      port_free "$p" || exit 1
    done
  fi
  [ -n "$grafana" ] || echo "up: no Grafana image ($GRAFANA_IMAGE) on this engine: starting without the grafana profile"
  ensure_images || exit 1
  local start=$SECONDS t0
  t0=$(date +%s.%N)
  if ! compose "${profiles[@]}" up -d --remove-orphans 2>&1 | sed 's/^/  /'; then
    echo "up: compose up failed (make down cleans up)" >&2
    exit 1
  fi
  local services=(postgres postgres-exporter prometheus) s id health
  [ -z "$grafana" ] || services+=(grafana)
  local deadline=$((SECONDS + 120))
  for s in "${services[@]}"; do
    id=$(compose ps -q "$s")
    [ -n "$id" ] || { echo "up: no container for service $s" >&2; exit 1; }
    while :; do
      health=$(docker inspect -f '{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$id")
      case $health in
        running/healthy | running/none) break ;;
        running/starting) ;;
        *)
          echo "up: $s is $health; its last log lines:" >&2
          docker logs --tail 30 "$id" >&2 2>&1
          exit 1 ;;
      esac
      if [ $SECONDS -ge $deadline ]; then
        echo "up: $s not healthy after 120 s ($health); see: docker logs $id" >&2
        exit 1
      fi
      sleep 0.2
    done
    if [ "$s" = postgres ]; then
      awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "up: postgres healthy %.1f s after compose up\n", t1 - t0 }'
    fi
  done
  local pgid sysid
  pgid=$(compose ps -q postgres)
  sysid=$(docker exec -u postgres "$pgid" pg_controldata /var/lib/postgresql/data | awk -F': *' '/^Database system identifier/ {print $2}')
  if ! verify_ours "$sysid" "container $pgid"; then
    echo "up: free port $port or pick another (make up UP_PORT=…); the stack stays up for inspection, make down removes it" >&2
    exit 1
  fi
  echo "pgdock is up in containers (compose project $PGDOCK_PROJECT, compose/monitoring/compose.yaml), all healthy in $((SECONDS - start)) s"
  cat <<MSG

  connect:     PGPASSWORD="\$(cat $password_file)" psql -h 127.0.0.1 -p $port -U postgres
  prometheus:  http://127.0.0.1:$PGDOCK_PROMETHEUS_PORT/  (query pg_up)
MSG
  if [ -n "$grafana" ]; then
    echo "  grafana:     http://127.0.0.1:$PGDOCK_GRAFANA_PORT/  (admin, password in $dir/grafana-password)"
  fi
  cat <<MSG
  logs:        docker logs ${pgid:0:12}
  status:      make status
  stop:        make down   (the data volume stays; make down PURGE=1 removes it)
MSG
}

# Builds the images that are missing; rebuilds pgdock/postgres:15 when the
# binaries in bin/ differ from those it was built from.
ensure_images() {
  local missing=() img want have
  for img in etcd prometheus postgres-exporter; do
    docker image inspect "pgdock/$img:latest" >/dev/null 2>&1 || missing+=("$img")
  done
  # bin/image/postgres.built: "<image id> <digest of its binaries>", written by image.sh.
  want="$(docker image inspect -f '{{.Id}}' "$PGDOCK_IMAGE" 2>/dev/null || echo none) $(binaries_digest "$bin")"
  if [ "$PGDOCK_IMAGE" = pgdock/postgres:15 ] && [ "$want" != "$(cat "$bin/image/postgres.built" 2>/dev/null)" ]; then
    missing=(postgres "${missing[@]}")
  elif ! docker image inspect "$PGDOCK_IMAGE" >/dev/null 2>&1; then
    echo "up: PGDOCK_IMAGE=$PGDOCK_IMAGE is not on this engine" >&2
    return 1
  fi
  # etcd is not part of this stack; build it only with the others.
  if [ ${#missing[@]} -eq 1 ] && [ "${missing[0]}" = etcd ]; then return 0; fi
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "up: building images: ${missing[*]} (make image)"
  ./scripts/image.sh "$bin" "${missing[@]}"
}

case $mode in
  container) container_up ;;
  host) host_up ;;
  *) echo "up: mode must be container or host, not \"$mode\"" >&2; exit 2 ;;
esac
