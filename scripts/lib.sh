# Shared by scripts/up.sh, down.sh and status.sh (sourced, not run).

# The compose stack `make up` runs, its project name and published ports.
compose_env() { # run-dir port
  export PGDOCK_PROJECT=${PGDOCK_PROJECT:-pgdock}
  export PGDOCK_COMPOSE_FILE=${PGDOCK_COMPOSE_FILE:-compose/monitoring/compose.yaml}
  export PGDOCK_PORT=$2
  export PGDOCK_PROMETHEUS_PORT=${PGDOCK_PROMETHEUS_PORT:-59090}
  export PGDOCK_GRAFANA_PORT=${PGDOCK_GRAFANA_PORT:-53000}
  export PGDOCK_IMAGE=${PGDOCK_IMAGE:-pgdock/postgres:15}
  export GRAFANA_IMAGE=${GRAFANA_IMAGE:-grafana/grafana-oss:11.6.0}
  # Interpolation needs every variable, and an existing secret file, even
  # where only `down` runs.
  local dir=$1/compose
  export PGDOCK_PASSWORD_FILE=${PGDOCK_PASSWORD_FILE:-$dir/postgres-password}
  [ -e "$PGDOCK_PASSWORD_FILE" ] || PGDOCK_PASSWORD_FILE=/dev/null
  [ -n "${PGDOCK_EXPORTER_PASSWORD:-}" ] || PGDOCK_EXPORTER_PASSWORD=$(cat "$dir/exporter-password" 2>/dev/null || echo unset)
  [ -n "${PGDOCK_GRAFANA_PASSWORD:-}" ] || PGDOCK_GRAFANA_PASSWORD=$(cat "$dir/grafana-password" 2>/dev/null || echo unset)
  export PGDOCK_EXPORTER_PASSWORD PGDOCK_GRAFANA_PASSWORD
}

# The project's containers (any state), found by Compose's labels: works
# without loading the compose file.
project_containers() { # [service]
  docker ps -aq --filter "label=com.docker.compose.project=$PGDOCK_PROJECT" \
    ${1:+--filter "label=com.docker.compose.service=$1"}
}

# Compose v2 (`docker compose`) when present, else docker-compose (1.29 here).
# PGDOCK_COMPOSE_OVERRIDE: a file of yours merged over the stack (your
# settings for `make up`; paths in it are relative to the stack's directory).
compose() {
  local files=(-f "$PGDOCK_COMPOSE_FILE")
  [ -z "${PGDOCK_COMPOSE_OVERRIDE:-}" ] || files+=(-f "$PGDOCK_COMPOSE_OVERRIDE")
  if docker compose version >/dev/null 2>&1; then
    docker compose -p "$PGDOCK_PROJECT" "${files[@]}" "$@"
  else
    docker-compose -p "$PGDOCK_PROJECT" "${files[@]}" "$@"
  fi
}

# Fails, saying who holds it, when anything listens on TCP port $1 on any
# address (IPv4 or IPv6): PostgreSQL would then bind only some addresses and
# 127.0.0.1 could reach the other program.
port_free() { # port
  local held
  held=$(ss -Hltnp "( sport = :$1 )" 2>/dev/null || true)
  if [ -n "$held" ]; then
    echo "up: port $1 is already in use; pick another (make up UP_PORT=… for PostgreSQL) or stop what holds it:" >&2
    echo "$held" | awk '{print "  " $4 "  " $6}' >&2
    return 1
  fi
}

# A digest of the binaries the postgres image is built from (recorded by
# image.sh), so `make up` rebuilds the image after a code change.
binaries_digest() { # bin-dir
  (cd "$1" && cat pgdock-entrypoint pgdock-healthcheck pgdock-plugins 2>/dev/null | sha256sum | cut -c1-64)
}
