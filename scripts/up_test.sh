#!/usr/bin/env bash
# Tests of `make up` / `make status` / `make down` (scripts/up.sh, status.sh,
# down.sh) for the defects a new user hit (issue 6, item 14):
#   - a port already taken fails `up` clearly, in host and container mode,
#     instead of reporting success while 127.0.0.1 reaches the other program;
#   - `status` exits non-zero when nothing runs (3) or it is unhealthy (1);
#   - `up` appends to the entrypoint log instead of overwriting it;
#   - `up` is idempotent.
# Host mode needs PostgreSQL 15 and `make build`; container mode's case needs
# a Docker Engine (skipped without one unless PGDOCK_TEST_REQUIRE=1).
#
#   scripts/up_test.sh <bin dir>
set -uo pipefail
cd "$(dirname "$0")/.."
bin=$(cd "${1:-bin}" && pwd)
run=$(mktemp -d /tmp/pgdock-up-test.XXXXXX)
chmod 755 "$run"
export PGDOCK_PROJECT=pgdockuptest$$
fails=0 listener=
cleanup() {
  [ -z "$listener" ] || kill "$listener" 2>/dev/null
  ./scripts/down.sh "$run" purge >/dev/null 2>&1
  rm -rf "$run"
}
trap cleanup EXIT

ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# Holds TCP port $1 on 0.0.0.0 only (IPv4): PostgreSQL with
# listen_addresses='*' would still start, on IPv6 alone.
hold_port() {
  python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(); time.sleep(600)' "$1" &
  listener=$!
  for _ in $(seq 1 100); do
    ss -Hltn "( sport = :$1 )" | grep -q . && return 0
    sleep 0.05
  done
  echo "could not hold port $1" >&2
  exit 1
}
release_port() { kill "$listener" 2>/dev/null; wait "$listener" 2>/dev/null; listener=; }

# 1. status with nothing running: exit 3.
./scripts/status.sh "$run" "$bin" >/dev/null 2>&1
rc=$?
[ $rc -eq 3 ] && ok "status, nothing running: exit 3" || fail "status, nothing running: exit $rc, want 3"

# 2. host mode, port taken on 0.0.0.0: up fails, names the port, starts nothing.
port=$(free_port)
hold_port "$port"
out=$(./scripts/up.sh "$run" "$bin" "$port" host 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -q "port $port is already in use" <<<"$out" && [ ! -s "$run/entrypoint.pid" ]; then
  ok "host mode, port taken: up fails clearly"
else
  fail "host mode, port taken: exit $rc, output: $out"
fi

# 3. container mode, port taken: up fails before starting a container.
if docker info >/dev/null 2>&1; then
  out=$(./scripts/up.sh "$run" "$bin" "$port" container 2>&1)
  rc=$?
  n=$(docker ps -aq --filter "label=com.docker.compose.project=$PGDOCK_PROJECT" | wc -l)
  if [ $rc -ne 0 ] && grep -q "port $port is already in use" <<<"$out" && [ "$n" -eq 0 ]; then
    ok "container mode, port taken: up fails clearly"
  else
    fail "container mode, port taken: exit $rc, $n containers, output: $out"
  fi
  release_port
  # 3b. the stack exists but is stopped (after a reboot, say): its containers
  # hold no port, so a taken port must still fail `up` clearly.
  export PGDOCK_PROMETHEUS_PORT=$(free_port)
  if out=$(./scripts/up.sh "$run" "$bin" "$port" container 2>&1); then
    docker stop $(docker ps -q --filter "label=com.docker.compose.project=$PGDOCK_PROJECT") >/dev/null
    hold_port "$port"
    out=$(./scripts/up.sh "$run" "$bin" "$port" container 2>&1)
    rc=$?
    if [ $rc -ne 0 ] && grep -q "port $port is already in use" <<<"$out"; then
      ok "container mode, stopped stack, port taken: up fails clearly"
    else
      fail "container mode, stopped stack, port taken: exit $rc, output: $out"
    fi
  else
    fail "container mode up: $out"
  fi
  ./scripts/down.sh "$run" purge >/dev/null 2>&1
elif [ "${PGDOCK_TEST_REQUIRE:-}" = 1 ]; then
  fail "container mode: no Docker Engine (PGDOCK_TEST_REQUIRE=1)"
else
  echo "skip container mode: no Docker Engine"
fi
release_port

# 4. host mode up, twice (idempotent), then status healthy.
if ./scripts/up.sh "$run" "$bin" "$port" host >/dev/null 2>&1 && ./scripts/up.sh "$run" "$bin" "$port" host >/dev/null 2>&1; then
  ok "host mode up, twice"
else
  fail "host mode up: $(tail -n 20 "$run/entrypoint.log" 2>/dev/null)"
fi
PGDOCK_PROJECT=none ./scripts/status.sh "$run" "$bin" >/dev/null 2>&1
rc=$?
[ $rc -eq 0 ] && ok "status, healthy: exit 0" || fail "status, healthy: exit $rc"

# 5. status while the server does not answer: exit 1.
pm=$(head -n 1 "$run/data/postmaster.pid" 2>/dev/null)
if [ -n "$pm" ]; then
  kill -STOP "$pm"
  PGDOCK_HEALTHCHECK_TIMEOUT=1s PGDOCK_PROJECT=none ./scripts/status.sh "$run" "$bin" >/dev/null 2>&1
  rc=$?
  kill -CONT "$pm"
  [ $rc -eq 1 ] && ok "status, server not answering: exit 1" || fail "status, server not answering: exit $rc, want 1"
else
  fail "no postmaster.pid"
fi

# 6. down, up again: the log keeps both starts.
./scripts/down.sh "$run" >/dev/null 2>&1
./scripts/up.sh "$run" "$bin" "$port" host >/dev/null 2>&1
starts=$(grep -c '^==== make up' "$run/entrypoint.log")
readies=$(grep -c 'PostgreSQL is ready' "$run/entrypoint.log")
if [ "$starts" -eq 2 ] && [ "$readies" -eq 2 ]; then
  ok "log appended: 2 starts, 2 ready lines"
else
  fail "log: $starts start headers and $readies ready lines, want 2 and 2"
fi
./scripts/down.sh "$run" >/dev/null 2>&1

if [ $fails -gt 0 ]; then
  echo "up_test: $fails failed"
  exit 1
fi
echo "up_test: all passed"
