#!/usr/bin/env bash
# Starts pgdock-entrypoint in the background on this host, with everything
# under <run dir>, waits until PostgreSQL is ready and prints how to connect.
set -euo pipefail
run=$1 bin=$2 port=$3
mkdir -p "$run"
chmod 755 "$run"
if [ -f "$run/entrypoint.pid" ] && kill -0 "$(cat "$run/entrypoint.pid")" 2>/dev/null; then
  echo "pgdock is already running (pid $(cat "$run/entrypoint.pid")); make down stops it"
  exit 0
fi
# A generated password, kept in a private file; never on a command line.
if [ ! -s "$run/password" ]; then
  (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$run/password")
fi
mkdir -p "$run/initdb.d" "$run/conf"
export PGDATA="$run/data" PGPORT="$port" \
  POSTGRESQL_UNIX_SOCKET_DIRECTORIES="$run/sock" PGDOCK_STATE_DIR="$run/state" \
  PGDOCK_INITDB_DIR="$run/initdb.d" PGCONFIG="$run/conf" PGDOCK_PLUGIN_DIR="$bin/plugins" \
  POSTGRES_PASSWORD_FILE="$run/password"
unset POSTGRES_PASSWORD
nohup "$bin/pgdock-entrypoint" > "$run/entrypoint.log" 2>&1 < /dev/null &
echo $! > "$run/entrypoint.pid"
for _ in $(seq 1 600); do
  if grep -q "PostgreSQL is ready" "$run/entrypoint.log"; then
    cat <<MSG
pgdock is running (pid $(cat "$run/entrypoint.pid")), data in $run/data, log in $run/entrypoint.log

  connect:  PGPASSWORD="\$(cat $run/password)" psql -h 127.0.0.1 -p $port -U postgres
  health:   $bin/pgdock-healthcheck --state-dir $run/state
  stop:     make down
MSG
    exit 0
  fi
  if ! kill -0 "$(cat "$run/entrypoint.pid")" 2>/dev/null; then
    echo "pgdock-entrypoint exited; its log:" >&2
    cat "$run/entrypoint.log" >&2
    exit 1
  fi
  sleep 0.1
done
echo "PostgreSQL did not become ready in 60 s; see $run/entrypoint.log" >&2
exit 1
