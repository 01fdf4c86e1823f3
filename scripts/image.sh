#!/usr/bin/env bash
# Builds pgdock's container images from docker/*/Dockerfile:
#   pgdock/postgres:<major>     PostgreSQL <major> + pgdock (needs `make build` first)
#   pgdock/etcd, pgdock/prometheus, pgdock/postgres-exporter   from Debian packages
# on a Debian base: debian:<release>-slim where a registry is reachable, else
# pgdock/debian:<release> built once offline (image-base.sh). The postgres
# image's release follows PG_MAJOR (table below); the others use bookworm.
#
#   scripts/image.sh <bin dir> [image ...]      images: postgres etcd prometheus postgres-exporter (default: all)
#
# Environment:
#   PG_MAJOR         13, 15 (default), 17 or 18: which pgdock/postgres to build
#   BASE_IMAGE       force a base image (for the postgres image: one of PG_MAJOR's release)
#   CITUS_VERSION    e.g. 13.0: Citus from packagecloud citusdata (default none)
#   PG_STAT_MONITOR  true: pg_stat_monitor from Percona's repository (default false)
# An unchanged image is not rebuilt: every step hits the builder's cache
# (seconds); the context's mtimes are fixed for that.
# Progress on stderr; sizes at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
. ./scripts/lib.sh
bin=$(cd "$1" && pwd)
shift
images=("$@")
[ ${#images[@]} -gt 0 ] || images=(postgres etcd prometheus postgres-exporter)
prefix=pgdock # the compose files' defaults and make up expect these names

if ! docker info >/dev/null 2>&1; then
  echo "image: no Docker Engine reachable (docker info failed)" >&2
  exit 1
fi

# The one table of what differs per major at build time (the runtime facts
# are in entrypoint/internal/pgversion; docs/images.md shows both):
# major → Debian release, PGDATA, declared volume, and whether Debian's
# server has output_plugin_libraries (a Debian-only parameter: then the image
# allows decoderbufs in it; check_postgres fails if this table is wrong).
# From 18 the official image's layout: PGDATA=/var/lib/postgresql/18/docker,
# VOLUME /var/lib/postgresql.
major=${PG_MAJOR:-15}
opl=pgoutput,test_decoding,decoderbufs
case $major in
  13) release=bullseye pgdata=/var/lib/postgresql/data volume=/var/lib/postgresql/data opl= ;;
  15) release=bookworm pgdata=/var/lib/postgresql/data volume=/var/lib/postgresql/data ;;
  17) release=trixie pgdata=/var/lib/postgresql/data volume=/var/lib/postgresql/data ;;
  18) release=sid pgdata=/var/lib/postgresql/18/docker volume=/var/lib/postgresql ;;
  *) echo "image: PG_MAJOR=$major is not one of 13, 15, 17, 18" >&2; exit 1 ;;
esac
case ${PG_STAT_MONITOR:-false} in
  true | false) ;;
  *) echo "image: PG_STAT_MONITOR=$PG_STAT_MONITOR: true or false" >&2; exit 1 ;;
esac
[[ ${CITUS_VERSION:-} =~ ^([0-9]+\.[0-9]+)?$ ]] || {
  echo "image: CITUS_VERSION=$CITUS_VERSION: a Citus major.minor such as 13.0, or empty" >&2
  exit 1
}

base_of() { # image: prints its base (BASE_IMAGE when set)
  local r=bookworm
  [ "$1" != postgres ] || r=$release
  ./scripts/image-base.sh "$r"
}

# Engine 20.10 without the buildx plugin cannot use BuildKit; the Dockerfiles
# use only syntax the legacy builder knows, so either builder works.
if [ -z "${DOCKER_BUILDKIT:-}" ] && ! docker buildx version >/dev/null 2>&1; then
  export DOCKER_BUILDKIT=0
fi

tag_of() {
  case $1 in
    postgres) echo "$prefix/postgres:$major" ;;
    *) echo "$prefix/$1:latest" ;;
  esac
}

# Stages the postgres image's build context under bin/image/postgres/root:
# the two binaries, the official script names (docker/rootfs), the plugin
# names as hard links to one pgdock-plugins binary and their SHA256SUMS.
# Modes are set here (COPY keeps them and makes everything root-owned), and
# checked here, before the build.
stage_postgres() {
  local ctx=$bin/image/postgres-$major # one per major: builds of two majors may run at once
  local root=$ctx/root
  local plugins=$root/usr/lib/pgdock/plugins
  for f in pgdock-entrypoint pgdock-healthcheck pgdock-plugins; do
    [ -x "$bin/$f" ] || { echo "image: $bin/$f missing; run make build" >&2; exit 1; }
  done
  rm -rf "$ctx"
  mkdir -p "$root/usr/local/bin" "$plugins"
  cp -a docker/rootfs/. "$root/"
  install -m 0755 "$bin/pgdock-entrypoint" "$bin/pgdock-healthcheck" "$root/usr/local/bin/"
  local names first=""
  names=$("$bin/pgdock-plugins" list)
  [ -n "$names" ] || { echo "image: pgdock-plugins lists no plugin" >&2; exit 1; }
  for n in $names; do
    if [ -z "$first" ]; then
      install -m 0755 "$bin/pgdock-plugins" "$plugins/pgdock-plugin-$n"
      first=$n
    else
      ln "$plugins/pgdock-plugin-$first" "$plugins/pgdock-plugin-$n"
    fi
  done
  (cd "$plugins" && sha256sum pgdock-plugin-* > SHA256SUMS && chmod 0644 SHA256SUMS)
  find "$ctx" -type d -exec chmod 0755 {} +
  chmod -R go-w "$ctx"
  local bad
  bad=$(find "$root" ! -type l -perm /022 -print)
  [ -z "$bad" ] || { echo "image: writable by group or others: $bad" >&2; exit 1; }
  # The legacy builder's cache key includes mtimes: keep them fixed so an
  # unchanged binary never rebuilds the layer.
  find "$ctx" -exec touch -h -d @0 {} +
  echo "$ctx"
}

# What the built postgres image must hold; fails the build otherwise.
check_postgres() { # tag
  docker run --rm --entrypoint /bin/bash "$1" -ec '
    cd /usr/lib/pgdock/plugins
    sha256sum --check --quiet SHA256SUMS
    bad=$(find /usr/lib/pgdock \( ! -user root -o ! -group root -o -perm /022 \) -print)
    [ -z "$bad" ] || { echo "not root-owned or writable by others: $bad" >&2; exit 1; }
    [ "$(id -u postgres):$(id -g postgres)" = 999:999 ]
    [ "$(stat -c %a /var/run/postgresql /run/pgdock)" = "3777
3777" ]
    pgdock-entrypoint version >/dev/null
    pgdock-healthcheck --help >/dev/null 2>&1 || [ $? -le 2 ]
    v=$(postgres --version)
    case $v in "postgres (PostgreSQL) $PG_MAJOR."*) ;; *) echo "postgres --version: $v; want $PG_MAJOR" >&2; exit 1 ;; esac
    [ "$(ls /usr/lib/postgresql)" = "$PG_MAJOR" ]
    [ -e "/usr/lib/postgresql/$PG_MAJOR/lib/llvmjit.so" ] || { echo "no JIT (llvmjit.so)" >&2; exit 1; }
    [ "$PGDATA" = "$1" ] && [ -d "$PGDATA" ] && [ "$(stat -c %a "$PGDATA")" = 1777 ]
    locale -a | grep -qx en_US.utf8
    if postgres --describe-config | grep -q "^output_plugin_libraries[[:space:]]"; then
      [ -n "${POSTGRESQL_CONFIG_OUTPUT_PLUGIN_LIBRARIES:-}" ] || { echo "this server has output_plugin_libraries: set opl for PG_MAJOR=$PG_MAJOR in scripts/image.sh" >&2; exit 1; }
    else
      [ -z "${POSTGRESQL_CONFIG_OUTPUT_PLUGIN_LIBRARIES:-}" ] || { echo "this server has no output_plugin_libraries: empty opl for PG_MAJOR=$PG_MAJOR in scripts/image.sh" >&2; exit 1; }
    fi
  ' check "$pgdata" >&2
}

for img in "${images[@]}"; do
  [ -f "docker/$img/Dockerfile" ] || { echo "image: no docker/$img/Dockerfile" >&2; exit 1; }
  tag=$(tag_of "$img")
  ctx=docker/$img
  args=()
  if [ "$img" = postgres ]; then
    # One build of a major at a time (its staged context is shared): a
    # second `make image` of the same major waits, then hits the cache.
    mkdir -p "$bin/image"
    exec 9>"$bin/image/postgres-$major.lock"
    flock 9
    ctx=$(stage_postgres)
    args=(--build-arg "PG_MAJOR=$major" --build-arg "PGDATA_DIR=$pgdata" --build-arg "VOLUME_DIR=$volume"
      --build-arg "OUTPUT_PLUGIN_LIBRARIES=$opl")
    [ -z "${CITUS_VERSION:-}" ] || args+=(--build-arg "CITUS_VERSION=$CITUS_VERSION")
    [ "${PG_STAT_MONITOR:-false}" = false ] || args+=(--build-arg "PG_STAT_MONITOR=true")
  fi
  base=$(base_of "$img")
  start=$(date +%s.%N)
  echo "image: building $tag on $base" >&2
  # -q hides the log; on failure the build is run again with it, from the
  # cache up to the failing step, so the error is shown.
  if ! docker build -q -f "docker/$img/Dockerfile" --build-arg "BASE_IMAGE=$base" "${args[@]}" \
    -t "$tag" "$ctx" >/dev/null; then
    docker build -f "docker/$img/Dockerfile" --build-arg "BASE_IMAGE=$base" "${args[@]}" \
      -t "$tag" "$ctx" 2>&1 | tail -n 40 >&2
    echo "image: building $tag failed" >&2
    exit 1
  fi
  if [ "$img" = postgres ]; then
    check_postgres "$tag"
    # For `make up`: which binaries this image holds (postgres.built: the
    # default major, which make up runs).
    marker=$bin/image/postgres-$major.built
    echo "$(docker image inspect -f '{{.Id}}' "$tag") $(binaries_digest "$bin")" > "$marker"
    [ "$major" != 15 ] || cp "$marker" "$bin/image/postgres.built"
  fi
  awk -v t="$tag" -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "image: built %s in %.1f s\n", t, e - s }' >&2
done

echo >&2
for img in "${images[@]}"; do
  docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' "$(tag_of "$img")" >&2
done
